"""Tiled phase diagrams end to end in this process: the API (a TestClient) plans and fans out, a real
(forking) tlprobe worker runs the tiles on the test Redis. Each curve of a tile is stored under its own
learning-curve id, so a cell equals the same alpha computed through ``POST /v1/learning-curves``; a curve
that fails fails only its cells, and a resubmission computes only what is missing."""

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from service.main import create_app
from tests.worker.test_canceling import run_queued
from tlprobe_server import keys, result_store
from tlprobe_server.settings import Settings
from worker import computations
from worker.science.invalid_spec import InvalidSpec

# a fixed lambda keeps 144 cells to seconds (the optimal one searches per cell)
TINY = {"source": {"latent_dim": 4, "input_dim": 16, "seed": 3}, "network": {"hidden_units": 8, "n_samples": 120, "epochs": 20},
        "theory": {"mc_samples": 1000}, "readout": {"regularisation": 0.1}}
ALPHAS = [0.25 * (i + 1) for i in range(12)]
NOISES = [i / 11 for i in range(12)]


@pytest.fixture
def tiled(unit_url):
    """An API that packs a diagram of more than 6 cells into about 6 tiles."""
    with TestClient(create_app(Settings(redis_url=unit_url, workers=1, diagram_tiles=6))) as test_client:
        yield test_client


def executions(redis: Redis, kind: str) -> int:
    return int(redis.hget(keys.executions_counter(), kind) or 0)


def test_a_tiled_diagram_equals_its_learning_curves_asked_one_by_one(tiled, redis):
    body = {**TINY, "x_axis": {"name": "alpha", "values": ALPHAS}, "y_axis": {"name": "feature_noise", "values": NOISES}}
    submitted = tiled.post("/v1/phase-diagrams", json=body)
    assert submitted.status_code == 202, submitted.json()
    diagram_id = submitted.json()["job_id"]
    run_queued(redis)
    # 144 cells, 6 tiles of two rows: 12 curves of 12 alphas (each row's spectra built once), one network job
    assert executions(redis, "diagram_tile") == 6 and executions(redis, "source_network") == 1
    assert executions(redis, "learning_curve") == 0
    result = tiled.get(f"/v1/phase-diagrams/{diagram_id}").json()
    assert result["complete"] and result["meta"]["parts"] == 6 and len(result["gain"]) == 12
    for yi, xi in [(0, 0), (0, 11), (5, 6), (11, 0), (11, 11)]:
        single = {**TINY, "target": {"feature_noise": NOISES[yi]}, "alphas": [ALPHAS[xi]], "protocols": ["tf", "rf"],
                  "simulation": None}
        lc_id = tiled.post("/v1/learning-curves", json=single).json()["job_id"]
        run_queued(redis)
        curve = tiled.get(f"/v1/jobs/{lc_id}/result").json()["curves"]
        for protocol in ("tf", "rf"):
            # the same spectra (the tile stored them), solved at this alpha alone: the same fixed point
            assert result["theory"][protocol][yi][xi] == pytest.approx(curve[protocol]["theory"]["test_error"][0], abs=1e-8)
    # the row's curve as the tile computed it is the learning curve of that row: a cache hit, the same numbers
    row = {**TINY, "target": {"feature_noise": NOISES[4]}, "alphas": ALPHAS, "protocols": ["tf", "rf"], "simulation": None}
    cached = tiled.post("/v1/learning-curves", json=row).json()
    assert cached["cached"] and cached["result"]["curves"]["tf"]["theory"]["test_error"] == result["theory"]["tf"][4]
    assert executions(redis, "learning_curve") == 5  # the five single alphas above, nothing else


def test_a_curve_that_fails_fails_only_its_cells_and_a_resubmission_computes_only_it(tiled, redis, monkeypatch):
    body = {**TINY, "x_axis": {"name": "feature_noise", "values": NOISES[:4]},
            "y_axis": {"name": "teacher_noise", "values": NOISES[:3]}, "alpha": 2.0}
    computed = computations.run_learning_curve

    def broken_at_one_target(data, *args):
        if data.spec.target.feature_noise == NOISES[2] and data.spec.target.teacher_noise == NOISES[1]:
            raise InvalidSpec("target", "this one is broken")
        return computed(data, *args)

    monkeypatch.setattr(computations, "run_learning_curve", broken_at_one_target)  # the work horse forks from here
    diagram_id = tiled.post("/v1/phase-diagrams", json=body).json()["job_id"]
    run_queued(redis)
    assert executions(redis, "diagram_tile") == 6  # 12 one-cell curves, two per tile
    result = tiled.get(f"/v1/phase-diagrams/{diagram_id}").json()
    assert not result["complete"]
    assert result["failures"] == [{"x_index": 2, "y_index": 1,
                                   "reason": "theory part failed: invalid input: target: this one is broken"}]
    assert sum(g is None for row in result["gain"] for g in row) == 1
    tiles = [part["job_id"] for part in redis_plan(redis, diagram_id)["parts"]]
    failed = [t for t in tiles if not result_store.get(redis, t)["complete"]]
    assert len(failed) == 1 and tiled.get(f"/v1/jobs/{failed[0]}").json()["kind"] == "diagram_tile"

    monkeypatch.setattr(computations, "run_learning_curve", computed)
    again = tiled.post("/v1/phase-diagrams", json=body)
    assert again.status_code == 202 and not again.json()["cached"]  # an incomplete diagram is retried
    run_queued(redis)
    assert executions(redis, "diagram_tile") == 7  # only the tile with the failed curve ran again...
    rerun = result_store.get(redis, failed[0])
    assert [c["computed"] for c in rerun["curves"]].count(True) == 1 and rerun["complete"]  # ...and computed one curve
    fixed = tiled.get(f"/v1/phase-diagrams/{diagram_id}").json()
    assert fixed["complete"] and fixed["gain"][1][2] is not None
    assert all(fixed["gain"][y][x] == result["gain"][y][x] for y in range(3) for x in range(4) if (x, y) != (2, 1))


def redis_plan(redis: Redis, diagram_id: str) -> dict:
    """The plan recorded in the diagram job's meta at submission."""
    return Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]
