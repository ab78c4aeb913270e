"""Real processes for the tests, the benchmarks and the fuzzing campaign: RQ worker pools and a uvicorn API on a Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress

import httpx2 as httpx
from redis import Redis
from rq import Queue, Worker

from devtools.localredis import free_port


def stack_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update({"TLPROBE_REDIS_URL": redis_url, "TLPROBE_BLAS_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            value = condition()
            if value:
                return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Workers:
    """``python -m worker.main``: a supervising pool of RQ worker processes: ``count`` taking both queues
    and ``TLPROBE_INTERACTIVE_WORKERS`` (default 1) taking only the interactive one."""

    def __init__(self, redis_url: str, count: int = 2, log_path=None, **env: str) -> None:
        self.redis_url, self.count = redis_url, count
        self.env = stack_env(redis_url, TLPROBE_WORKERS=str(count), **env)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "Workers":
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen([sys.executable, "-m", "worker.main"], env=self.env, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            redis, name = Redis.from_url(self.redis_url), self.env.get("TLPROBE_QUEUE_NAME", "tlprobe")
            interactive, bulk = Queue(name, connection=redis), Queue(f"{name}-bulk", connection=redis)
            total = self.count + int(self.env.get("TLPROBE_INTERACTIVE_WORKERS", "1"))
            wait_for(lambda: Worker.count(queue=interactive) >= total and Worker.count(queue=bulk) >= self.count, 60,
                     f"{total} workers")
        return self

    def pids(self) -> list[int]:
        """Pool process and its children (workers and their work horses)."""
        out = subprocess.run(["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        """SIGTERM to the pool (it stops its workers, as on Ctrl-C), then SIGKILL to any leftover."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):
            if self.process:
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process and self.process.poll() is None:
            self.process.wait()


class Api:
    """uvicorn serving ``service.main:app`` on a free port."""

    def __init__(self, redis_url: str, log_path=None, **env: str) -> None:
        self.port = free_port()
        self.env = stack_env(redis_url, **env)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Api":
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "service.main:app", "--port", str(self.port),
             "--no-access-log"], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200, 30, "the API")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def busy_worker_pids(redis: Redis, job_id: str) -> tuple[int, list[int]]:
    """The pid of the worker running ``job_id`` and the pids of its children (the work horse)."""
    from rq.job import Job
    from rq.serializers import JSONSerializer

    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis)
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    return worker.pid, [int(pid) for pid in children]


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (and, for a pool, call it per process)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
