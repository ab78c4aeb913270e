"""A pod-shaped run: the worker pool started in a real cgroup limited to one CPU (what a Kubernetes pod
with `limits.cpu: 1` gets), with the pod's settings but neither TLPROBE_WORKERS nor TLPROBE_BLAS_THREADS
given, starts one worker with one thread: the defaults follow the CPU quota, not the machine's cores."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rq import Worker

from devtools.stack import stack_env, wait_for
from tests.tlprobe_server.test_cpu_quota import _writable_hierarchy, limit_to_one_cpu
from tlprobe_server.queues import queues
from tlprobe_server.settings import Settings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
#: waits for a line on stdin, then runs the worker pool: so that it starts inside the cgroup
POOL = "import sys, runpy; sys.stdin.readline(); runpy.run_module('worker.main', run_name='__main__')"


@pytest.mark.parametrize("version", [2, 1])
def test_one_cpu_gives_one_worker_with_one_thread(version, unit_url, redis, tmp_path):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("the machine itself has one CPU: the quota would not be what decides")
    parent, _ = _writable_hierarchy(version)
    child = parent / f"tlprobe-pod-test-{uuid.uuid4().hex[:8]}"
    child.mkdir()
    env = stack_env(unit_url, TLPROBE_INTERACTIVE_WORKERS="0")  # as deploy/kubernetes/base/worker.yaml sets it
    for name in ("TLPROBE_WORKERS", "TLPROBE_BLAS_THREADS"):
        env.pop(name, None)
    log = tmp_path / "pool.log"
    pool = None
    try:
        limit_to_one_cpu(child, version)
        with open(log, "w") as out:
            pool = subprocess.Popen([sys.executable, "-c", POOL], stdin=subprocess.PIPE, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True, text=True)
        (child / "cgroup.procs").write_text(str(pool.pid))
        pool.stdin.write("go\n")
        pool.stdin.flush()
        started = wait_for(lambda: [json.loads(line) for line in log.read_text().splitlines()
                                    if line.startswith("{") and "starting" in line], 90, "the pool's first line")
        assert started[0]["message"].startswith("starting 1 workers x 1 threads"), started[0]["message"]
        waiting = queues(redis, Settings(redis_url=unit_url))
        workers = wait_for(lambda: {w.name for queue in waiting.values() for w in Worker.all(queue=queue)}, 90,
                           "the worker to register")
        time.sleep(1)  # no second one follows
        assert len({w.name for queue in waiting.values() for w in Worker.all(queue=queue)}) == len(workers) == 1
    finally:
        if pool is not None and pool.poll() is None:
            os.killpg(pool.pid, signal.SIGTERM)
            try:
                pool.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(pool.pid, signal.SIGKILL)
                pool.wait()
        wait_for(lambda: not (child / "cgroup.procs").read_text().split(), 30, "the cgroup to empty")
        child.rmdir()
