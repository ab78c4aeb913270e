"""A bounded soak: mixed submissions and cached reads against two workers for ``TLPROBE_SOAK_SECONDS``
(default 60 in the suite; `make soak` runs 300), on loopback only.

Passes when no request errs (no 5xx, no transport error), when every key in Redis either has a
TTL or belongs to a fixed set whose size does not grow with the number of jobs, and when the
resident memory of the API and of each worker process grows by less than 40 MB after warm-up.
"""

import os
import random
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers, rss_bytes, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SECONDS = float(os.environ.get("TLPROBE_SOAK_SECONDS", "60"))
#: keys allowed without a TTL: queue bookkeeping, registries (of either queue: tlprobe, tlprobe-bulk),
#: counters, the catalogue index
Q = r"[\w-]+"
PERMANENT = re.compile(rf"^(rq:(queues|workers|queue:{Q}|workers:{Q}|wip:{Q}|finished:{Q}|failed:{Q}|deferred:{Q}|"
                       rf"scheduled:{Q}|canceled:{Q}|intermediate:{Q}|suspended|scheduler.*|cron.*)|"
                       r"tlprobe:stats:\w+|tlprobe:catalogue:phase_diagrams)$")


def gcm_request(rng: random.Random) -> dict:
    p = rng.randint(3, 30)
    return {"spectrum": {"omega": [rng.uniform(0.1, 2) for _ in range(p)], "t": [rng.uniform(0, 0.02) for _ in range(p)],
                         "rho": 1.0, "gamma": 1.0}, "sample_complexities": [0.5, 2.0]}


def small_curve(seed: int) -> dict:
    return {"source": {"latent_dim": 8, "input_dim": 30, "seed": seed}, "alphas": [1.0],
            "network": {"hidden_units": 20, "n_samples": 200, "epochs": 20}, "theory": {"mc_samples": 2000},
            "simulation": None}


def test_soak(tmp_path, capsys):
    server = LocalRedis(tmp_path / "redis")
    server.start()
    workers = Workers(server.url, count=2, log_path=tmp_path / "workers.log").start()
    api = Api(server.url, log_path=tmp_path / "api.log").start()
    redis = Redis.from_url(server.url)
    errors, latencies, submitted, finished = [], [], [], []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS
    samples: dict[str, list[int]] = {}

    def memory() -> dict[int, int]:
        return {pid: rss_bytes(pid) for pid in [api.process.pid, *workers.pids()]}

    def client(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=api.url, timeout=30) as http:
            while time.monotonic() < stop:
                try:
                    roll = rng.random()
                    if roll < 0.35 or not submitted:
                        time.sleep(0.3)  # paced: about 10 submissions a second in all, what two workers absorb
                        body = gcm_request(rng) if rng.random() < 0.8 else small_curve(rng.randint(0, 10**6))
                        path = "/v1/gcm" if "spectrum" in body else "/v1/learning-curves"
                        response = http.post(path, json=body)
                        if response.status_code in (200, 202):
                            with lock:
                                submitted.append(response.json()["job_id"])
                    elif roll < 0.5 or not finished:
                        job_id = rng.choice(submitted)
                        response = http.get(f"/v1/jobs/{job_id}")
                        if response.json()["status"] == "finished":
                            with lock:
                                finished.append(job_id)
                    else:
                        start = time.perf_counter()
                        response = http.get(f"/v1/jobs/{rng.choice(finished)}/result")
                        with lock:
                            latencies.append(time.perf_counter() - start)
                    if response.status_code >= 500:
                        errors.append((response.status_code, response.text[:200]))
                except Exception as exc:  # a transport error is a failure too
                    errors.append(repr(exc))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(client, i) for i in range(4)]
        time.sleep(min(15, SECONDS / 4))
        samples["warm"] = memory()
        for future in futures:
            future.result()
    samples["end"] = memory()
    # RQ gives a job's record its TTL when the job ends: count keys once the last jobs have ended
    queues = [Queue(name, connection=redis) for name in ("tlprobe", "tlprobe-bulk")]
    # (the pace is what two idle workers absorb: on a busy machine a backlog remains; what is checked
    # below is what is left once it has drained, not how fast)
    wait_for(lambda: all(queue.count == 0 and StartedJobRegistry(queue=queue).count == 0 for queue in queues), 300,
             "in-flight jobs to end")
    keys = redis.keys("*")
    ttls = {key.decode(): redis.ttl(key) for key in keys}
    permanent = sorted(k for k, ttl in ttls.items() if ttl == -1)
    executed = sum(int(v) for v in redis.hgetall("tlprobe:stats:executions").values())
    api.stop()
    workers.stop()
    server.stop()

    assert not errors, errors[:5]
    assert all(PERMANENT.match(k) for k in permanent), [k for k in permanent if not PERMANENT.match(k)]
    assert len(permanent) <= 25 and executed > 10 * len(permanent)
    growth = {pid: samples["end"].get(pid, 0) - rss for pid, rss in samples["warm"].items() if pid in samples["end"]}
    assert max(growth.values()) < 40e6, growth
    quantiles = statistics.quantiles(latencies, n=100)
    with capsys.disabled():
        print(f"\n[soak] {SECONDS:.0f}s: {len(submitted)} submissions, {executed} jobs executed, {len(latencies)} cached "
              f"reads (p50 {quantiles[49] * 1e3:.1f} ms, p99 {quantiles[98] * 1e3:.1f} ms), 0 errors; keys: "
              f"{len(ttls)} ({len(permanent)} without TTL); RSS growth after warm-up (MB): "
              f"{', '.join(f'{g / 1e6:.1f}' for g in growth.values())}")
