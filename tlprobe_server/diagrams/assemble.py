"""Assembling a phase diagram from its parts' learning-curve results.

Runs in a worker, as the diagram job itself, once every part has ended. Which parts exist, their
kinds, roles and the cells each one fills come from the plan recorded at submission (the job's meta),
never from planning again. A part is a learning curve (its result is under its own id) or a tile of
curves (its result lists the curves' ids; each curve's result is under its own id). A part that failed,
a curve the tile could not compute, or a result that is missing marks its cells as failed with the
reason; nothing is made up. Parts are read one at a time (a 100 x 100 diagram's curves are not all
held at once).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator

from redis import Redis

from tlprobe.contract.common import READOUT_PROTOCOLS
from tlprobe.contract.phase_diagram import AxisName, PhaseDiagramRequest

from .. import keys, result_store
from ..job_views import failure_reason, fetch_job
from .gain import boundary, gain_grid

ProgressFn = Callable[[str, int, int], None]
#: per curve of a part: its learning-curve result, or None and why it has none
Curves = list[tuple[dict | None, str | None]]


def _why_missing(redis: Redis, job_id: str) -> str:
    job = fetch_job(redis, job_id)
    return failure_reason(job) if job is not None else "result missing"


def read_part(redis: Redis, part: dict[str, Any]) -> Curves:
    """The results of a part's curves, in the part's curve order."""
    result = result_store.get(redis, part["job_id"])
    if result is None:
        count = 1 + max((cell[2] for cell in part["cells"] if len(cell) == 4), default=0)
        return [(None, _why_missing(redis, part["job_id"]))] * count
    if part.get("kind", "learning_curve") == "learning_curve":
        return [(result, None)]
    curves = result["curves"]
    raw = redis.mget([keys.result(curve["job_id"]) for curve in curves])
    return [(json.loads(data), None) if data is not None else (None, curve["error"] or "result missing")
            for curve, data in zip(curves, raw)]


def gather(redis: Redis, request: PhaseDiagramRequest, record: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Read every part's results (or why they are missing) and assemble the diagram; ``record`` is the
    plan as submitted (``diagrams.fan_out``)."""
    parts = record["parts"]

    def found() -> Iterator[Curves]:
        for index, part in enumerate(parts):
            progress("assemble", index, len(parts))
            yield read_part(redis, part)

    diagram = assemble(request, record, found())
    progress("assemble", len(parts), len(parts))
    return diagram


def _empty(request: PhaseDiagramRequest) -> list[list[Any]]:
    return [[None] * len(request.x_axis.values) for _ in request.y_axis.values]


def assemble(request: PhaseDiagramRequest, record: dict[str, Any], found: Iterable[Curves]) -> dict[str, Any]:
    """``found``: per recorded part, its curves' results (``read_part``)."""
    protocols = [p.value for p in request.all_protocols]
    readout = [p for p in protocols if p in [q.value for q in READOUT_PROTOCOLS]]
    theory = {p: _empty(request) for p in readout}
    # on datasets the theory parts solve the Gaussian-equivalent model: its own grid, never the gain basis
    equivalent = {p: _empty(request) for p in readout}
    sim_mean = {p: _empty(request) for p in protocols}
    sim_sem = {p: _empty(request) for p in protocols}
    source_errors = _empty(request)
    reasons: dict[tuple[int, int], str] = {}
    for part, curves in zip(record["parts"], found):
        role = part["role"]
        for cell in part["cells"]:
            # (x, y, curve, alpha); a record written before tiles has (x, y, alpha) with one curve per part
            xi, yi, ci, ai = cell if len(cell) == 4 else (cell[0], cell[1], 0, cell[2])
            result, error = curves[ci]
            if result is None:
                reasons.setdefault((xi, yi), f"{role} part failed: {error}")
                continue
            for protocol in protocols:
                curve = result["curves"].get(protocol)
                if curve is None:
                    continue
                if role == "theory" and curve.get("gaussian_equivalent") is not None:
                    ge = curve["gaussian_equivalent"]
                    equivalent[protocol][yi][xi] = ge["test_error"][ai] if ge["converged"][ai] else None
                if role == "theory" and curve["theory"] is not None:
                    th = curve["theory"]
                    theory[protocol][yi][xi] = th["test_error"][ai] if th["converged"][ai] else None
                    if not th["converged"][ai] and protocol in ("tf", request.baseline.value):
                        reasons.setdefault((xi, yi), f"theory of {protocol} did not converge: {th['status'][ai]}")
                if role == "simulation" and curve["simulation"] is not None:
                    sim_mean[protocol][yi][xi] = curve["simulation"]["test_error_mean"][ai]
                    sim_sem[protocol][yi][xi] = curve["simulation"]["test_error_sem"][ai]
            source_errors[yi][xi] = result["source_test_error"]
    basis = request.gain_basis
    values = theory if basis == "theory" else sim_mean
    gain = gain_grid(values[request.baseline.value], values["tf"])
    failures = [{"x_index": xi, "y_index": yi, "reason": reason} for (xi, yi), reason in sorted(reasons.items())]
    for yi, row in enumerate(gain):
        for xi, g in enumerate(row):
            if g is None and (xi, yi) not in reasons:
                failures.append({"x_index": xi, "y_index": yi, "reason": "no value for tf or the baseline"})
    simulated = request.simulation is not None
    distinct = {e for row in source_errors for e in row if e is not None}
    return {
        "x_axis": request.x_axis.model_dump(mode="json"), "y_axis": request.y_axis.model_dump(mode="json"),
        "alpha": None if AxisName.alpha in (request.x_axis.name, request.y_axis.name) else request.alpha,
        "baseline": request.baseline.value, "gain_basis": basis, "protocols": protocols,
        "tuning": request.tuning.rule.value, "test_error": values, "test_error_sem": sim_sem if basis == "simulation" else None,
        "theory": theory if request.theory is not None and not request.uses_datasets else None,
        "simulation": sim_mean if simulated else None,
        "gaussian_equivalent": equivalent if request.theory is not None and request.uses_datasets else None,
        "gain": gain, "boundary": boundary(request.x_axis.values, request.y_axis.values, gain),
        "failures": failures, "complete": not failures,
        "source_test_error": distinct.pop() if len(distinct) == 1 else None, "source_test_errors": source_errors,
        "meta": {"parts": len(record["parts"]), "cells": record["cells"], "request": request.model_dump(mode="json")},
    }
