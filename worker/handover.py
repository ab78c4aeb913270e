"""A job handed over to another worker while its first worker was cut off from Redis.

A worker whose host loses its link to Redis misses its heartbeats; once its job counts as abandoned,
an idle worker re-queues it and another worker takes it up (``TlprobeWorker``; measured on namespace
hosts in docs/deploy.md). The cut-off worker's work horse does not know: it computes on until a write
to Redis fails (its socket timeout), and then reports the job failed, its client trying to reconnect
for a few seconds more. When the link comes back within that time, the report lands on a job that
another worker is running or has already finished: "failed" over "finished" (seen on namespace hosts:
tests/cluster), and a part of a phase diagram failing that way would release the diagram's assembly
before the part's result exists.

``taken_over`` is the fence: the failure path of a job that is no longer this worker's records
nothing. A failure to reach Redis raised inside the computation is not the computation's failure
either (``is_redis_outage``): it is retried like a worker that died, not failed for good.
"""

from __future__ import annotations

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.job import JobStatus


def taken_over(redis: Redis, job_key: str, worker_name: str) -> bool:
    """Whether the job at ``job_key`` stopped being ``worker_name``'s since that worker started it:
    re-queued (status ``queued``, after its worker counted as dead) or started by another worker
    (RQ records the worker that starts a job in the job's ``worker_name`` field). A Redis that cannot
    be reached counts as taken over: nothing could be recorded anyway, and the job, still registered
    as started, is re-queued once it counts as abandoned."""
    try:
        with redis.pipeline(transaction=False) as pipe:
            pipe.hget(job_key, "worker_name")
            pipe.hget(job_key, "status")
            owner, status = pipe.execute()
    except (RedisConnectionError, RedisTimeoutError):
        return True
    return (owner or b"").decode() != worker_name or (status or b"").decode() == JobStatus.QUEUED.value


def is_redis_outage(exc: BaseException) -> bool:
    """A Redis that could not be reached (refused, unreachable, timed out), as opposed to an error of
    the computation or of a command."""
    return isinstance(exc, (RedisConnectionError, RedisTimeoutError))
