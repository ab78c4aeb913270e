"""/readyz and /metrics."""

from rq import Queue, Worker

from tests.requests import SMALL_DIAGRAM, SPECTRUM


def test_readyz_is_ready_without_workers_and_reports_them_beside_it(client, redis):
    """Scaled to zero, the API still takes submissions (they wait in the queue): ready, with 0 workers."""
    assert client.get("/readyz").json() == {"status": "ready", "redis": "ok", "workers": 0, "queued": 0}
    assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready", "redis": "ok", "workers": 0,
                                                               "queued": 1}
    assert 'tlprobe_workers{queue="interactive"} 0.0' in client.get("/metrics").text


def test_workers_count_while_their_registration_lives(client, redis):
    """A worker that died without signing off stays in RQ's set (Worker.count still counts it) but its
    record expires: it is not counted."""
    queue = Queue("tlprobe", connection=redis)
    alive, dead = (Worker([queue], connection=redis, name=name) for name in ("alive", "dead"))
    for worker in (alive, dead):
        worker.register_birth()
    assert client.get("/readyz").json()["workers"] == 2
    redis.delete(dead.key)  # its heartbeats stopped: the record expired
    assert Worker.count(queue=queue) == 2
    assert client.get("/readyz").json()["workers"] == 1
    text = client.get("/metrics").text
    assert 'tlprobe_workers{queue="interactive"} 1.0' in text and 'tlprobe_workers{queue="bulk"} 0.0' in text


def test_metrics_count_requests_by_route_and_submissions(client):
    client.post("/v1/gcm", json=SPECTRUM)
    client.get("/v1/jobs/lc-" + "0" * 40)
    text = client.get("/metrics").text
    assert 'tlprobe_http_requests_total{method="POST",route="/v1/gcm",status="202"} 1.0' in text
    assert 'route="/v1/jobs/{job_id}",status="404"' in text
    assert 'tlprobe_submissions_total{kind="gcm",outcome="queued"} 1.0' in text
    assert 'tlprobe_queue_depth{queue="interactive"} 1.0' in text and 'tlprobe_queue_depth{queue="bulk"} 0.0' in text
    assert 'tlprobe_jobs{queue="interactive",status="queued"} 1.0' in text


def test_metrics_show_each_queue(client):
    """A phase diagram and its parts wait in the bulk queue, a GCM job in the interactive one."""
    assert client.post("/v1/phase-diagrams", json=SMALL_DIAGRAM).status_code == 202
    assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202
    text = client.get("/metrics").text
    assert 'tlprobe_queue_depth{queue="interactive"} 1.0' in text and 'tlprobe_queue_depth{queue="bulk"} 1.0' in text
    # the diagram's network is queued; its two theory parts and its assembly wait behind it
    assert 'tlprobe_jobs{queue="bulk",status="deferred"} 3.0' in text
    assert 'tlprobe_jobs{queue="interactive",status="deferred"} 0.0' in text
    assert 'tlprobe_workers{queue="interactive"} 0.0' in text and 'tlprobe_workers{queue="bulk"} 0.0' in text
