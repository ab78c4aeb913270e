"""Many small, highly compressed uploads of the largest allowed shape at once, against a real uvicorn:
the API's peak resident memory stays under its baseline plus TLPROBE_MAX_UPLOAD_MEMORY_BYTES plus a
stated margin, every upload ends in a 2xx or a 503 (with Retry-After), and the process survives and
answers afterwards with nothing left reserved.

Sizes: the API here allows 20,000 x 320 inputs (51.2 MB as float64; the default is 100,000 x 320 and
more) and 160 MB of uploads at once: two such uploads fit, a third does not. Each body is an
``savez_compressed`` of one repeated value, 75 kB: a ratio of declared to sent size near deflate's
limit. The earlier code took 3.1 times the matrix per upload at its peak (803 MB for 256 MB, as
bench/upload_memory.py measured it): 16 such uploads at once about 2.5 GB. The bound does not depend
on the shape: at the defaults each reservation is 271 MB and 1 GiB holds three (bench/upload_memory.py
measures that case).

MARGIN is what the reservation does not count, all of it small and bounded per request: the bodies
(75 kB each, twice while Starlette joins them), the requests' objects, the threads' stacks, and
freed memory the allocator keeps in its per-thread arenas.
"""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import numpy as np
import pytest

from devtools.localredis import LocalRedis
from devtools.stack import Api

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SAMPLES, INPUT_DIM = 20_000, 320
BOUND = 160_000_000
MARGIN = 40_000_000
WAVES, AT_ONCE = 3, 16
OCTET = {"content-type": "application/octet-stream"}


def status_bytes(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def compressed(value: float, samples: int = SAMPLES) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, inputs=np.full((samples, INPUT_DIM), value), labels=np.arange(samples) % 2)
    return buffer.getvalue()


@pytest.fixture
def api(tmp_path):
    server = LocalRedis(tmp_path / "redis")
    server.start()
    api = Api(server.url, log_path=tmp_path / "api.log", TLPROBE_MAX_DATASET_SAMPLES=str(SAMPLES),
              TLPROBE_MAX_DATASET_INPUT_DIM=str(INPUT_DIM), TLPROBE_MAX_UPLOAD_MEMORY_BYTES=str(BOUND),
              TLPROBE_RATE_LIMIT_PER_MINUTE="0").start()
    yield api
    api.stop()
    server.stop()


def test_concurrent_compressed_uploads_stay_within_the_bound(api, capsys):
    pid = api.process.pid
    # numpy and the decoder loaded, a first dataset stored: the baseline of an API that has seen uploads
    warm = httpx.post(f"{api.url}/v1/datasets", content=compressed(2.0, samples=100), headers=OCTET, timeout=60)
    assert warm.status_code == 201, warm.text
    baseline = status_bytes(pid, "VmRSS")
    body = compressed(0.5)
    assert len(body) < 100_000 and 8 * SAMPLES * INPUT_DIM / len(body) > 500

    def upload(barrier: threading.Barrier) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{api.url}/v1/datasets", content=body, headers=OCTET, timeout=120)

    statuses = []
    for _ in range(WAVES):
        barrier = threading.Barrier(AT_ONCE)
        with ThreadPoolExecutor(AT_ONCE) as pool:
            responses = list(pool.map(upload, [barrier] * AT_ONCE))
        for response in responses:
            assert response.status_code in (200, 201, 503), response.text
            if response.status_code == 503:
                assert response.headers["retry-after"] == "5" and "TLPROBE_MAX_UPLOAD_MEMORY_BYTES" in response.text
        statuses += [response.status_code for response in responses]
        assert api.process.poll() is None, "the API died"
    peak = status_bytes(pid, "VmHWM")
    with capsys.disabled():
        print(f"\n[upload memory] {WAVES} waves of {AT_ONCE} uploads of {SAMPLES} x {INPUT_DIM} ({len(body)} bytes each): "
              f"statuses {sorted(statuses)}; baseline {baseline / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB "
              f"({(peak - baseline) / 1e6:.0f} MB above; bound {BOUND / 1e6:.0f} MB + margin {MARGIN / 1e6:.0f} MB)")
    assert peak <= baseline + BOUND + MARGIN
    assert statuses.count(201) == 1 and 503 in statuses  # one stored (the same content each time), some turned away
    # the process answers, holds nothing reserved, and takes an upload again
    assert httpx.get(f"{api.url}/healthz", timeout=5).status_code == 200
    assert "tlprobe_upload_memory_bytes 0.0" in httpx.get(f"{api.url}/metrics", timeout=5).text
    assert httpx.post(f"{api.url}/v1/datasets", content=body, headers=OCTET, timeout=60).status_code == 200
