"""How workers take the two queues: the layout of a host's processes, the interactive streak rule and
the niceness of bulk jobs (a real forking tlprobe worker in this process, on the test Redis), and the
pool restarting a dead process with its own queues (a real pool)."""

import os
import signal
import time

import pytest
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DequeueTimeout
from rq.serializers import JSONSerializer

from devtools.stack import Workers, wait_for
from tlprobe_server.settings import Settings
from worker.lanes import LaneQueue, layout
from worker.main import TlprobeWorker


def test_layout_of_a_host():
    assert layout(Settings(workers=2)) == [["tlprobe", "tlprobe-bulk"]] * 2 + [["tlprobe"]]
    assert layout(Settings(workers=1, interactive_workers=0, queue_name="lab")) == [["lab", "lab-bulk"]]


def test_interactive_first_but_never_more_than_the_streak_while_bulk_waits(redis):
    """Six interactive and two bulk jobs, all waiting, taken by one worker of both queues (streak 4). Each
    job is ``os.nice(0)``: it returns the niceness its work horse ran at."""
    interactive = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    bulk = Queue("tlprobe-bulk", connection=redis, serializer=JSONSerializer)
    jobs = [bulk.enqueue_call("os.nice", args=(0,), job_id=f"bulk-{i}") for i in range(2)]
    jobs += [interactive.enqueue_call("os.nice", args=(0,), job_id=f"interactive-{i}") for i in range(6)]
    TlprobeWorker([interactive.name, bulk.name], connection=redis, serializer=JSONSerializer).work(burst=True)
    for job in jobs:
        job.refresh()
    order = [job.id for job in sorted(jobs, key=lambda job: job.started_at)]
    assert order == ["interactive-0", "interactive-1", "interactive-2", "interactive-3", "bulk-0",
                     "interactive-4", "interactive-5", "bulk-1"]
    base = os.nice(0)
    lowered = min(base + 10, 19) - base  # niceness stops at 19 (a suite run under nice)
    assert {job.id: job.return_value() - base for job in jobs} == {**{f"interactive-{i}": 0 for i in range(6)},
                                                                    **{f"bulk-{i}": lowered for i in range(2)}}


def test_a_worker_of_one_queue_takes_it_alone(redis):
    interactive = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    bulk = Queue("tlprobe-bulk", connection=redis, serializer=JSONSerializer)
    bulk.enqueue_call("os.nice", args=(0,))
    done = [interactive.enqueue_call("os.nice", args=(0,)) for _ in range(5)]
    TlprobeWorker([interactive.name], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert interactive.count == 0 and bulk.count == 1
    assert all(job.get_status() == "finished" for job in done)


def test_a_job_taken_by_a_worker_of_both_queues_stays_recoverable_until_it_starts(redis):
    """RQ pops from several queues with BLPOP: a worker dying between the pop and the start would lose the
    job. LaneQueue moves it into its queue's intermediate list instead, where RQ's cleanup finds it."""
    interactive = LaneQueue("tlprobe", connection=redis, serializer=JSONSerializer)
    bulk = LaneQueue("tlprobe-bulk", connection=redis, serializer=JSONSerializer)
    bulk.enqueue_call("os.nice", args=(0,), job_id="bulk-0")
    interactive.enqueue_call("os.nice", args=(0,), job_id="interactive-0")
    taken = [LaneQueue.dequeue_any([interactive, bulk], None, connection=redis, serializer=JSONSerializer)
             for _ in range(2)]
    assert [(job.id, queue.name) for job, queue in taken] == [("interactive-0", "tlprobe"), ("bulk-0", "tlprobe-bulk")]
    # the worker "died" here: both jobs are in no queue, but each is in its queue's intermediate list
    assert interactive.count == 0 and bulk.count == 0
    assert interactive.intermediate_queue.get_job_ids() == ["interactive-0"]
    assert bulk.intermediate_queue.get_job_ids() == ["bulk-0"]
    assert LaneQueue.dequeue_any([interactive, bulk], None, connection=redis) is None  # empty: no blocking
    with pytest.raises(DequeueTimeout):
        LaneQueue.dequeue_any([interactive, bulk], 1, connection=redis)


def test_a_job_stuck_in_an_intermediate_list_is_handed_back_by_any_worker(redis):
    """RQ's cleanup hands a job that sat in an intermediate list for a minute, never started, to the
    cleaning worker's ``handle_job_failure``: it is retried (queued again), not taken for one handed
    over from that worker and dropped, as it was (found by the Sentinel failover test: a job stayed
    "queued" in no queue)."""
    interactive = LaneQueue("tlprobe", connection=redis, serializer=JSONSerializer)
    bulk = LaneQueue("tlprobe-bulk", connection=redis, serializer=JSONSerializer)
    interactive.enqueue_call("os.nice", args=(0,), job_id="stuck", retry=Retry(max=2))
    LaneQueue.dequeue_any([interactive, bulk], None, connection=redis, serializer=JSONSerializer)  # then "died"
    cleaner = TlprobeWorker([interactive.name, bulk.name], connection=redis, serializer=JSONSerializer)
    stuck = interactive.intermediate_queue
    redis.set(stuck.get_first_seen_key("stuck"), time.time() - 120)  # seen there two minutes ago
    stuck.cleanup(cleaner, cleaner.queues[0])
    job = interactive.fetch_job("stuck")
    assert stuck.get_job_ids() == [] and interactive.get_job_ids() == ["stuck"]
    assert job.get_status() == "queued" and job.retries_left == 1
    TlprobeWorker([interactive.name], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert job.get_status() == "finished"


def test_a_started_job_leaves_the_intermediate_list(redis):
    interactive = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    bulk = Queue("tlprobe-bulk", connection=redis, serializer=JSONSerializer)
    jobs = [bulk.enqueue_call("os.nice", args=(0,)), interactive.enqueue_call("os.nice", args=(0,))]
    TlprobeWorker([interactive.name, bulk.name], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert all(job.get_status() == "finished" for job in jobs)
    assert redis.llen(interactive.intermediate_queue_key) == 0 and redis.llen(bulk.intermediate_queue_key) == 0


@pytest.mark.e2e
@pytest.mark.slow
def test_the_pool_restarts_a_dead_worker_with_its_own_queues(unit_url):
    redis = Redis.from_url(unit_url)
    pool = Workers(unit_url, count=1).start()

    def queues_of_workers() -> list[tuple[str, ...]]:
        return sorted(tuple(worker.queue_names()) for worker in Worker.all(connection=redis))

    try:
        assert queues_of_workers() == [("tlprobe",), ("tlprobe", "tlprobe-bulk")]
        dead = next(w for w in Worker.all(connection=redis) if w.queue_names() == ["tlprobe"])
        os.kill(dead.pid, signal.SIGKILL)  # its registration stays until it expires (TLPROBE_WORKER_TTL)
        wait_for(lambda: any(w.queue_names() == ["tlprobe"] and w.name != dead.name and w.pid != dead.pid
                             for w in Worker.all(connection=redis)), 60, "a new interactive worker")
        assert queues_of_workers() == [("tlprobe",), ("tlprobe",), ("tlprobe", "tlprobe-bulk")]
    finally:
        pool.stop()
