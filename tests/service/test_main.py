"""The app as a whole: error handlers (Redis down, NaN, bad bodies, 405), the OpenAPI spec."""


import pytest
from fastapi.testclient import TestClient

from devtools.localredis import free_port
from service.main import create_app
from tests.requests import SPECTRUM
from tlprobe_server.settings import Settings


def test_nan_in_json_is_refused(client):
    raw = '{"target": {"teacher_noise": NaN}}'
    response = client.post("/v1/learning-curves", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    raw = '{"spectrum": {"omega": [Infinity], "t": [0.1], "rho": 1.0, "gamma": 1.0}}'
    assert client.post("/v1/gcm", content=raw, headers={"content-type": "application/json"}).status_code == 422


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


def test_openapi_file_is_current():
    from service.openapi_export import PATH, spec_text
    assert PATH.read_text() == spec_text(), "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_stable(client):
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"submit_learning_curve", "submit_gcm", "get_job", "get_job_result", "cancel_job", "submit_batch",
            "get_batch", "healthz", "readyz", "metrics"} <= ids


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


def test_regression_deeply_nested_json_is_refused_cleanly(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/v1/gcm", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
