"""The per-process bound on the memory of uploads being decoded, through the route: what an upload
reserves, 503 with Retry-After when the others hold too much, 413 when it could never fit, and every
reservation given back however the upload ends."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.upload_memory import MemoryBusy, NeverFits, UploadMemory
from service.uploads import plan_upload
from tests.datasets import arrays, npz
from tlprobe_server import keys
from tlprobe_server.settings import Settings

OCTET = {"content-type": "application/octet-stream"}


def reserved_by(body: bytes, settings: Settings) -> int:
    return plan_upload(body, OCTET["content-type"], settings).memory_bytes


def test_an_upload_beyond_what_the_others_leave_is_503_with_retry_after(unit_url, redis):
    settings = Settings(redis_url=unit_url, workers=1, max_upload_memory_bytes=400_000)
    body = npz(inputs=arrays()[0], labels=arrays()[1])
    need = reserved_by(body, settings)
    assert 60 * 5 * 8 < need < 200_000
    with TestClient(create_app(settings)) as client:
        memory: UploadMemory = client.app.state.upload_memory
        with memory.hold(400_000 - need + 1):  # another upload decoding
            response = client.post("/v1/datasets", content=body, headers=OCTET)
            assert response.status_code == 503 and response.headers["retry-after"] == str(MemoryBusy.RETRY_AFTER)
            assert f"this one needs {need}" in response.json()["detail"]
            assert "TLPROBE_MAX_UPLOAD_MEMORY_BYTES" in response.json()["detail"]
            assert redis.keys(keys.dataset("*")) == []
        with memory.hold(400_000 - need):  # exactly enough left
            assert client.post("/v1/datasets", content=body, headers=OCTET).status_code == 201
        assert memory.held == 0
        metrics = client.get("/metrics").text
        assert "tlprobe_upload_memory_bytes 0.0" in metrics and "tlprobe_upload_memory_limit_bytes 400000.0" in metrics


def test_an_upload_that_could_never_fit_is_413(unit_url):
    settings = Settings(redis_url=unit_url, workers=1, max_upload_memory_bytes=100_000)
    body = npz(inputs=np.random.default_rng(0).standard_normal((2000, 8)), labels=np.arange(2000) % 2)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/datasets", content=body, headers=OCTET)
        assert response.status_code == 413
        assert response.json()["detail"] == str(NeverFits(reserved_by(body, settings), 100_000))
        assert client.post("/v1/datasets", content=npz(inputs=arrays()[0], labels=arrays()[1]),
                           headers=OCTET).status_code == 201


def test_every_ending_gives_the_reservation_back(unit_url):
    settings = Settings(redis_url=unit_url, workers=1, max_datasets_bytes=3000)
    inputs, labels = arrays()
    nan = inputs.copy()
    nan[-1, -1] = np.nan
    with TestClient(create_app(settings)) as client:
        memory: UploadMemory = client.app.state.upload_memory
        endings = [(npz(inputs=nan, labels=labels), 422),  # refused after decoding
                   (npz(inputs=inputs, labels=labels), 201),
                   (npz(inputs=inputs, labels=labels), 200),  # already stored
                   (npz(inputs=-inputs, labels=labels), 413),  # storage full
                   (npz(inputs=inputs), 422)]  # refused from the headers, before reserving
        for body, status in endings:
            assert client.post("/v1/datasets", content=body, headers=OCTET).status_code == status
            assert memory.held == 0


def test_the_gate_counts_and_gives_back():
    memory = UploadMemory(100)
    with memory.hold(60):
        with memory.hold(40):
            assert memory.held == 100
            with pytest.raises(MemoryBusy, match="hold 100 of the 100 bytes"), memory.hold(1):
                pass
        with pytest.raises(RuntimeError), memory.hold(30):
            raise RuntimeError("the upload failed")
        assert memory.held == 60
    assert memory.held == 0
    with pytest.raises(NeverFits, match="takes 101 bytes"), memory.hold(101):
        pass
    assert memory.held == 0


def test_a_refusal_leaves_the_decoding_thread_without_the_decoded_arrays(settings, redis):
    """The frames that raised a refusal hold the decoded matrix; the reservation is given back when the
    refusal reaches the route, so by then nothing may hold it (freed by reference counting, not later
    by the cycle collector)."""
    import gc

    from service.canonical import FramedInputs
    from service.routes.datasets import _store
    from service.uploads import UploadRefused

    inputs, labels = arrays()
    inputs[-1, -1] = np.nan
    plan = plan_upload(npz(inputs=inputs, labels=labels), OCTET["content-type"], settings)
    gc.disable()
    try:
        with pytest.raises(UploadRefused, match="NaN or infinite") as refused:
            _store(plan, redis, settings)
        assert refused.value.__context__ is None
        assert not [thing for thing in gc.get_objects() if isinstance(thing, FramedInputs)]
    finally:
        gc.enable()
