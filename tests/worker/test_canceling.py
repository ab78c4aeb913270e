"""A cancel that lands while a worker takes the job, run by a real (forking) tlprobe worker in this
process on the test Redis: whatever the interleaving, a canceled job ends canceled, stores no
result and is not retried, and resubmitting it runs it anew."""

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from tests.requests import SPECTRUM
from tlprobe_server import keys, result_store
from tlprobe_server.cancel import cancel
from worker import computations
from worker.main import TlprobeWorker


def executions(redis: Redis) -> int:
    return sum(int(count) for count in redis.hgetall(keys.executions_counter()).values())


def run_queued(redis: Redis, worker_class=TlprobeWorker) -> None:
    """Every job of both queues (interactive first, as a worker takes them) to its end, by a real forking worker."""
    waiting = [Queue(name, connection=redis, serializer=JSONSerializer) for name in ("tlprobe", "tlprobe-bulk")]
    worker_class([queue.name for queue in waiting], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert all(queue.count == 0 for queue in waiting)


def ends_canceled(client, redis: Redis, job_id: str) -> None:
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "canceled", view
    assert result_store.get(redis, job_id) is None
    assert client.get(f"/v1/jobs/{job_id}/result").status_code == 409


def test_a_cancel_between_the_dequeue_and_the_start_stops_the_job(client, redis, settings):
    """RQ has popped the id but not yet marked the job started, so the cancel finds it "queued" and
    removes nothing; RQ then marks it started. Before the cancel marker, the job ran to the end."""
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]

    class CanceledWhileDequeued(TlprobeWorker):
        def prepare_job_execution(self, job, *args, **kwargs):
            assert cancel(Redis.from_url(settings.redis_url), job.id, settings)[0].status.value == "canceled"
            super().prepare_job_execution(job, *args, **kwargs)  # sets "started" over "canceled"

    run_queued(redis, CanceledWhileDequeued)
    ends_canceled(client, redis, job_id)
    assert executions(redis) == 0  # stopped before the computation began

    again = client.post("/v1/gcm", json=SPECTRUM).json()
    assert again["job_id"] == job_id and again["status"] == "queued"
    run_queued(redis)
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "finished"
    assert result_store.get(redis, job_id)["kind"] == "gcm" and executions(redis) == 1


def test_a_cancel_during_the_last_step_discards_the_result(client, redis, settings, monkeypatch):
    """Canceled as the computation ends: the stop command or the horse's own last check ends it,
    whichever comes first; either way no result is stored."""
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    computed = computations.gcm

    def compute_then_be_canceled(*args):
        result = computed(*args)
        assert cancel(Redis.from_url(settings.redis_url), job_id, settings)[0].status.value in ("started",
                                                                                                  "canceled")
        return result

    monkeypatch.setattr(computations, "gcm", compute_then_be_canceled)  # the work horse is forked from this process
    run_queued(redis)
    ends_canceled(client, redis, job_id)
    assert executions(redis) == 1


def test_a_worker_skips_a_job_canceled_while_it_waited(client, redis, settings):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    queue = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    assert queue.count == 1
    redis.set(keys.cancel_request(job_id), b"1")  # a cancel that set its marker and has not yet gone on
    run_queued(redis)
    ends_canceled(client, redis, job_id)
    assert executions(redis) == 0


def test_a_stop_left_over_from_a_canceled_run_does_not_cancel_the_next_run(client, redis, monkeypatch):
    """RQ's stop command records the job id in the worker; when the horse had already stopped itself
    (marker seen) the record stays. A later run of the same id on that worker then fails as itself."""
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    queue = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    worker = TlprobeWorker([queue.name], connection=redis, serializer=JSONSerializer)
    worker._stopped_job_id = job_id  # as a stop command arriving after that horse ended leaves it

    def broken(*args):
        raise ValueError("a computation that fails")

    monkeypatch.setattr(computations, "gcm", broken)
    worker.work(burst=True)
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "failed" and "a computation that fails" in view["error"], view
