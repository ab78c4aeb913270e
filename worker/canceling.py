"""Canceling from inside a job: the work horse's side of ``tlprobe.submit.cancel``.

RQ takes a job's id off the queue before it marks the job started, so a cancel can land between the
two, where removing the job from the queue does nothing and RQ would overwrite "canceled" with
"started". A cancel therefore first sets a marker (``tlprobe.keys.cancel_request``); the worker
checks it before it forks a work horse, and the horse when it starts, at its progress reports (at
most one check per 0.5 s) and before it stores a result, raising ``JobCanceled``, which the worker
turns into RQ's "stopped" (the public "canceled"), never retried.
"""

from __future__ import annotations

from redis import Redis

from tlprobe import keys


class JobCanceled(Exception):
    """The job's cancel marker is set: the job stops here."""


def is_canceled(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(keys.cancel_request(job_id)))


def stop_if_canceled(job) -> None:
    if is_canceled(job.connection, job.id):
        raise JobCanceled(f"job {job.id} was canceled")
