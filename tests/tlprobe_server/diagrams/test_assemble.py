"""Assembling a diagram from the plan recorded at submission: cells filled from their parts, failed
parts reported per cell, a missing result never invented."""

import json

import pytest

from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server import result_store
from tlprobe_server.diagrams.assemble import assemble, gather

DIAGRAM = PhaseDiagramRequest.model_validate({"x_axis": {"name": "alpha", "values": [0.5, 2.0]},
                                              "y_axis": {"name": "feature_noise", "values": [0.0, 0.5]}})


def theory_part(errors: dict[str, list[float]]) -> dict:
    """A learning-curve result as a theory part returns it (two alphas)."""
    return {"source_test_error": 0.07, "curves": {p: {"theory": {"test_error": e, "converged": [True, True],
                                                                 "status": ["converged"] * 2}, "simulation": None}
                                                  for p, e in errors.items()}}


RECORD = {"networks": ["net-n"], "cells": 4, "parts": [
    {"job_id": "lc-a", "role": "theory", "cells": [[0, 0, 0], [1, 0, 1]]},
    {"job_id": "lc-b", "role": "theory", "cells": [[0, 1, 0], [1, 1, 1]]}]}


def test_cells_come_from_the_recorded_parts():
    found = [theory_part({"tf": [0.1, 0.05], "rf": [0.3, 0.2]}), theory_part({"tf": [0.2, 0.15], "rf": [0.25, 0.1]})]
    diagram = assemble(DIAGRAM, RECORD, found, [None, None])
    assert diagram["theory"]["tf"] == [[0.1, 0.05], [0.2, 0.15]]
    assert diagram["gain"] == [[pytest.approx(0.2), pytest.approx(0.15)], [pytest.approx(0.05), pytest.approx(-0.05)]]
    assert diagram["boundary"][1]["crossings"] == [pytest.approx(1.25)]  # 0.05 -> -0.05 halfway between 0.5 and 2
    assert diagram["complete"] and diagram["source_test_error"] == 0.07 and diagram["meta"]["parts"] == 2
    assert diagram["source_test_errors"] == [[0.07, 0.07], [0.07, 0.07]]


def test_a_failed_part_marks_its_cells_and_nothing_is_made_up(redis):
    result_store.put(redis, "lc-a", json.dumps(theory_part({"tf": [0.1, 0.05], "rf": [0.3, 0.2]})), ttl=60)
    stages = []
    diagram = gather(redis, DIAGRAM, RECORD, lambda stage, done, total: stages.append((stage, done, total)))
    assert diagram["gain"][1] == [None, None] and diagram["gain"][0] == [pytest.approx(0.2), pytest.approx(0.15)]
    assert not diagram["complete"]
    assert [(f["x_index"], f["y_index"], f["reason"]) for f in diagram["failures"]] == [
        (0, 1, "theory part failed: result missing"), (1, 1, "theory part failed: result missing")]
    assert diagram["source_test_errors"] == [[0.07, 0.07], [None, None]] and stages[-1] == ("assemble", 2, 2)
