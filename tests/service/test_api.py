"""The HTTP API against a real Redis with no worker running: queueing, de-duplication, views,
errors. (Execution is covered by tests/integration with real workers and uvicorn.)"""

import json

import pytest
from fastapi.testclient import TestClient
from rq import Queue
from rq.serializers import JSONSerializer

from service import redis_keys
from service.localredis import free_port
from service.main import create_app
from service.settings import Settings

SMALL = {"source": {"latent_dim": 5, "input_dim": 20}, "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2},
         "alphas": [1.0], "theory": {"mc_samples": 500}, "simulation": None}
SPECTRUM = {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}}


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


def test_a_cached_result_is_answered_at_once(client, redis):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    redis.set(redis_keys.result(job_id), json.dumps({"kind": "gcm", "answer": 42}))
    cached = client.post("/v1/gcm", json=SPECTRUM)
    assert cached.status_code == 200
    assert cached.json()["cached"] and cached.json()["status"] == "finished"
    assert cached.json()["result"] == {"kind": "gcm", "answer": 42}
    assert client.get(f"/v1/jobs/{job_id}/result").json() == {"kind": "gcm", "answer": 42}


def test_result_of_an_unfinished_job_is_409_with_the_job(client):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    response = client.get(f"/v1/jobs/{job_id}/result")
    assert response.status_code == 409 and response.json()["status"] == "queued"


def test_unknown_and_malformed_job_ids_are_404(client):
    for job_id in ("lc-" + "0" * 40, "nonsense", "gcm-" + "a" * 40):
        assert client.get(f"/v1/jobs/{job_id}").status_code == 404
        assert client.get(f"/v1/jobs/{job_id}/result").status_code == 404
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 404
    assert client.get("/v1/batches/" + "0" * 32).status_code == 404


def test_cancel_a_queued_job_and_resubmit_it(client, redis):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    canceled = client.delete(f"/v1/jobs/{job_id}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert Queue("tlprobe", connection=redis).count == 0
    again = client.post("/v1/gcm", json=SPECTRUM)
    assert again.status_code == 202 and again.json()["status"] == "queued" and again.json()["job_id"] == job_id
    assert Queue("tlprobe", connection=redis, serializer=JSONSerializer).count == 1


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


def test_nan_in_json_is_refused(client):
    raw = '{"target": {"teacher_noise": NaN}}'
    response = client.post("/v1/learning-curves", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    raw = '{"spectrum": {"omega": [Infinity], "t": [0.1], "rho": 1.0, "gamma": 1.0}}'
    assert client.post("/v1/gcm", content=raw, headers={"content-type": "application/json"}).status_code == 422


def test_requests_over_the_work_budget_are_refused_before_queueing(client, redis):
    # every field is within its own bounds; their product is not
    big = {"source": {"input_dim": 4000, "latent_dim": 1000}, "network": {"hidden_units": 4000, "n_samples": 200000,
           "epochs": 5000}}
    response = client.post("/v1/learning-curves", json=big)
    assert response.status_code == 422
    assert "estimated work" in response.json()["detail"][0]["msg"] and "limit" in response.json()["detail"][0]["msg"]
    assert Queue("tlprobe", connection=redis).count == 0


def test_oversized_body_is_413(settings, redis):
    small_limit = Settings(redis_url=settings.redis_url, max_body_bytes=1000)
    with TestClient(create_app(small_limit)) as client:
        body = {"spectrum": {"omega": [1.0] * 500, "t": [0.0] * 500, "rho": 1.0, "gamma": 1.0}}
        response = client.post("/v1/gcm", json=body)
        assert response.status_code == 413 and "larger than 1000" in response.json()["detail"]
        chunks = (b'{"spectrum": {"omega": [' + b"1.0," * 100 + b"1.0]" for _ in range(3))
        streamed = client.post("/v1/gcm", content=chunks, headers={"content-type": "application/json"})
        assert streamed.status_code == 413
    assert Queue("tlprobe", connection=redis).count == 0


def test_redis_down_is_503_not_500():
    nobody = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout=0.5)
    with TestClient(create_app(nobody), raise_server_exceptions=False) as client:
        for method, path, body in (("post", "/v1/learning-curves", {}), ("get", "/v1/jobs/lc-" + "0" * 40, None),
                                   ("post", "/v1/gcm", SPECTRUM), ("delete", "/v1/jobs/lc-" + "0" * 40, None)):
            response = client.request(method, path, json=body)
            assert response.status_code == 503, (path, response.text)
            assert "Redis is unreachable" in response.json()["detail"] and "Traceback" not in response.text
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        assert "tlprobe_redis_up 0.0" in client.get("/metrics").text


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


def test_openapi_file_is_current():
    from service.openapi_export import PATH, spec_text
    assert PATH.read_text() == spec_text(), "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_stable(client):
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"submit_learning_curve", "submit_gcm", "get_job", "get_job_result", "cancel_job", "submit_batch",
            "get_batch", "healthz", "readyz", "metrics"} <= ids


# --- regressions found by schemathesis (tests/service/test_fuzz.py) ---------------------------

def test_regression_a_fixed_target_emptying_the_latent_space_is_422(client):
    body = {"source": {"latent_dim": 50}, "target": {"latent_change": -1998}}
    response = client.post("/v1/phase-diagrams", json=body)
    assert response.status_code == 422 and "empty the latent space" in response.text


@pytest.mark.parametrize("path, body", [
    ("/v1/learning-curves", {"theory": {"seed": False}}),
    ("/v1/learning-curves", {"target": {"teacher_noise": True}}),
    ("/v1/gcm", {"spectrum": {"omega": [1.0], "t": [False], "rho": 1.0, "gamma": 1.0}}),
    ("/v1/phase-diagrams", {"y_axis": {"name": "teacher_noise", "values": [False]}}),
    ("/v1/learning-curves", {"alphas": ["1.0"]}),
])
def test_regression_booleans_and_strings_are_not_numbers(client, path, body):
    assert client.post(path, json=body).status_code == 422


def test_regression_undecodable_body_is_400(client):
    response = client.post("/v1/gcm", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_regression_405_lists_every_method_of_the_path(client):
    response = client.request("OPTIONS", "/v1/jobs/lc-" + "0" * 40)
    assert response.status_code == 405 and set(response.headers["allow"].split(", ")) == {"GET", "DELETE"}


def test_regression_malformed_catalogue_range_is_422(client):
    for bad in ("", "source.input_dim", "x:nan:1", "x:1:2:3"):
        assert client.get("/v1/phase-diagrams", params={"range": bad}).status_code == 422


def test_regression_deeply_nested_json_is_refused_cleanly(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/v1/gcm", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


def test_regression_huge_integers_are_422(client):
    response = client.post("/v1/learning-curves", json={"network": {"hidden_units": 10**400}})
    assert response.status_code == 422


def test_job_payloads_are_json_not_pickle(client, redis):
    import zlib

    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    data = redis.hget(f"rq:job:{job_id}", "data")
    payload = json.loads(zlib.decompress(data))
    assert payload[0] == "worker.tasks.run_gcm" and payload[3]["request"]["spectrum"]["rho"] == 1.0
