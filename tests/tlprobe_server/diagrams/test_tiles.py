"""A tile's curves live at least as long as the tile's result that lists them (a resubmitted diagram whose
tile is a cache hit reads them)."""

import json

from tlprobe.contract.diagram_tile import DiagramTileRequest, DiagramTileResult
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server import result_store
from tlprobe_server.diagrams.tiles import keep_curves


def test_storing_a_tile_renews_its_curves_lifetimes(redis, settings):
    curves = [{"job_id": f"lc-{i}", "computed": i == 0, "error": None} for i in range(3)]
    result_store.put(redis, "lc-0", json.dumps({"curves": {}}), ttl=60)  # computed by the tile
    result_store.put(redis, "lc-1", json.dumps({"curves": {}}), ttl=5)  # stored long before, about to expire
    request = DiagramTileRequest(curves=[LearningCurveRequest(alphas=[a], simulation=None) for a in (1.0, 2.0, 3.0)])
    keep_curves("tile-x", request, DiagramTileResult(curves=curves, complete=True, meta={}), redis, settings)
    assert result_store.ttl(redis, "lc-0") > settings.result_ttl - 5 and result_store.ttl(redis, "lc-1") > 60
    assert not result_store.exists(redis, "lc-2")  # a missing one is not made up
