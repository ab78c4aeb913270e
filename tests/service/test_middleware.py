"""The body size limit: 413 before anything is parsed or queued."""


from fastapi.testclient import TestClient
from rq import Queue

from service.main import create_app
from tlprobe_server.settings import Settings


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
