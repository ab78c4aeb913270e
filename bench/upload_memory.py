"""Peak resident memory of the API while highly compressed uploads of the largest allowed shape run at once.

Each scenario starts a fresh uvicorn API (as ``devtools.stack.Api``) on a Redis of its own, uploads one small
dataset to load numpy (the baseline is read after it), then sends ``k`` uploads at the same moment: .npz
files (``numpy.savez_compressed``) declaring ``--samples`` x ``--dim`` float64 inputs of one repeated value
(a different value per upload, so each is a new dataset) and alternating 0/1 labels. Printed per
scenario: the body size, the statuses, the baseline and peak resident memory (VmRSS sampled every 5 ms
and the kernel's high-water mark VmHWM), and the peak above the baseline.

    .venv/bin/python -m bench.upload_memory --concurrent 1 4
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np

from devtools.localredis import LocalRedis
from devtools.stack import Api

MB = 1e6


def status_kb(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def compressed_upload(samples: int, dim: int, value: float) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, inputs=np.full((samples, dim), value), labels=np.arange(samples) % 2)
    return buffer.getvalue()


class Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.stop = pid, interval, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, status_kb(self.pid, "VmRSS"))
            time.sleep(self.interval)


def scenario(concurrent: int, bodies: list[bytes], env: dict[str, str], data_dir: Path) -> dict:
    redis = LocalRedis(data_dir)
    redis.start()
    api = Api(redis.url, log_path=data_dir / "api.log", TLPROBE_RATE_LIMIT_PER_MINUTE="0", **env).start()
    try:
        small = compressed_upload(50, 4, 0.0)
        warm = httpx.post(f"{api.url}/v1/datasets", content=small, headers={"content-type": "application/octet-stream"},
                          timeout=60)
        assert warm.status_code in (200, 201), warm.text
        time.sleep(0.5)
        pid = api.process.pid
        baseline = status_kb(pid, "VmRSS")
        sampler = Sampler(pid)
        sampler.start()
        barrier = threading.Barrier(concurrent)

        def send(body: bytes) -> int:
            barrier.wait()
            return httpx.post(f"{api.url}/v1/datasets", content=body, headers={"content-type": "application/octet-stream"},
                              timeout=300).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrent) as pool:
            statuses = list(pool.map(send, bodies[:concurrent]))
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        alive = httpx.get(f"{api.url}/healthz", timeout=5).status_code
        return {"concurrent": concurrent, "statuses": sorted(statuses), "baseline": baseline, "peak_rss": sampler.peak,
                "hwm": status_kb(pid, "VmHWM"), "seconds": seconds, "healthz": alive}
    finally:
        api.stop()
        redis.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=320)
    parser.add_argument("--env", nargs="*", default=[], help="NAME=VALUE settings of the API")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    bodies = [compressed_upload(args.samples, args.dim, 0.5 + i) for i in range(max(args.concurrent))]
    declared = 8 * args.samples * args.dim + args.samples
    print(f"[upload memory] {args.samples} x {args.dim} float64 declared ({declared / MB:.0f} MB), "
          f"bodies {min(map(len, bodies)) / 1e3:.0f}..{max(map(len, bodies)) / 1e3:.0f} kB; settings {env or 'default'}")
    for concurrent in args.concurrent:
        with tempfile.TemporaryDirectory() as tmp:
            result = scenario(concurrent, bodies, env, Path(tmp))
        print(f"  {concurrent} at once: statuses {result['statuses']}, {result['seconds']:.1f} s; RSS baseline "
              f"{result['baseline'] / MB:.0f} MB, peak {result['peak_rss'] / MB:.0f} MB sampled / {result['hwm'] / MB:.0f} MB "
              f"VmHWM ({(result['hwm'] - result['baseline']) / MB:.0f} MB above baseline); /healthz {result['healthz']}")


if __name__ == "__main__":
    main()
