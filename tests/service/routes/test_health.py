"""/readyz and /metrics."""



from tests.requests import SMALL_DIAGRAM, SPECTRUM


def test_readyz_needs_a_worker(client):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable", "redis": "ok", "workers": 0}


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
