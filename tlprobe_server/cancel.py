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

Who may cancel: with tokens on, a job is held by every token that submitted it, a phase diagram's
parts by the diagrams that use them, and a job that others wait for by those others
(``tlprobe_server.holders``). A cancel detaches its
caller; the job stops only when no holder is left, so one user's cancel never stops what another
still wants. A stopped diagram detaches itself from its parts in turn, and those nobody else holds
are stopped too.
"""

from __future__ import annotations

import contextlib
import logging
from enum import Enum

from redis import Redis
from rq import Worker
from rq.command import send_command
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.job import JobStatus as RQStatus

from tlprobe.contract.jobs import JobStatus, JobView

from . import holders, keys
from .job_views import fetch_job, public_status
from .settings import Settings
from .submission import job_view, submission_lock

log = logging.getLogger(__name__)


class JobCanceled(Exception):
    """The job's cancel marker is set: the job stops here."""


def is_canceled(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(keys.cancel_request(job_id)))


def stop_if_canceled(job) -> None:
    """In a work horse: raise JobCanceled if the running job was canceled."""
    if is_canceled(job.connection, job.id):
        raise JobCanceled(f"job {job.id} was canceled")


class NotAHolder(PermissionError):
    """A cancel by a token that did not submit the job (nor holds it otherwise)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was not submitted with this token: only a token that submitted it (or an "
                         "admin token) may cancel it")


class Outcome(str, Enum):
    """What a cancel did: stopped the job, only detached its caller (other holders still want the job), or
    nothing (the job had ended)."""

    canceled = "canceled"
    detached = "detached"
    ended = "ended"


def cancel(redis: Redis, job_id: str, settings: Settings, by: str | None = None) -> tuple[JobView, Outcome]:
    """Cancel a queued job or stop a running one on behalf of ``by`` (a holder, ``tlprobe_server.holders``;
    None: outright, whoever holds it). ``by`` is detached from the job, which is stopped only once no
    holder is left; NotAHolder if ``by`` does not hold it. A job that has ended is returned as it is.
    A stopped job detaches itself from the jobs it held (a phase diagram's parts, the network a part
    waits for), and stops those that nothing else holds."""
    with submission_lock(redis, job_id):  # no submission joins the job while its holders are counted
        view = job_view(redis, job_id)
        if view.status.ended:
            return view, Outcome.ended
        if by is not None:
            left = holders.detach(redis, Job.key_for(job_id), by)
            if left is None:
                raise NotAHolder(job_id)
            if left:
                log.info("cancel of %s detached one holder; %d left", job_id, left)
                return job_view(redis, job_id), Outcome.detached
        view, job = stop(redis, job_id, settings)
        if job is not None:  # under the job's lock: a resubmission of it waits for this
            release_dependencies(redis, settings, job)
    return view, Outcome.canceled


def dependencies(job: Job) -> list[str]:
    """The jobs a job holds: those it waits for, and for a phase diagram every job of its plan."""
    plan = job.meta.get("plan") or {}
    planned = list(plan.get("networks", [])) + [part["job_id"] for part in plan.get("parts", [])]
    return list(dict.fromkeys([*job.dependency_ids, *planned]))


def release_dependencies(redis: Redis, settings: Settings, job: Job) -> int:
    """Detach a stopped job from the jobs it held, and stop each that is left with no holder (their own
    dependencies in turn: a diagram's network goes once no part of any diagram waits for it). Returns how
    many were stopped."""
    pending, stopped = [(job.id, dependencies(job))], 0
    while pending:
        holder_id, held = pending.pop()
        for part_id in held:
            with submission_lock(redis, part_id):
                if holders.detach(redis, Job.key_for(part_id), holders.job(holder_id)) != 0:
                    continue  # still held, or never held by it (cached when it was planned)
                part = fetch_job(redis, part_id)
                if part is None or public_status(part).ended:
                    continue
                stop(redis, part_id, settings)
            stopped += 1
            pending.append((part_id, dependencies(part)))
    if stopped:
        log.info("canceling %s stopped %d jobs that only it held", job.id, stopped)
    return stopped


def stop(redis: Redis, job_id: str, settings: Settings) -> tuple[JobView, Job | None]:
    """Cancel a queued job or stop a running one, whoever holds it: its view afterwards, and its RQ record."""
    redis.set(keys.cancel_request(job_id), b"1", ex=settings.job_ttl)
    job = fetch_job(redis, job_id)
    if job is None:
        return job_view(redis, job_id), None
    if public_status(job) is JobStatus.queued:
        try:
            job.cancel()
        except InvalidJobOperation:  # canceled at the same moment by another request, or by its worker
            log.info("cancel of %s raced with another", job_id)
    if job.worker_name:
        send_command(redis, job.worker_name, "stop-job", job_id=job_id)
    return job_view(redis, job_id), job


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
