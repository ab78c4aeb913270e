"""Tables of results: a phase diagram as tidy CSV (one row per cell and protocol)."""

from __future__ import annotations

import csv
import io

CSV_COLUMNS = ["x_name", "x", "y_name", "y", "protocol", "theory_test_error", "simulation_test_error_mean",
               "simulation_test_error_sem", "gain", "failed"]


def tidy_csv(result: dict) -> str:
    """One row per cell and protocol."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    failed = {(f["x_index"], f["y_index"]) for f in result["failures"]}
    theory, sim, sem = result["theory"] or {}, result["simulation"] or {}, result["test_error_sem"] or {}
    for yi, y in enumerate(result["y_axis"]["values"]):
        for xi, x in enumerate(result["x_axis"]["values"]):
            for protocol in result["protocols"]:
                values = [grids[protocol][yi][xi] if protocol in grids else None for grids in (theory, sim, sem)]
                writer.writerow([result["x_axis"]["name"], x, result["y_axis"]["name"], y, protocol,
                                 *map(_cell, values), _cell(result["gain"][yi][xi]), (xi, yi) in failed])
    return out.getvalue()


def _cell(value) -> str:
    return "" if value is None else repr(float(value))
