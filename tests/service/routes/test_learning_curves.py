"""POST /v1/learning-curves against a real Redis with no worker: queueing, de-duplication, refusals."""

import json
import time
import tracemalloc

import pytest
from rq import Queue

from tests.requests import SMALL


def test_submit_queues_one_job_and_duplicates_join_it(client, redis):
    first = client.post("/v1/learning-curves", json=SMALL)
    assert first.status_code == 202
    body = first.json()
    assert body["status"] == "queued" and not body["cached"] and body["result"] is None
    assert body["links"]["self"] == f"/v1/jobs/{body['job_id']}"
    reordered = {"simulation": None, "alphas": [1.0], "theory": {"seed": 0, "mc_samples": 500},
                 "network": {"epochs": 2, "n_samples": 50, "hidden_units": 10}, "source": {"input_dim": 20, "latent_dim": 5}}
    second = client.post("/v1/learning-curves", json=reordered)
    assert second.status_code == 202 and second.json()["job_id"] == body["job_id"]
    assert Queue("tlprobe", connection=redis).count == 1
    view = client.get(body["links"]["self"]).json()
    assert view["status"] == "queued" and view["kind"] == "learning_curve"


def test_empty_body_and_empty_object_are_the_default_request(client):
    a = client.post("/v1/learning-curves", json={}).json()["job_id"]
    b = client.post("/v1/learning-curves").json()["job_id"]
    assert a == b


@pytest.mark.parametrize("body, field", [
    ({"target": {"feature_noise": 2}}, "feature_noise"),
    ({"alphas": [-1]}, "alphas"),
    ({"network": {"hidden_units": 10**12}}, "hidden_units"),
    ({"source": {"latent_dim": 5}, "target": {"latent_change": -5}}, "latent space"),
    ({"protocols": ["tf", "tf"]}, "distinct"),
    ({"theory": None, "simulation": None}, "nothing to compute"),
    ({"unknown": 1}, "unknown"),
])
def test_invalid_input_is_422_with_field_and_reason(client, redis, body, field):
    response = client.post("/v1/learning-curves", json=body)
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])
    assert Queue("tlprobe", connection=redis).count == 0


def test_requests_over_the_work_budget_are_refused_before_queueing(client, redis):
    # every field is within its own bounds; their product is not
    big = {"source": {"input_dim": 4000, "latent_dim": 1000}, "network": {"hidden_units": 4000, "n_samples": 200000,
           "epochs": 5000}}
    response = client.post("/v1/learning-curves", json=big)
    assert response.status_code == 422
    assert "estimated work" in response.json()["detail"][0]["msg"] and "limit" in response.json()["detail"][0]["msg"]
    assert Queue("tlprobe", connection=redis).count == 0


def test_regression_huge_integers_are_422(client):
    response = client.post("/v1/learning-curves", json={"network": {"hidden_units": 10**400}})
    assert response.status_code == 422


@pytest.mark.parametrize("seeds", [10**9, 10**18, 10**400, -(10**18)])
def test_regression_a_huge_seed_count_is_a_quick_422_without_allocating(client, redis, seeds):
    # issue 12: {"seeds": 100000000} held the API for 10 s and a gigabyte; larger ones ended in a 500
    tracemalloc.start()
    started = time.perf_counter()
    response = client.post("/v1/learning-curves", json={"simulation": {"seeds": seeds}})
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "simulation", "seeds"]
    assert elapsed < 1.0 and peak < 20 * 2**20, (elapsed, peak)  # a list of 10^9 ints would be 8 GB
    assert Queue("tlprobe", connection=redis).count == 0
