"""tlprobe on namespace hosts (``devtools.hosts``): Redis on one host, the API on another, a pool of
workers on each of the others, and this process on the bridge as the client.

Every process is started as the project starts it (``redis-server``, ``python -m uvicorn --factory
service.main:app``, ``python -m worker.main``), bound to its host's address; the workers and the API
know Redis only by its URL on the bridge. Each worker host runs one worker (``TLPROBE_WORKERS=1``)
with one BLAS thread.

``HANDOVER`` lowers the workers' liveness settings so that a job whose host is cut off is handed to
another worker within ``handover_bound`` seconds (about 10 s instead of the defaults' 35 s). Run
``python -m devtools.cluster`` to start the stack, print its addresses and stop it again.
"""

from __future__ import annotations

import sys
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Iterable

import httpx2 as httpx
from redis import Redis
from rq import Worker

from tlprobe_server.settings import Settings

from .hosts import Cluster, Host, host_env

REDIS_PORT = 6379
API_PORT = 8000
#: a busy worker heartbeats every second, its job counts as abandoned 5 s after a missed heartbeat,
#: and an idle worker wakes every second (worker_ttl - 15) and cleans the registries every 2 s
HANDOVER = {"TLPROBE_WORKER_TTL": "16", "TLPROBE_JOB_MONITORING_INTERVAL": "1", "TLPROBE_HEARTBEAT_MARGIN": "5",
            "TLPROBE_MAINTENANCE_INTERVAL": "2"}
#: slack for the Redis round trips and the idle worker's loop around the registry cleaning (s)
ROUND_TRIPS = 1.0


def handover_bound(settings: Settings) -> float:
    """Seconds from the moment a busy worker's host is cut off to its job being started by an idle
    worker elsewhere.

    The busy worker renews its job's entry in the started-job registry every ``job_monitoring_interval``
    (I) seconds, to expire ``I + heartbeat_margin`` (M) seconds later, so the entry of a worker cut off
    at t expires by t + I + M. An idle worker wakes from its blocking dequeue every
    ``max(1, worker_ttl - 15)`` (D) seconds and cleans the registries when more than
    ``maintenance_interval`` (C) seconds have passed since it last did, so it finds the expired entry
    within C + D of expiry, re-queues the job (it has retries left: ``job_retries``) and dequeues it at
    once. Bound: I + M + C + D + ``ROUND_TRIPS``."""
    dequeue = max(1, settings.worker_ttl - 15)
    return (settings.job_monitoring_interval + settings.heartbeat_margin + settings.maintenance_interval + dequeue
            + ROUND_TRIPS)


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        with suppress(Exception):
            value = condition()
            if value:
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Stack:
    """Redis on host ``redis``, the API on host ``api``, workers on ``worker_hosts`` (started with
    ``start()`` unless ``start_workers`` is False). ``settings``: TLPROBE_ variables for every process;
    ``liveness``: the workers' (``HANDOVER`` unless given; ``{}``: the shipped defaults)."""

    def __init__(self, logs: Path, worker_hosts: Iterable[str] = ("w1", "w2"), redis_timeout: float = 2.0,
                 settings: dict[str, str] | None = None, start_workers: bool = True,
                 liveness: dict[str, str] = HANDOVER) -> None:
        self.worker_names = list(worker_hosts)
        self.cluster = Cluster(["redis", "api", *self.worker_names], Path(logs))
        self.redis_host, self.api_host = self.cluster["redis"], self.cluster["api"]
        self.redis_url = f"redis://{self.redis_host.address}:{REDIS_PORT}/0"
        self.api_url = f"http://{self.api_host.address}:{API_PORT}"
        self.settings_env = {**liveness, **(settings or {}), "TLPROBE_REDIS_URL": self.redis_url,
                             "TLPROBE_REDIS_TIMEOUT": str(redis_timeout)}
        self.settings = Settings(**{key[len("TLPROBE_"):].lower(): value for key, value in self.settings_env.items()})
        self.start_workers_too = start_workers
        self._redis: Redis | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> "Stack":
        self.cluster.start()
        try:
            self.start_redis()
            self.start_api()
            if self.start_workers_too:
                for name in self.worker_names:
                    self.start_worker(name, wait=False)
                self.wait_workers(self.worker_names)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
        self.cluster.close()

    @property
    def workers(self) -> list[Host]:
        return [self.cluster[name] for name in self.worker_names]

    def redis(self) -> Redis:
        """A client of the stack's Redis from this (the root) namespace."""
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
        return self._redis

    def client(self, timeout: float = 30) -> httpx.Client:
        """An HTTP client of the API (no proxy from the environment: nothing leaves the bridge)."""
        return httpx.Client(base_url=self.api_url, timeout=timeout, trust_env=False)

    # -- processes -----------------------------------------------------------------------------
    def start_redis(self) -> None:
        host = self.redis_host
        host.run(["mkdir", "-p", "/tmp/redis"])
        host.spawn("redis", ["redis-server", "--bind", host.address, "--protected-mode", "no", "--port", str(REDIS_PORT),
                             "--dir", "/tmp/redis", "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                             "--daemonize", "no", "--logfile", ""])
        try:
            wait_for(lambda: self.redis().ping(), 20, "Redis")
        except TimeoutError:
            inside = host.run(["redis-cli", "-h", host.address, "-p", str(REDIS_PORT), "ping"], check=False).stdout
            raise RuntimeError(f"Redis on {host.address} does not answer over the bridge (inside its host: "
                               f"{inside.strip()!r}; logs in {self.cluster.logs})") from None

    def start_api(self) -> None:
        host = self.api_host
        host.spawn("api", [sys.executable, "-m", "uvicorn", "--factory", "service.main:app", "--host", host.address,
                           "--port", str(API_PORT), "--no-access-log"], env=host_env(**self.settings_env))
        with self.client(timeout=2) as client:
            wait_for(lambda: client.get("/healthz").status_code == 200, 60, "the API")

    def start_worker(self, name: str, wait: bool = True) -> None:
        env = host_env(**{"TLPROBE_WORKERS": "1", "TLPROBE_BLAS_THREADS": "1", **self.settings_env})
        self.cluster[name].spawn("worker", [sys.executable, "-m", "worker.main"], env=env)
        if wait:
            self.wait_workers([name])

    def stop_worker(self, name: str) -> None:
        """SIGTERM to the host's pool (a busy worker hands its job back), as on ``docker stop``."""
        self.cluster[name].stop("worker", timeout=30)

    def worker_hostnames(self) -> list[str]:
        """The hostnames of the workers registered in Redis (one entry per worker)."""
        return sorted(worker.hostname for worker in Worker.all(connection=self.redis()))

    def wait_workers(self, names: Iterable[str], timeout: float = 120, since: datetime | None = None) -> None:
        """Until a worker of each of the hosts ``names`` is registered (and has sent a heartbeat after
        ``since``, a UTC time: a worker that died keeps its record until its last heartbeat expires)."""
        wanted = {self.cluster[name].hostname for name in names}

        def live() -> set[str]:
            return {worker.hostname for worker in Worker.all(connection=self.redis())
                    if since is None or (worker.last_heartbeat and worker.last_heartbeat >= since)}

        wait_for(lambda: wanted <= live(), timeout, f"workers on {sorted(wanted)}")

    def hostname_of(self, name: str) -> str:
        return self.cluster[name].hostname

    def host_of_hostname(self, hostname: str) -> str:
        return next(name for name, host in self.cluster.hosts.items() if host.hostname == hostname)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as logs, Stack(Path(logs)) as stack:
        print(stack.cluster.describe())
        print(f"Redis {stack.redis_url}; API {stack.api_url}; workers on {stack.worker_hostnames()}")
        with stack.client() as client:
            print("readyz:", client.get("/readyz").json())


if __name__ == "__main__":
    main()
