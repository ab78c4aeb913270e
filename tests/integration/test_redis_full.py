"""A real worker pool on a Redis full of what may not be deleted: a job whose result cannot be stored
fails with that reason (once: not retried), the worker stays up, and the next job finishes once there
is room again."""

import httpx2 as httpx
import pytest
from redis import Redis

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers
from tests.integration.test_live import wait_finished
from tests.requests import SPECTRUM
from tests.tlprobe_server.test_redis_memory import MAXMEMORY, fill_with_keepers
from tlprobe_server import keys, live_workers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LIMIT = 4 * MAXMEMORY  # 192 MiB: a reserve of 19.2 MiB


def test_a_result_that_cannot_be_stored_fails_its_job_with_the_reason(tmp_path):
    server = LocalRedis(tmp_path / "redis", maxmemory=str(LIMIT))
    server.start()
    redis = Redis.from_url(server.url)
    workers = Workers(server.url, count=1, log_path=tmp_path / "workers.log", TLPROBE_INTERACTIVE_WORKERS="0").start()
    api = Api(server.url, log_path=tmp_path / "api.log").start()
    try:
        # 12 MiB into the reserve (19.2 MiB), below maxmemory: deep enough that memory Redis frees meanwhile
        # does not make room for the result again (on a loaded machine 1 MiB was not; in one clean-clone
        # run, at a 48 MiB limit, 3 MiB was not either, for a reason not found)
        fill_with_keepers(redis, until=lambda memory: memory.room() < -12 * 2**20)
        submitted = httpx.post(f"{api.url}/v1/gcm", json=SPECTRUM)
        assert submitted.status_code == 202  # a submission is small: the reserve takes it
        job_id = submitted.json()["job_id"]
        view = wait_finished(api.url, job_id, timeout=60)
        assert view["status"] == "failed"
        assert view["error"].startswith("redis full: the result was computed but could not be stored: Redis is full: "
                                        "storing "), view["error"]
        assert not redis.exists(keys.result(job_id))
        assert int(redis.hget(keys.executions_counter(), "gcm")) == 1  # not retried: it would only fail again
        assert live_workers.count(redis, "tlprobe") == 1  # the worker is up

        redis.delete(*redis.keys("keeper:*"))  # room again: the same request, sent again, runs and finishes
        again = httpx.post(f"{api.url}/v1/gcm", json=SPECTRUM)
        assert again.status_code == 202 and again.json()["job_id"] == job_id
        assert wait_finished(api.url, job_id, timeout=60)["status"] == "finished"
        assert httpx.get(f"{api.url}/v1/jobs/{job_id}/result").status_code == 200
    finally:
        api.stop()
        workers.stop()
        server.stop()
