"""Bearer tokens, the per-token rate limit, backpressure, and ids that cannot be enumerated."""

import logging

import pytest
from fastapi.testclient import TestClient
from rq import Queue

from service.main import create_app
from tests.requests import SMALL_DIAGRAM
from tlprobe_server.capacity import waiting_jobs
from tlprobe_server.settings import Settings

SPECTRUM = {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}}
TOKENS = "alpha-token-0123456789,beta-token-9876543210"


def spectrum(i: int) -> dict:
    return {"spectrum": {**SPECTRUM["spectrum"], "rho": 1.0 + i}}


@pytest.fixture
def secured(settings):
    app = create_app(Settings(redis_url=settings.redis_url, api_tokens=TOKENS, rate_limit_per_minute=3))
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_writes_need_a_valid_token_and_reads_stay_open(secured, redis):
    assert secured.post("/v1/gcm", json=SPECTRUM).status_code == 401
    wrong = secured.post("/v1/gcm", json=SPECTRUM, headers=bearer("alpha-token-0123456788"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert secured.post("/v1/gcm", json=SPECTRUM, headers={"Authorization": "Basic xyz"}).status_code == 401
    assert Queue("tlprobe", connection=redis).count == 0
    accepted = secured.post("/v1/gcm", json=SPECTRUM, headers=bearer("beta-token-9876543210"))
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    assert secured.get(f"/v1/jobs/{job_id}").status_code == 200  # reads open by default
    assert secured.delete(f"/v1/jobs/{job_id}").status_code == 401
    assert secured.delete(f"/v1/jobs/{job_id}", headers=bearer("alpha-token-0123456789")).status_code == 200
    for path in ("/v1/learning-curves", "/v1/phase-diagrams", "/v1/batches", "/v1/datasets"):
        assert secured.post(path, json={}).status_code == 401
    upload = {"inputs": [[0.0], [1.0]], "labels": [0, 1]}
    created = secured.post("/v1/datasets", json=upload, headers=bearer("alpha-token-0123456789"))
    assert created.status_code == 201
    dataset = f"/v1/datasets/{created.json()['dataset_id']}"
    assert secured.get(dataset).status_code == 200 and secured.get("/v1/datasets").status_code == 200
    assert secured.delete(dataset).status_code == 401
    assert secured.delete(dataset, headers=bearer("beta-token-9876543210")).status_code == 204


def test_reads_can_be_protected_too(settings):
    app = create_app(Settings(redis_url=settings.redis_url, api_tokens=TOKENS, protect_reads=True))
    with TestClient(app) as client:
        for path in ("/v1/jobs/gcm-" + "0" * 40, "/v1/phase-diagrams", "/v1/batches/" + "0" * 32, "/v1/datasets",
                     "/v1/datasets/ds-" + "0" * 40):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=bearer("alpha-token-0123456789")).status_code in (200, 404)
        assert client.get("/healthz").status_code == 200


def test_rate_limit_per_token(secured):
    alpha, beta = bearer("alpha-token-0123456789"), bearer("beta-token-9876543210")
    codes = [secured.post("/v1/gcm", json=spectrum(i), headers=alpha).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = secured.post("/v1/gcm", json=spectrum(9), headers=alpha)
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert secured.post("/v1/gcm", json=spectrum(5), headers=beta).status_code == 202  # tokens are independent
    batch = {"requests": [{"kind": "gcm", "request": spectrum(10 + i)} for i in range(3)]}
    assert secured.post("/v1/batches", json=batch, headers=beta).status_code == 429  # 1 + 3 > 3


def test_tokens_never_reach_the_logs(secured, caplog):
    caplog.set_level(logging.DEBUG)
    secured.post("/v1/gcm", json=SPECTRUM, headers=bearer("alpha-token-0123456789"))
    secured.post("/v1/gcm", json=SPECTRUM, headers=bearer("not-a-token-secret"))
    assert "alpha-token" not in caplog.text and "not-a-token-secret" not in caplog.text


def test_backpressure_cap_on_waiting_jobs(settings, redis):
    app = create_app(Settings(redis_url=settings.redis_url, max_queued_jobs=2))
    with TestClient(app) as client:
        assert [client.post("/v1/gcm", json=spectrum(i)).status_code for i in range(2)] == [202, 202]
        full = client.post("/v1/gcm", json=spectrum(2))
        assert full.status_code == 503 and full.headers["retry-after"] == "30" and "cap is 2" in full.json()["detail"]
        assert client.post("/v1/gcm", json=spectrum(0)).status_code == 202  # joining a waiting job is fine
        batch = {"requests": [{"kind": "gcm", "request": spectrum(7)}]}
        assert client.post("/v1/batches", json=batch).status_code == 503
        assert client.post("/v1/phase-diagrams", json={}).status_code == 503
    assert Queue("tlprobe", connection=redis).count == 2  # nothing else was queued, nothing was dropped
    assert waiting_jobs(redis, settings) == 2  # in either queue


def test_bulk_submissions_leave_a_tenth_of_the_cap_to_interactive_ones(settings, redis):
    capped = Settings(redis_url=settings.redis_url, max_queued_jobs=20)  # bulk submissions: at most 18 waiting
    other_diagram = {**SMALL_DIAGRAM, "x_axis": {"name": "alpha", "values": [1.0, 3.0]}}
    with TestClient(create_app(capped)) as client:
        assert {client.post("/v1/gcm", json=spectrum(i)).status_code for i in range(14)} == {202}
        assert client.post("/v1/phase-diagrams", json=SMALL_DIAGRAM).status_code == 202  # 4 jobs: 18 waiting
        assert waiting_jobs(redis, capped) == 18
        full = client.post("/v1/phase-diagrams", json=other_diagram)
        assert full.status_code == 503 and "cap is 18" in full.json()["detail"]
        mixed = {"requests": [{"kind": "gcm", "request": spectrum(30)}, {"kind": "phase_diagram", "request": other_diagram}]}
        assert client.post("/v1/batches", json=mixed).status_code == 503  # it holds bulk work: the lower cap
        assert [client.post("/v1/gcm", json=spectrum(i)).status_code for i in (14, 15, 16)] == [202, 202, 503]
    assert waiting_jobs(redis, capped) == 20  # nothing of the refused submissions was queued


def test_ids_cannot_be_listed(client):
    assert client.get("/v1/jobs").status_code in (404, 405)
    assert client.get("/v1/batches").status_code in (404, 405)
    batch = client.post("/v1/batches", json={"requests": [{"kind": "gcm", "request": SPECTRUM}]}).json()
    assert len(batch["batch_id"]) == 32 and int(batch["batch_id"], 16) >= 0  # 128 random bits
