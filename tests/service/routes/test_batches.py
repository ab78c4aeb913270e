"""/v1/batches: mixed kinds (phase diagrams included), one job per distinct request, each job in its
kind's queue, the capacity counting every part, refusals name the item."""

from fastapi.testclient import TestClient
from rq import Queue

from service.main import create_app
from tests.requests import SMALL, SMALL_DIAGRAM, SPECTRUM
from tlprobe_server.capacity import waiting_jobs
from tlprobe_server.settings import Settings


def test_batch_of_mixed_kinds(client, redis):
    batch = {"requests": [{"kind": "learning_curve", "request": SMALL}, {"kind": "gcm", "request": SPECTRUM},
                          {"kind": "gcm", "request": SPECTRUM}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 202
    body = response.json()
    assert [j["kind"] for j in body["jobs"]] == ["learning_curve", "gcm", "gcm"]
    assert body["jobs"][1]["job_id"] == body["jobs"][2]["job_id"]  # identical requests: one job
    assert body["counts"]["queued"] == 3 and body["counts"]["finished"] == 0
    assert Queue("tlprobe", connection=redis).count == 2
    view = client.get(f"/v1/batches/{body['batch_id']}").json()
    assert view["counts"]["queued"] == 3 and len(view["jobs"]) == 3


def test_invalid_batch_item_names_its_index(client, redis):
    batch = {"requests": [{"kind": "gcm", "request": SPECTRUM}, {"kind": "gcm", "request": {"loss": "hinge", **SPECTRUM}}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 422
    assert any(e["loc"][:4] == ["body", "requests", 1, "gcm"] for e in response.json()["detail"])
    assert Queue("tlprobe", connection=redis).count == 0  # nothing queued from a rejected batch
    too_many = {"requests": [{"kind": "gcm", "request": SPECTRUM}] * 101}
    assert client.post("/v1/batches", json=too_many).status_code == 422


def test_a_batch_may_hold_phase_diagrams_whose_jobs_wait_in_the_bulk_queue(client, redis):
    batch = {"requests": [{"kind": "learning_curve", "request": SMALL}, {"kind": "phase_diagram", "request": SMALL_DIAGRAM}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 202
    body = response.json()
    assert [j["kind"] for j in body["jobs"]] == ["learning_curve", "phase_diagram"]
    assert body["jobs"][1]["job_id"].startswith("pd-") and body["counts"]["queued"] == 2
    interactive, bulk = Queue("tlprobe", connection=redis), Queue("tlprobe-bulk", connection=redis)
    assert interactive.count == 1 and interactive.deferred_job_registry.count == 0  # the learning curve
    assert bulk.count == 1 and bulk.deferred_job_registry.count == 3  # the network; two theory parts, the assembly
    assert bulk.deferred_job_registry.get_job_ids()[-1] == body["jobs"][1]["job_id"]


def test_a_batch_must_fit_in_the_queues_with_every_part_of_its_diagrams(settings, redis):
    """The learning curve and the diagram's four jobs (network, two theory parts, assembly) are five."""
    batch = {"requests": [{"kind": "learning_curve", "request": SMALL}, {"kind": "phase_diagram", "request": SMALL_DIAGRAM}]}
    for cap, status in ((4, 503), (5, 202)):
        capped = Settings(redis_url=settings.redis_url, max_queued_jobs=cap)
        with TestClient(create_app(capped)) as client:
            assert client.post("/v1/batches", json=batch).status_code == status
        assert waiting_jobs(redis, capped) == (0 if status == 503 else 5)


def test_a_diagram_item_is_checked_like_a_diagram(client, redis):
    # 24 cells x 16 seeds x 4 runs per cell (one per finetune anchor strength the tuning tries): 1536 > 1200
    too_big = {**SMALL_DIAGRAM, "simulation": {"seeds": 16}, "baseline": "finetune",
               "x_axis": {"name": "alpha", "values": [0.5, 1, 2, 4]},
               "y_axis": {"name": "teacher_noise", "values": [0, 0.2, 0.4, 0.6, 0.8, 1.0]}}
    batch = {"requests": [{"kind": "gcm", "request": SPECTRUM}, {"kind": "phase_diagram", "request": too_big}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"][:4] == ["body", "requests", 1, "request"] and "training runs" in error["msg"]
    assert waiting_jobs(redis, Settings(redis_url=client.app.state.settings.redis_url)) == 0
