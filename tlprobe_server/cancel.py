"""Canceling a job, both sides of it: the request (``cancel``) and the worker's (``CancelingWorker``,
``stop_if_canceled``).

RQ takes a job's id off the queue before it marks the job started, so a cancel can land between the
two, where removing the job from the queue does nothing and RQ would overwrite "canceled" with
"started". A cancel therefore first sets a marker (``keys.cancel_request``, deleted when a job of
that id is enqueued anew), then reads the job again: a queued job is canceled, and the worker
recorded on a started one is sent RQ's stop command, which kills its work horse at once.

The worker checks the marker before it forks a work horse (``CancelingWorker.execute_job``: the job
is skipped), and the horse when it starts, at its progress reports (at most one check per 0.5 s) and
before it stores a result (``stop_if_canceled``, raising ``JobCanceled``). Any failure of a job whose
marker is set becomes RQ's "stopped" (the public "canceled"), never retried and logged without a
traceback. What a cancel cannot undo: a result stored in the milliseconds after the horse's last
check (docs/operations.md, "Canceling").
"""

from __future__ import annotations

import contextlib
import logging

from redis import Redis
from rq import Worker
from rq.command import send_command
from rq.exceptions import InvalidJobOperation
from rq.job import JobStatus as RQStatus

from tlprobe.contract.jobs import JobStatus, JobView

from . import keys
from .job_views import fetch_job, public_status
from .settings import Settings
from .submission import job_view

log = logging.getLogger(__name__)


class JobCanceled(Exception):
    """The job's cancel marker is set: the job stops here."""


def is_canceled(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(keys.cancel_request(job_id)))


def stop_if_canceled(job) -> None:
    """In a work horse: raise JobCanceled if the running job was canceled."""
    if is_canceled(job.connection, job.id):
        raise JobCanceled(f"job {job.id} was canceled")


def cancel(redis: Redis, job_id: str, settings: Settings) -> JobView:
    """Cancel a queued job or stop a running one; a job that has ended is returned as it is."""
    view = job_view(redis, job_id)
    if view.status.ended:
        return view
    redis.set(keys.cancel_request(job_id), b"1", ex=settings.job_ttl)
    job = fetch_job(redis, job_id)
    if job is None:
        return job_view(redis, job_id)
    if public_status(job) is JobStatus.queued:
        try:
            job.cancel()
        except InvalidJobOperation:  # canceled at the same moment by another request, or by its worker
            log.info("cancel of %s raced with another", job_id)
    if job.worker_name:
        send_command(redis, job.worker_name, "stop-job", job_id=job_id)
    return job_view(redis, job_id)


class CancelingWorker(Worker):
    """An RQ worker that honours cancel markers (see the module's docstring)."""

    def execute_job(self, job, queue):
        if self._canceled(job):
            # canceled between the dequeue and now (RQ pops the id before a cancel can remove it from the
            # queue): running it would overwrite the canceled status with started and do the work. A cancel
            # that comes after this check is seen by the work horse (stop_if_canceled).
            self.connection.lrem(queue.intermediate_queue_key, 1, job.id)
            self.log.info("skipped %s: canceled while it was being dequeued", job.id)
            return None
        self.log.info("dequeued %s from %s", job.id, queue.name)
        # a stop command that came as the last run of this id ended on its own would otherwise still be
        # recorded, and turn this run's failure or hand-back into "stopped"
        self._stopped_job_id = None
        return super().execute_job(job, queue)

    def _canceled(self, job) -> bool:
        if not is_canceled(self.connection, job.id):
            return job.get_status(refresh=True) == RQStatus.CANCELED
        with contextlib.suppress(InvalidJobOperation):  # the cancel may not have got to it yet
            job.cancel()
        return True

    def kill_horse(self, *args, **kwargs) -> None:
        if self.horse_pid:  # a stop command arriving as the horse ends: RQ would signal process group 0, its own
            super().kill_horse(*args, **kwargs)

    def canceled_failure(self, job) -> bool:
        """In ``handle_job_failure``: whether the job failed because it was canceled (its horse stopped itself,
        or was killed); it then ends as RQ's "stopped", which is never retried."""
        if not is_canceled(self.connection, job.id):
            return False
        self._stopped_job_id = job.id
        return True

    def handle_exception(self, job, *exc_info):
        if exc_info and exc_info[0] is JobCanceled:  # not an error: no traceback in the log
            self.log.info("stopped %s: canceled", job.id)
            return
        super().handle_exception(job, *exc_info)
