"""Assembling a diagram from the plan recorded at submission: cells filled from their parts (learning
curves, or tiles of curves each stored under its own id), failed parts and curves reported per cell,
a missing result never invented."""

import json

import pytest

from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server import result_store
from tlprobe_server.diagrams.assemble import assemble, gather

DIAGRAM = PhaseDiagramRequest.model_validate({"x_axis": {"name": "alpha", "values": [0.5, 2.0]},
                                              "y_axis": {"name": "feature_noise", "values": [0.0, 0.5]}})


def theory_part(errors: dict[str, list[float]], source_error: float = 0.07) -> dict:
    """A learning-curve result as a theory part returns it (one alpha per error given)."""
    n = len(next(iter(errors.values())))
    return {"source_test_error": source_error,
            "curves": {p: {"theory": {"test_error": e, "converged": [True] * n, "status": ["converged"] * n},
                           "simulation": None} for p, e in errors.items()}}


RECORD = {"networks": ["net-n"], "cells": 4, "parts": [
    {"job_id": "lc-a", "kind": "learning_curve", "role": "theory", "cells": [[0, 0, 0, 0], [1, 0, 0, 1]]},
    {"job_id": "lc-b", "kind": "learning_curve", "role": "theory", "cells": [[0, 1, 0, 0], [1, 1, 0, 1]]}]}


def record(x: int, y: int, cells: int) -> dict:
    """A (feature_noise x teacher_noise) diagram at a fixed alpha as two tiles of one-cell curves:
    the first y // 2 rows in the first tile, the rest in the second."""
    first = [[xi, yi, yi * x + xi, 0] for yi in range(y // 2) for xi in range(x)]
    second = [[xi, yi, (yi - y // 2) * x + xi, 0] for yi in range(y // 2, y) for xi in range(x)]
    return {"networks": [], "cells": cells, "parts": [
        {"job_id": "tile-1", "kind": "diagram_tile", "role": "theory", "cells": first},
        {"job_id": "tile-2", "kind": "diagram_tile", "role": "theory", "cells": second}]}


def test_cells_come_from_the_recorded_parts():
    found = [[(theory_part({"tf": [0.1, 0.05], "rf": [0.3, 0.2]}), None)],
             [(theory_part({"tf": [0.2, 0.15], "rf": [0.25, 0.1]}), None)]]
    diagram = assemble(DIAGRAM, RECORD, found)
    assert diagram["theory"]["tf"] == [[0.1, 0.05], [0.2, 0.15]]
    assert diagram["gain"] == [[pytest.approx(0.2), pytest.approx(0.15)], [pytest.approx(0.05), pytest.approx(-0.05)]]
    assert diagram["boundary"][1]["crossings"] == [pytest.approx(1.25)]  # 0.05 -> -0.05 halfway between 0.5 and 2
    assert diagram["complete"] and diagram["source_test_error"] == 0.07 and diagram["meta"]["parts"] == 2
    assert diagram["source_test_errors"] == [[0.07, 0.07], [0.07, 0.07]]


def test_a_record_written_before_tiles_is_still_read():
    # (x, y, alpha) cells, no kind: a diagram queued by an API of the previous version
    old = {"networks": ["net-n"], "cells": 4, "parts": [
        {"job_id": "lc-a", "role": "theory", "cells": [[0, 0, 0], [1, 0, 1]]},
        {"job_id": "lc-b", "role": "theory", "cells": [[0, 1, 0], [1, 1, 1]]}]}
    found = [[(theory_part({"tf": [0.1, 0.05], "rf": [0.3, 0.2]}), None)],
             [(theory_part({"tf": [0.2, 0.15], "rf": [0.25, 0.1]}), None)]]
    assert assemble(DIAGRAM, old, found)["theory"]["rf"] == [[0.3, 0.2], [0.25, 0.1]]


def test_a_failed_part_marks_its_cells_and_nothing_is_made_up(redis):
    result_store.put(redis, "lc-a", json.dumps(theory_part({"tf": [0.1, 0.05], "rf": [0.3, 0.2]})), ttl=60)
    stages = []
    diagram = gather(redis, DIAGRAM, RECORD, lambda stage, done, total: stages.append((stage, done, total)))
    assert diagram["gain"][1] == [None, None] and diagram["gain"][0] == [pytest.approx(0.2), pytest.approx(0.15)]
    assert not diagram["complete"]
    assert [(f["x_index"], f["y_index"], f["reason"]) for f in diagram["failures"]] == [
        (0, 1, "theory part failed: result missing"), (1, 1, "theory part failed: result missing")]
    assert diagram["source_test_errors"] == [[0.07, 0.07], [None, None]] and stages[-1] == ("assemble", 2, 2)


def test_a_tiled_diagram_reads_each_curve_under_its_own_id(redis):
    # 4 x 6 cells at alpha = 1: 24 one-cell curves in two tiles; each cell's errors are made from its position
    diagram = PhaseDiagramRequest.model_validate({
        "x_axis": {"name": "feature_noise", "values": [0.0, 0.3, 0.6, 0.9]},
        "y_axis": {"name": "teacher_noise", "values": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]}})
    layout = record(4, 6, 24)

    def errors(xi: int, yi: int) -> dict[str, list[float]]:
        return {"tf": [0.1 + 0.01 * xi + 0.001 * yi], "rf": [0.2 - 0.02 * yi]}

    for tile, rows in (("tile-1", range(0, 3)), ("tile-2", range(3, 6))):
        curves = []
        for yi in rows:
            for xi in range(4):
                curve_id = f"lc-{xi}-{yi}"
                if (xi, yi) != (2, 4):  # this curve failed in its tile
                    result_store.put(redis, curve_id, json.dumps(theory_part(errors(xi, yi), 0.01 * yi)), ttl=60)
                curves.append({"job_id": curve_id, "computed": True,
                               "error": "invalid input: broken" if (xi, yi) == (2, 4) else None})
        result_store.put(redis, tile, json.dumps({"kind": "diagram_tile", "curves": curves,
                                                  "complete": tile == "tile-1", "meta": {}}), ttl=60)
    result = gather(redis, diagram, layout, lambda *progress: None)
    for yi in range(6):
        for xi in range(4):
            if (xi, yi) == (2, 4):
                continue
            expected = errors(xi, yi)
            assert result["theory"]["tf"][yi][xi] == expected["tf"][0]
            assert result["gain"][yi][xi] == pytest.approx(expected["rf"][0] - expected["tf"][0], abs=1e-15)
            assert result["source_test_errors"][yi][xi] == 0.01 * yi
    assert result["gain"][4][2] is None and not result["complete"]
    assert result["failures"] == [{"x_index": 2, "y_index": 4, "reason": "theory part failed: invalid input: broken"}]
    # a tile whose job left no result: every cell of it fails, with the reason
    result_store.delete(redis, "tile-2")
    result = gather(redis, diagram, layout, lambda *progress: None)
    assert len(result["failures"]) == 12 and {f["y_index"] for f in result["failures"]} == {3, 4, 5}
    assert all(f["reason"] == "theory part failed: result missing" for f in result["failures"])
