"""A diagram's summary for a person: the gain table of a 100 x 100 grid thinned to evenly spaced rows and
columns (every cell is in the CSV), its boundary rows listed up to a number; a small grid in full."""

from tlprobe.summaries import evenly_spaced, phase_diagram_summary
from tlprobe_server.diagrams.gain import boundary


def diagram(xs: list[float], ys: list[float]) -> dict:
    gain = [[round(1 + 2 * y - x, 6) for x in xs] for y in ys]  # crosses zero at x = 1 + 2 y in every row
    return {"x_axis": {"name": "alpha", "values": xs}, "y_axis": {"name": "feature_noise", "values": ys},
            "baseline": "rf", "gain_basis": "theory", "gain": gain, "boundary": boundary(xs, ys, gain), "failures": []}


def test_a_100_by_100_summary_shows_evenly_spaced_rows_and_columns():
    assert evenly_spaced(100, 11) == [0, 10, 20, 30, 40, 50, 59, 69, 79, 89, 99] and evenly_spaced(5, 11) == [0, 1, 2, 3, 4]
    xs, ys = [0.04 * (i + 1) for i in range(100)], [i / 99 for i in range(100)]
    lines = phase_diagram_summary(diagram(xs, ys)).splitlines()
    header, table = lines[1].split(), lines[3:14]
    assert header[3:] == [f"{xs[i]:g}" for i in evenly_spaced(100, 11)] and len(table) == 11
    assert [float(row.split()[0]) for row in table] == [float(f"{ys[i]:g}") for i in evenly_spaced(100, 11)]
    assert float(table[5].split()[7]) == round(1 + 2 * ys[50] - xs[59], 4)  # row 50, column 59
    assert lines[14] == "(11 of 100 rows and 11 of 100 columns shown, evenly spaced; every cell: --format csv)"
    assert lines[15] == "gain = 0 boundary (x values): 20 of 100 rows" and len(lines) == 16 + 20


def test_a_small_summary_shows_every_cell_and_crossing():
    lines = phase_diagram_summary(diagram([0.5, 1.0, 2.0, 4.0], [0.0, 0.5, 1.0])).splitlines()
    assert len(lines) == 1 + 2 + 3 + 1 + 3  # title, header and rule, rows, boundary title and a line per row
    assert lines[6] == "gain = 0 boundary (x values):" and lines[7] == "  feature_noise = 0: alpha = 1"
