"""Faults, against real processes: workers killed mid-job, a job that keeps killing its process,
Redis killed and restarted, the API restarted, job timeouts. Each test runs its own Redis and
workers with short liveness settings (heartbeat 2 s, margin 4 s, maintenance 3 s)."""

import os
import signal
import time

import httpx2 as httpx
import pytest
from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers, busy_worker_pids, wait_for
from tests.integration.test_live import engine_alone, executions, small, wait_finished, without_meta
from tlprobe_server import keys

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FAST_LIVENESS = {"TLPROBE_JOB_MONITORING_INTERVAL": "2", "TLPROBE_HEARTBEAT_MARGIN": "4",
                 "TLPROBE_MAINTENANCE_INTERVAL": "3", "TLPROBE_WORKER_TTL": "18"}
#: detection bound with FAST_LIVENESS: heartbeat 2 + margin 4 + max(maintenance 3, idle wake-up 3),
#: plus scheduling slack on a loaded two-core machine
DETECTION_BOUND = 25.0


@pytest.fixture
def stack(tmp_path):
    server = LocalRedis(tmp_path / "redis")
    server.start()
    workers = Workers(server.url, count=2, log_path=tmp_path / "workers.log", **FAST_LIVENESS).start()
    api = Api(server.url, log_path=tmp_path / "api.log").start()
    yield {"redis_server": server, "redis": Redis.from_url(server.url), "workers": workers, "api": api,
           "tmp": tmp_path}
    api.stop()
    workers.stop()
    server.stop()


def slow_request(seed: int, epochs: int = 500) -> dict:
    return small(seed, network={"hidden_units": 150, "n_samples": 3000, "epochs": epochs},
                 simulation=None, alphas=[1.0])


def wait_started(api: str, job_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (v := httpx.get(f"{api}/v1/jobs/{job_id}").json())["status"] == "started" and v,
                    timeout, f"{job_id} to start")


def test_killed_worker_and_work_horse_are_detected_and_the_job_finishes_elsewhere(stack, capsys):
    api, redis = stack["api"].url, stack["redis"]
    request = slow_request(701)
    job_id = httpx.post(f"{api}/v1/learning-curves", json=request).json()["job_id"]
    wait_started(api, job_id)
    runs = executions(redis, "learning_curve")
    worker_pid, horse_pids = busy_worker_pids(redis, job_id)
    assert horse_pids, "the busy worker has a work horse"
    for pid in (worker_pid, *horse_pids):
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: executions(redis, "learning_curve") > runs, 60, "the job to run again")
    detected = time.monotonic() - killed
    assert wait_finished(api, job_id, timeout=120)["status"] == "finished"
    result = httpx.get(f"{api}/v1/jobs/{job_id}/result").json()
    assert without_meta(result) == without_meta(engine_alone(request))
    assert detected <= DETECTION_BOUND
    with capsys.disabled():
        print(f"\n[fault] worker + horse SIGKILLed: re-run after {detected:.1f}s (bound {DETECTION_BOUND}s)")
    # the pool replaced the dead worker
    wait_for(lambda: httpx.get(f"{api}/readyz").json()["workers"] >= 3, 30, "three live workers (one interactive-only)")


def test_a_stopped_worker_hands_its_job_back_at_once(tmp_path, capsys):
    """SIGTERM to the pool (what docker stop sends): the busy worker does not finish its job, nor leave
    it to be found abandoned; it puts it back at the front of the queue with its retries, and exits."""
    server = LocalRedis(tmp_path / "redis")
    server.start()
    redis = Redis.from_url(server.url)
    pool = Workers(server.url, count=1, log_path=tmp_path / "workers.log", **FAST_LIVENESS).start()
    api = Api(server.url, log_path=tmp_path / "api.log").start()
    try:
        job_id = httpx.post(f"{api.url}/v1/learning-curves", json=slow_request(703)).json()["job_id"]
        wait_started(api.url, job_id)
        queue = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
        retries = queue.fetch_job(job_id).retries_left
        stopping = time.monotonic()
        pool.process.terminate()
        pool.process.wait(timeout=30)
        handed_back = time.monotonic() - stopping
        assert httpx.get(f"{api.url}/v1/jobs/{job_id}").json()["status"] == "queued"
        assert queue.job_ids[:1] == [job_id] and queue.fetch_job(job_id).retries_left == retries
        assert executions(redis, "learning_curve") == 1
        with capsys.disabled():
            print(f"\n[fault] pool SIGTERMed with a busy worker: job handed back, pool gone in {handed_back:.1f}s")
        assert handed_back < 10
        pool = Workers(server.url, count=1, log_path=tmp_path / "workers.log", **FAST_LIVENESS).start()
        assert wait_finished(api.url, job_id, timeout=300)["status"] == "finished"
        assert executions(redis, "learning_curve") == 2
    finally:
        api.stop()
        pool.stop()
        server.stop()


def test_a_job_that_keeps_killing_its_process_fails_after_its_retries(stack):
    api = stack["api"].url
    queue = Queue("tlprobe", connection=stack["redis"], serializer=JSONSerializer)
    job_id = "lc-" + "d" * 40
    # the work horse dies abruptly at every attempt, as when the kernel kills it for memory
    queue.enqueue_call("os._exit", args=(137,), job_id=job_id, retry=Retry(max=2))
    view = wait_for(lambda: (v := httpx.get(f"{api}/v1/jobs/{job_id}").json())["status"] == "failed" and v, 60,
                    "the job to fail")
    assert view["error"].startswith("killed: the process running it died")
    assert queue.fetch_job(job_id).retries_left == 0  # 3 attempts, then it stopped: no endless loop


def test_redis_killed_and_restarted_keeps_results_and_runs_queued_jobs(stack):
    api, server = stack["api"].url, stack["redis_server"]
    done = httpx.post(f"{api}/v1/learning-curves", json=small(702, simulation=None)).json()["job_id"]
    assert wait_finished(api, done)["status"] == "finished"
    before = httpx.get(f"{api}/v1/jobs/{done}/result").json()
    processes = stack["workers"].count + 1  # and the interactive-only worker (TLPROBE_INTERACTIVE_WORKERS=1)
    running = [httpx.post(f"{api}/v1/learning-curves", json=slow_request(710 + i, epochs=300)).json()["job_id"]
               for i in range(processes)]  # every worker process busy: the next two stay queued
    for job_id in running:
        wait_started(api, job_id)
    queued = [httpx.post(f"{api}/v1/learning-curves", json=small(720 + i, simulation=None)).json()["job_id"]
              for i in range(2)]
    assert all(httpx.get(f"{api}/v1/jobs/{j}").json()["status"] == "queued" for j in queued)

    server.kill()  # SIGKILL
    down = httpx.get(f"{api}/v1/jobs/{done}")
    assert down.status_code == 503 and "Redis is unreachable" in down.json()["detail"]
    time.sleep(3)
    server.start()  # same port, same data directory: the append-only file is replayed

    assert httpx.get(f"{api}/v1/jobs/{done}/result").json() == before  # the API reconnected by itself
    for job_id in running + queued:
        assert wait_finished(api, job_id, timeout=180)["status"] == "finished", job_id
    wait_for(lambda: httpx.get(f"{api}/readyz").json()["workers"] >= 2, 60, "workers back")


def test_no_acknowledged_write_is_lost_when_redis_is_killed(tmp_path, capsys):
    server = LocalRedis(tmp_path / "redis")  # appendfsync everysec, as deployed
    server.start()
    client = Redis.from_url(server.url, socket_timeout=1)
    acknowledged = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        acknowledged = client.incr("counter")
    server.kill()
    server.start()
    recovered = int(Redis.from_url(server.url).get("counter"))
    server.stop()
    assert recovered >= acknowledged
    with capsys.disabled():
        print(f"\n[durability] {acknowledged} acknowledged writes, {recovered} after SIGKILL + restart")


def test_clients_polling_through_an_api_restart_see_their_job_finish(stack):
    api = stack["api"]
    job_id = httpx.post(f"{api.url}/v1/learning-curves", json=slow_request(730, epochs=200)).json()["job_id"]
    wait_started(api.url, job_id)
    api.process.send_signal(signal.SIGKILL)
    api.process.wait()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{api.url}/v1/jobs/{job_id}")
    api.start()  # same port: the API holds no state
    assert wait_finished(api.url, job_id, timeout=120)["status"] == "finished"


def test_a_job_past_its_timeout_fails_with_reason_timeout_and_caches_nothing(tmp_path):
    server = LocalRedis(tmp_path / "redis")
    server.start()
    redis = Redis.from_url(server.url)
    workers = Workers(server.url, count=1, log_path=tmp_path / "workers.log").start()
    api = Api(server.url, log_path=tmp_path / "api.log", TLPROBE_LEARNING_CURVE_TIMEOUT="3").start()
    try:
        job_id = httpx.post(f"{api.url}/v1/learning-curves", json=slow_request(740, epochs=3000)).json()["job_id"]
        view = wait_finished(api.url, job_id, timeout=60)
        assert view["status"] == "failed" and view["error"].startswith("timeout: the job ran longer than its limit of 3 s")
        assert redis.get(keys.result(job_id)) is None
        assert redis.keys(keys.artifact("network:*")) == []  # the half-trained network was not kept
        assert executions(redis, "learning_curve") == 1  # and the timeout was not retried
    finally:
        api.stop()
        workers.stop()
        server.stop()


def test_redis_with_a_password(tmp_path):
    server = LocalRedis(tmp_path / "redis", password="s3cret-pass")
    server.start()
    workers = Workers(server.url, count=1, log_path=tmp_path / "workers.log").start()
    api = Api(server.url, log_path=tmp_path / "api.log").start()
    wrong = Api(server.url.replace("s3cret-pass", "wrong"), log_path=tmp_path / "wrong.log").start()
    try:
        job_id = httpx.post(f"{api.url}/v1/gcm", json={"spectrum": {"omega": [1.0], "t": [0.3], "rho": 1.0,
                                                                    "gamma": 1.0}}).json()["job_id"]
        assert wait_finished(api.url, job_id)["status"] == "finished"
        refused = httpx.get(f"{wrong.url}/v1/jobs/{job_id}")
        assert refused.status_code == 503 and "s3cret" not in refused.text
    finally:
        wrong.stop()
        api.stop()
        workers.stop()
        server.stop()


def test_tls_urls_use_tls_connections():
    # redis-py opens TLS connections for rediss:// URLs; the service passes the URL through unchanged
    from tlprobe_server.connections import connect
    from tlprobe_server.settings import Settings

    pool = connect(Settings(redis_url="rediss://:pw@redis.example:6380/0")).connection_pool
    assert pool.connection_class.__name__ == "SSLConnection" and pool.connection_kwargs["port"] == 6380
