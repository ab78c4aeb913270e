"""A batch holding a learning curve and a phase diagram, submitted in-process and run by a real tlprobe
worker (forking, burst mode) taking both queues on the test Redis: both end with their results, the
learning curve first (interactive work first), and the diagram's cell equals the learning curve of
that cell, computed by its own job."""

import pytest
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from tests.requests import SMALL, SMALL_DIAGRAM
from worker.main import TlprobeWorker

#: the diagram's cell (feature noise 0.5, alpha 2) as a learning curve of its own (another job than the part)
CELL = {key: SMALL[key] for key in ("source", "network", "theory")} | {
    "target": {"feature_noise": 0.5}, "alphas": [2.0], "protocols": ["tf", "rf"], "simulation": None}


def test_a_batch_of_a_learning_curve_and_a_diagram_ends_with_both_results(client, redis):
    batch = {"requests": [{"kind": "phase_diagram", "request": SMALL_DIAGRAM}, {"kind": "learning_curve", "request": CELL}]}
    submitted = client.post("/v1/batches", json=batch)
    assert submitted.status_code == 202
    diagram_id, curve_id = (job["job_id"] for job in submitted.json()["jobs"])
    queues = [Queue(name, connection=redis, serializer=JSONSerializer) for name in ("tlprobe", "tlprobe-bulk")]
    TlprobeWorker([queue.name for queue in queues], connection=redis, serializer=JSONSerializer).work(burst=True)

    view = client.get(f"/v1/batches/{submitted.json()['batch_id']}").json()
    assert view["counts"]["finished"] == 2, view
    curve = client.get(f"/v1/jobs/{curve_id}/result").json()
    diagram = client.get(f"/v1/phase-diagrams/{diagram_id}").json()
    assert curve["kind"] == "learning_curve" and diagram["kind"] == "phase_diagram"
    assert diagram["complete"] and not diagram["failures"]
    yi, xi = SMALL_DIAGRAM["y_axis"]["values"].index(0.5), SMALL_DIAGRAM["x_axis"]["values"].index(2.0)
    for protocol in ("tf", "rf"):
        # the same fixed point, reached from another warm start (the solver's tolerance is 1e-10)
        assert diagram["theory"][protocol][yi][xi] == pytest.approx(curve["curves"][protocol]["theory"]["test_error"][0],
                                                                    abs=1e-8)
    # submitted after the diagram, the learning curve ran before any of the diagram's jobs
    record = Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]  # made at submission
    ids = [curve_id, diagram_id, *record["networks"], *(part["job_id"] for part in record["parts"])]
    started = {job.id: job.started_at for job in Job.fetch_many(ids, connection=redis, serializer=JSONSerializer)}
    assert len(started) == 5 and started[curve_id] == min(started.values())
