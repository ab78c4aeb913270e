"""How many workers are alive on the queues: what ``/readyz`` and ``/metrics`` report.

RQ lists a queue's workers in a set, and each worker's own record expires unless its heartbeats
renew it (``TLPROBE_WORKER_TTL``). A worker that dies without signing off (SIGKILL, a lost machine or
pod) stays in the set until some worker's maintenance pass cleans it, and when every worker is gone
nobody does. So a worker counts only while its record exists.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue, worker_registration


def count(redis: Redis, *queue_names: str) -> int:
    """Distinct live workers taking jobs from any of ``queue_names`` (a worker on two queues counts once)."""
    names = sorted(set().union(*(worker_registration.get_keys(queue=Queue(name, connection=redis))
                                 for name in queue_names)))
    if not names:
        return 0
    with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.exists(name)
        return sum(1 for exists in pipe.execute() if exists)
