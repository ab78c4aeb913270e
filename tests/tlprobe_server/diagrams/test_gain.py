"""Gain grids and the gain = 0 boundary."""

import pytest

from tlprobe_server.diagrams.gain import boundary, crossings, gain_grid


def test_gain_is_baseline_minus_transfer_with_gaps_kept():
    expected = [[pytest.approx(0.2), pytest.approx(-0.05)], [None, None]]
    assert gain_grid([[0.3, 0.2], [None, 0.1]], [[0.1, 0.25], [0.2, None]]) == expected


def test_boundary_of_a_synthetic_grid_with_a_known_sign_change():
    # gain(x, y) = y - x on a grid: the zero line is x = y; crossings interpolate linearly
    xs = [0.0, 1.0, 2.0, 4.0]
    ys = [0.5, 1.5, 3.0]
    grid = [[y - x for x in xs] for y in ys]
    rows = boundary(xs, ys, grid)
    assert [row["y"] for row in rows] == ys
    assert [row["crossings"] for row in rows] == [[pytest.approx(0.5)], [pytest.approx(1.5)], [pytest.approx(3.0)]]


def test_crossings_handle_zeros_gaps_and_several_changes():
    xs = [0, 1, 2, 3, 4, 5]
    assert crossings(xs, [1.0, -1.0, -1.0, 1.0, 1.0, 1.0]) == [0.5, 2.5]
    assert crossings(xs, [1.0, 0.0, -1.0, -2.0, None, 3.0]) == [1.0]  # no crossing invented across the gap
    assert crossings(xs, [0.2, 0.3, 0.1, 0.4, 0.5, 0.6]) == []
    assert crossings([0.25, 1.0], [0.1, -0.3]) == [pytest.approx(0.25 + 0.75 * 0.25)]
