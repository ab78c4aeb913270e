"""Tidy rows of results: flat dicts with the same keys in every row, one row per protocol, alpha and
method (learning curves), per cell and protocol (phase diagrams), per point (GCM).

They drop straight into ``csv.DictWriter`` or ``pandas.DataFrame``. The service's CSV, the client's
``rows()`` and ``to_pandas()`` and the command line's ``--format csv`` are all made here, from result
JSON (dicts), so that a column is defined once; each kind names its rows in ``tlprobe.kinds``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

Row = dict[str, Any]

LEARNING_CURVE_COLUMNS = ["protocol", "alpha", "method", "test_error", "test_error_uncertainty", "train_error",
                          "train_loss", "regularisation", "n_samples", "converged", "status"]
PHASE_DIAGRAM_COLUMNS = ["x_name", "x", "y_name", "y", "protocol", "theory_test_error", "simulation_test_error_mean",
                         "simulation_test_error_sem", "gaussian_equivalent_test_error", "gain", "failed"]
GCM_COLUMNS = ["sample_complexity", "regularisation", "regularisation_at_bound", "test_error", "train_loss",
               "converged", "status", "iterations", "residual"]
SOURCE_NETWORK_COLUMNS = ["source_test_error", "source_train_error", "source_train_loss"]
DIAGRAM_TILE_COLUMNS = ["job_id", "computed", "error"]


def _at(values: list | None, index: int) -> Any:
    return None if values is None else values[index]


def learning_curve_rows(result: dict[str, Any]) -> list[Row]:
    """Per protocol, alpha and method. ``method`` is ``theory`` (test_error_uncertainty: the Monte
    Carlo error of tf/rf, else null) or ``simulation`` (the mean over seeds; test_error_uncertainty:
    its standard error)."""
    rows = []
    for protocol, curve in result["curves"].items():
        theory, simulation = curve.get("theory"), curve.get("simulation")
        for i, alpha in enumerate(result["alphas"]):
            if theory is not None:
                rows.append({"protocol": protocol, "alpha": alpha, "method": "theory",
                             "test_error": theory["test_error"][i],
                             "test_error_uncertainty": _at(theory.get("test_error_mc_error"), i),
                             "train_error": None, "train_loss": theory["train_loss"][i],
                             "regularisation": theory["regularisation"][i], "n_samples": None,
                             "converged": theory["converged"][i], "status": theory["status"][i]})
            if simulation is not None:
                rows.append({"protocol": protocol, "alpha": alpha, "method": "simulation",
                             "test_error": simulation["test_error_mean"][i],
                             "test_error_uncertainty": simulation["test_error_sem"][i],
                             "train_error": simulation["train_error_mean"][i],
                             "train_loss": _at(simulation.get("train_loss_mean"), i),
                             "regularisation": _at(simulation.get("regularisation"), i),
                             "n_samples": simulation["n_samples"][i],
                             "converged": simulation["optimiser_converged"][i], "status": None})
    return rows


def phase_diagram_rows(result: dict[str, Any]) -> list[Row]:
    """Per cell and protocol (grids are [y][x]); ``failed`` marks cells whose part failed."""
    failed = {(f["x_index"], f["y_index"]) for f in result["failures"]}
    theory, simulation, sem = result["theory"] or {}, result["simulation"] or {}, result["test_error_sem"] or {}
    equivalent = result.get("gaussian_equivalent") or {}  # on datasets: the approximation, beside the simulation
    rows = []
    for yi, y in enumerate(result["y_axis"]["values"]):
        for xi, x in enumerate(result["x_axis"]["values"]):
            for protocol in result["protocols"]:
                cells = [grids[protocol][yi][xi] if protocol in grids else None for grids in
                         (theory, simulation, sem, equivalent)]
                rows.append(dict(zip(PHASE_DIAGRAM_COLUMNS, [result["x_axis"]["name"], x, result["y_axis"]["name"], y,
                                                             protocol, *cells, result["gain"][yi][xi],
                                                             (xi, yi) in failed])))
    return rows


def gcm_rows(result: dict[str, Any]) -> list[Row]:
    """Per sample complexity alpha = n / p."""
    return [{name: result[name][i] for name in GCM_COLUMNS} for i in range(len(result["sample_complexity"]))]


def source_network_rows(result: dict[str, Any]) -> list[Row]:
    return [{name: result[name] for name in SOURCE_NETWORK_COLUMNS}]


def diagram_tile_rows(result: dict[str, Any]) -> list[Row]:
    """Per curve of the tile: its learning-curve id, whether the tile computed it, why it has no result."""
    return [{name: curve[name] for name in DIAGRAM_TILE_COLUMNS} for curve in result["curves"]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_csv(rows: list[Row], columns: list[str]) -> str:
    """CSV text with a header: empty cells for null, floats at full precision (repr)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[name]) for name in columns] for row in rows)
    return out.getvalue()
