"""A worker cut off from Redis mid-job (``worker.handover``): once its job is another worker's, its failure
path records nothing; a Redis that cannot be reached from inside a job is retried, not failed for good.
Run by a real (forking) tlprobe worker in this process on the test Redis; the namespace-host version of
the same story is tests/cluster/test_hosts.py."""

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from devtools.localredis import free_port
from tests.requests import SPECTRUM
from tests.worker.test_canceling import executions, run_queued
from worker import computations
from worker.handover import taken_over

UNREACHABLE = ("Error 113 connecting to 10.0.0.2:6379. No route to host.")


def test_taken_over_reads_the_jobs_owner_and_status(redis):
    redis.hset("rq:job:j1", mapping={"worker_name": "w-a", "status": "started"})
    assert not taken_over(redis, "rq:job:j1", "w-a")
    assert taken_over(redis, "rq:job:j1", "w-b")  # started again by another worker
    redis.hset("rq:job:j1", "status", "queued")
    assert taken_over(redis, "rq:job:j1", "w-a")  # re-queued as abandoned, not yet taken up
    nobody = Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
    assert taken_over(nobody, "rq:job:j1", "w-a")  # nothing can be recorded: leave it to the registries


def test_a_job_handed_over_mid_run_is_not_failed_by_its_first_worker(client, redis, monkeypatch):
    """The horse's next write fails (its host is cut off), and by the time it reports the failure the
    job is another worker's: the report would turn that worker's "started" (or "finished") into "failed"."""
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]

    def cut_off_and_handed_over(*args):
        redis.hset(Job.key_for(job_id), "worker_name", "another-worker")  # as RQ records whoever starts it
        raise RedisConnectionError(UNREACHABLE)

    monkeypatch.setattr(computations, "gcm", cut_off_and_handed_over)  # the work horse is forked from this process
    run_queued(redis)
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    assert job.get_status() == "started" and job.worker_name == "another-worker"  # as the other worker left it
    assert "error" not in job.meta and job.retries_left == 2
    assert job_id not in FailedJobRegistry(queue=Queue("tlprobe", connection=redis, serializer=JSONSerializer))
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "started"


def test_redis_unreachable_inside_a_job_is_retried_not_failed(client, redis, monkeypatch):
    """Not the computation's failure: the job runs again (here at once, Redis being back) and finishes."""
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    computed = computations.gcm

    def unreachable_once(*args):
        if redis.set("test:handover:raised", b"1", nx=True):
            raise RedisConnectionError(UNREACHABLE)
        return computed(*args)

    monkeypatch.setattr(computations, "gcm", unreachable_once)
    run_queued(redis)
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "finished" and view["error"] is None
    assert executions(redis) == 2 and Job.fetch(job_id, connection=redis, serializer=JSONSerializer).retries_left == 1
