"""Phase-diagram arithmetic (MODEL.md section 5): the gain grid and its zero boundary.

Grids are lists of rows ([y][x]); None marks a cell without a value (a failed cell).
"""

from __future__ import annotations

from typing import Sequence

Grid = list[list[float | None]]


def gain_grid(baseline: Grid, transfer: Grid) -> Grid:
    """Delta = error(baseline) - error(tf): positive where transfer helps."""
    return [[None if b is None or t is None else b - t for b, t in zip(row_b, row_t)]
            for row_b, row_t in zip(baseline, transfer)]


def crossings(x_values: Sequence[float], gains: Sequence[float | None]) -> list[float]:
    """x positions where a row's gain is zero or changes sign between neighbours, by linear
    interpolation. Pairs with a missing value are skipped (no crossing is invented across a gap)."""
    points: list[float] = []
    for i, g in enumerate(gains):
        if g is None:
            continue
        if g == 0.0:
            points.append(float(x_values[i]))
            continue
        if i + 1 < len(gains) and gains[i + 1] is not None and gains[i + 1] != 0.0 and g * gains[i + 1] < 0:
            x0, x1, g1 = x_values[i], x_values[i + 1], gains[i + 1]
            points.append(float(x0 + (x1 - x0) * g / (g - g1)))
    return points


def boundary(x_values: Sequence[float], y_values: Sequence[float], gain: Grid) -> list[dict]:
    """For every row: the x values where Delta = 0."""
    return [{"y_index": j, "y": float(y), "crossings": crossings(x_values, row)}
            for j, (y, row) in enumerate(zip(y_values, gain))]
