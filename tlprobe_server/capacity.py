"""Backpressure: the cap on how many jobs may wait, across both queues (``tlprobe_server.queues``).

Nothing accepted is ever dropped: a submission is refused (``QueueFull``, a 503 with Retry-After)
before anything of it is enqueued when the jobs it would add would take the waiting jobs (queued, or
deferred behind their dependencies, in either queue) past ``max_queued_jobs``. A phase diagram counts
all its parts. A submission that adds bulk jobs must also leave a tenth of the cap (``RESERVE``) free:
a large study filling the queue does not lock out the interactive submissions behind it.
"""

from __future__ import annotations

from redis import Redis
from rq.registry import DeferredJobRegistry

from .queues import queues
from .settings import Settings

#: the part of ``max_queued_jobs`` that only interactive submissions may fill
RESERVE = 0.1


class QueueFull(Exception):
    """Accepting the submission would queue more jobs than the configured cap."""

    RETRY_AFTER = 30

    def __init__(self, waiting: int, cap: int) -> None:
        super().__init__(f"{waiting} jobs are waiting (the cap is {cap}): retry later")


def waiting_jobs(redis: Redis, settings: Settings) -> int:
    """Jobs queued or deferred behind their dependencies, in both queues."""
    return sum(queue.count + DeferredJobRegistry(queue=queue).count for queue in queues(redis, settings).values())


def cap(settings: Settings, bulk: bool) -> int:
    """The most jobs that may wait once a submission is accepted (``bulk``: it adds bulk jobs)."""
    return settings.max_queued_jobs - (int(settings.max_queued_jobs * RESERVE) if bulk else 0)


def check_capacity(redis: Redis, settings: Settings, new_jobs: int = 1, bulk: bool = False) -> None:
    """QueueFull when ``new_jobs`` more would exceed the cap (``bulk``: some of them are bulk jobs)."""
    waiting, limit = waiting_jobs(redis, settings), cap(settings, bulk)
    if waiting + new_jobs > limit:
        raise QueueFull(waiting, limit)
