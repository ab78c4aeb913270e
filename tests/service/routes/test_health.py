"""/readyz and /metrics."""



from tests.requests import SPECTRUM


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
    assert "tlprobe_queue_depth 1.0" in text and 'tlprobe_jobs{status="queued"} 1.0' in text
