"""Assembling a phase diagram from its parts' learning-curve results.

Runs in a worker, as the diagram job itself, once every part has ended. Which parts exist, their
roles and the cells each one fills come from the plan recorded at submission (the job's meta), never
from planning again. A part that failed or whose result is missing marks its cells as failed with
the reason; nothing is made up.
"""

from __future__ import annotations

from typing import Any, Callable

from redis import Redis

from tlprobe.contract.common import READOUT_PROTOCOLS
from tlprobe.contract.phase_diagram import AxisName, PhaseDiagramRequest

from .. import result_store
from ..job_views import failure_reason, fetch_job
from .gain import boundary, gain_grid

ProgressFn = Callable[[str, int, int], None]


def gather(redis: Redis, request: PhaseDiagramRequest, record: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Read every part's result (or why it has none) and assemble the diagram; ``record`` is the
    plan as submitted (``diagrams.submit``)."""
    parts = record["parts"]
    found, errors = [], []
    for index, part in enumerate(parts):
        progress("assemble", index, len(parts))
        result = result_store.get(redis, part["job_id"])
        found.append(result)
        job = None if result is not None else fetch_job(redis, part["job_id"])
        errors.append(None if result is not None else (failure_reason(job) if job is not None else "result missing"))
    progress("assemble", len(parts), len(parts))
    return assemble(request, record, found, errors)


def _empty(request: PhaseDiagramRequest) -> list[list[Any]]:
    return [[None] * len(request.x_axis.values) for _ in request.y_axis.values]


def assemble(request: PhaseDiagramRequest, record: dict[str, Any], found: list[dict | None],
             errors: list[str | None]) -> dict[str, Any]:
    protocols = [p.value for p in request.all_protocols]
    readout = [p for p in protocols if p in [q.value for q in READOUT_PROTOCOLS]]
    theory = {p: _empty(request) for p in readout}
    # on datasets the theory parts solve the Gaussian-equivalent model: its own grid, never the gain basis
    equivalent = {p: _empty(request) for p in readout}
    sim_mean = {p: _empty(request) for p in protocols}
    sim_sem = {p: _empty(request) for p in protocols}
    source_errors = _empty(request)
    reasons: dict[tuple[int, int], str] = {}
    for part, result, error in zip(record["parts"], found, errors):
        role = part["role"]
        for xi, yi, ai in part["cells"]:
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
