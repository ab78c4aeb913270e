"""The worker container's health check (python -m worker.health), against a real pool and Redis."""

import subprocess
import sys

import pytest

from devtools.localredis import free_port
from devtools.stack import Workers, stack_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def health(redis_url: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "worker.health"], env=stack_env(redis_url, **env),
                          capture_output=True, text=True, timeout=60)


def test_healthy_only_while_every_worker_of_the_host_is_registered(unit_url):
    before = health(unit_url, TLPROBE_WORKERS="1")
    assert before.returncode == 1 and "0 of 2 on interactive, 0 of 1 on bulk" in before.stdout, before.stdout
    pool = Workers(unit_url, count=1).start()  # one worker on both queues, one on the interactive queue alone
    try:
        running = health(unit_url, TLPROBE_WORKERS="1")
        assert running.returncode == 0 and running.stdout.startswith("healthy:"), running.stdout
        assert "2 of 2 on interactive, 1 of 1 on bulk" in running.stdout
        assert health(unit_url, TLPROBE_WORKERS="2").returncode == 1  # one of the two is missing
        assert health(unit_url, TLPROBE_WORKERS="1", TLPROBE_INTERACTIVE_WORKERS="2").returncode == 1
        assert health(unit_url, TLPROBE_WORKERS="1", TLPROBE_INTERACTIVE_WORKERS="0").returncode == 0
    finally:
        pool.stop()
    assert health(unit_url, TLPROBE_WORKERS="1").returncode == 1  # a stopped worker unregisters


def test_a_pool_without_interactive_workers_is_healthy_with_its_workers_alone(unit_url):
    pool = Workers(unit_url, count=1, TLPROBE_INTERACTIVE_WORKERS="0").start()
    try:
        running = health(unit_url, TLPROBE_WORKERS="1", TLPROBE_INTERACTIVE_WORKERS="0")
        assert running.returncode == 0 and "1 of 1 on interactive, 1 of 1 on bulk" in running.stdout, running.stdout
    finally:
        pool.stop()


def test_unreachable_redis_is_unhealthy():
    down = health(f"redis://127.0.0.1:{free_port()}/0", TLPROBE_REDIS_TIMEOUT="0.5")
    assert down.returncode == 1 and down.stdout.startswith("unhealthy: Redis unreachable")
