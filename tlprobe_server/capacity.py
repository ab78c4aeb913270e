"""Backpressure: the queue that jobs wait in, and the cap on how many may wait.

Nothing accepted is ever dropped: a submission is refused (``QueueFull``, a 503 with Retry-After)
before anything of it is enqueued when the jobs it would add would take the waiting jobs (queued, or
deferred behind their dependencies) past ``max_queued_jobs``. A phase diagram counts all its parts.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.registry import DeferredJobRegistry
from rq.serializers import JSONSerializer

from .settings import Settings


class QueueFull(Exception):
    """Accepting the submission would queue more jobs than the configured cap."""

    RETRY_AFTER = 30

    def __init__(self, waiting: int, cap: int) -> None:
        super().__init__(f"{waiting} jobs are waiting (the cap is {cap}): retry later")


def queue_for(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis, serializer=JSONSerializer)


def waiting_jobs(redis: Redis, settings: Settings) -> int:
    """Jobs queued or deferred behind their dependencies."""
    queue = queue_for(redis, settings)
    return queue.count + DeferredJobRegistry(queue=queue).count


def check_capacity(redis: Redis, settings: Settings, new_jobs: int = 1) -> None:
    """QueueFull when ``new_jobs`` more would exceed ``max_queued_jobs`` waiting jobs."""
    waiting = waiting_jobs(redis, settings)
    if waiting + new_jobs > settings.max_queued_jobs:
        raise QueueFull(waiting, settings.max_queued_jobs)
