"""Assembling a phase diagram from its parts' learning-curve results (see service/phase_plan.py)."""

from __future__ import annotations

from typing import Any

from service.phase_plan import Plan
from service.schemas.common import READOUT_PROTOCOLS
from service.schemas.phase_diagram import AxisName, PhaseDiagramRequest
from worker.science.phase import boundary, gain_grid


def _empty(request: PhaseDiagramRequest) -> list[list[Any]]:
    return [[None] * len(request.x_axis.values) for _ in request.y_axis.values]


def assemble(request: PhaseDiagramRequest, layout: Plan, results: list[dict | None], errors: list[str | None],
             source_test_error: float | None) -> dict[str, Any]:
    protocols = [p.value for p in request.all_protocols]
    theory = {p: _empty(request) for p in protocols if p in [q.value for q in READOUT_PROTOCOLS]}
    sim_mean = {p: _empty(request) for p in protocols}
    sim_sem = {p: _empty(request) for p in protocols}
    reasons: dict[tuple[int, int], str] = {}
    for part, result, error in zip(layout.parts, results, errors):
        for xi, yi, ai in part.cells:
            if result is None:
                reasons.setdefault((xi, yi), f"{part.role} part failed: {error}")
                continue
            for protocol in protocols:
                curve = result["curves"].get(protocol)
                if curve is None:
                    continue
                if part.role == "theory" and curve["theory"] is not None:
                    th = curve["theory"]
                    theory[protocol][yi][xi] = th["test_error"][ai] if th["converged"][ai] else None
                    if not th["converged"][ai] and protocol in ("tf", request.baseline.value):
                        reasons.setdefault((xi, yi), f"theory of {protocol} did not converge: {th['status'][ai]}")
                if part.role == "simulation" and curve["simulation"] is not None:
                    sim_mean[protocol][yi][xi] = curve["simulation"]["test_error_mean"][ai]
                    sim_sem[protocol][yi][xi] = curve["simulation"]["test_error_sem"][ai]
            if source_test_error is None:
                source_test_error = result["source_test_error"]
    basis = request.gain_basis
    values = theory if basis == "theory" else sim_mean
    gain = gain_grid(values[request.baseline.value], values["tf"])
    failures = [{"x_index": xi, "y_index": yi, "reason": reason} for (xi, yi), reason in sorted(reasons.items())]
    for yi, row in enumerate(gain):
        for xi, g in enumerate(row):
            if g is None and (xi, yi) not in reasons:
                failures.append({"x_index": xi, "y_index": yi, "reason": "no value for tf or the baseline"})
    simulated = request.simulation is not None
    return {
        "x_axis": request.x_axis.model_dump(mode="json"), "y_axis": request.y_axis.model_dump(mode="json"),
        "alpha": None if AxisName.alpha in (request.x_axis.name, request.y_axis.name) else request.alpha,
        "baseline": request.baseline.value, "gain_basis": basis, "protocols": protocols,
        "test_error": values, "test_error_sem": sim_sem if basis == "simulation" else None,
        "theory": theory if request.theory is not None else None, "simulation": sim_mean if simulated else None,
        "gain": gain, "boundary": boundary(request.x_axis.values, request.y_axis.values, gain),
        "failures": failures, "complete": not failures, "source_test_error": source_test_error,
        "meta": {"parts": len(layout.parts), "cells": layout.n_cells, "request": request.model_dump(mode="json")},
    }
