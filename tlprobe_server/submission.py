"""One submission pipeline for every kind: cache hit, de-duplication, stale replacement, capacity,
fan-out, enqueue.

A submission's job id is derived from its cache key. A result stored for good is returned at once
(a phase diagram with failed cells is not for good: asking again retries them). Otherwise, under a
per-id Redis lock, the job is enqueued unless it exists, so any number of identical submissions,
concurrent or not, create one job; a duplicate joins the existing job, unless that one failed or was
canceled (or finished and its result expired, or left a result not for good), in which case it is
replaced by a fresh one: resubmitting is how a user retries.

A kind that fans out (a phase diagram) submits its parts through this same pipeline, from the plan
made once by the caller (``kinds.ServerKind.fan_out``), before its own job, which depends on them.
Capacity counts every job a submission may add, before any is enqueued. A job waits in its kind's
queue (``kind.lane``), a fan-out's parts in their parent's; an interactive submission joining a job
still waiting in bulk promotes it (``queues.promote``). A job that reads uploaded
datasets reserves them (``dataset_store.reserved``) around its enqueueing, under its lock: the lock
order is always submission lock, then dataset locks, so submissions and deletions never deadlock.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel
from redis import Redis
from rq import Queue, Retry
from rq.job import Dependency, Job

from tlprobe.contract.jobs import JobStatus, JobView, Submission
from tlprobe.kinds import Kind, kind_of_job

from . import dataset_store, keys, logs, result_store
from .capacity import check_capacity
from .job_views import fetch_job, finished_view, view_of
from .kinds import SERVER_KINDS, ServerKind
from .queues import Lane, promote, queue, queue_name
from .settings import Settings

log = logging.getLogger(__name__)
#: seconds a submission lock is held at most (and waited for at most)
LOCK_TIMEOUT = 30
#: the RQ entry point of every job: ``run(kind, request)`` runs the kind's computation
TASK = "worker.tasks.run"


class UnknownJob(LookupError):
    pass


def _request_id() -> dict[str, str]:
    """The id of the request (or of the job) that enqueues, for the job's meta: its worker logs under it."""
    current = logs.request_id.get()
    return {} if current is None else {"request_id": current}


def enqueue(queue: Queue, kind: ServerKind, request: BaseModel, job_id: str, settings: Settings,
            depends_on: list[str] | None = None, meta: dict | None = None) -> Job:
    queue.connection.delete(keys.cancel_request(job_id))  # a cancel of an earlier job of this id does not stop this one
    retry = Retry(max=settings.job_retries) if settings.job_retries else None
    # a part that failed must not block its dependents: they run and report (or redo) it
    dependency = Dependency(jobs=depends_on, allow_failure=True) if depends_on else None
    return queue.enqueue_call(
        TASK, kwargs={"kind": kind.name, "request": request.model_dump(mode="json")}, job_id=job_id,
        timeout=kind.timeout(settings), result_ttl=settings.job_ttl, failure_ttl=settings.job_ttl,
        retry=retry, meta={"kind": kind.name, **_request_id(), **(meta or {})}, description=f"{kind.name} {job_id}",
        depends_on=dependency)


def is_stale(redis: Redis, view: JobView) -> bool:
    """A job to replace rather than join: it failed, was canceled, waits on a canceled part, or
    finished with its result gone."""
    if view.status.unsuccessful:
        return True
    return view.status is JobStatus.finished and not result_store.exists(redis, view.job_id)


def cache_hit(redis: Redis, kind: Kind, job_id: str) -> Submission | None:
    """The finished submission of a result stored for good, else None."""
    stored = result_store.raw(redis, job_id)
    if stored is None or not result_store.is_final(stored):
        return None
    return Submission(**finished_view(job_id, kind.name).model_dump(), cached=True, result=json.loads(stored))


def submit(redis: Redis, settings: Settings, kind: ServerKind, request: BaseModel, *, plan: Any = None,
           depends_on: list[str] | None = None, meta: dict | None = None, lane: Lane | None = None) -> Submission:
    """Submit ``request`` (validated; ``plan``: the kind's plan, made once by the caller, for a kind that
    fans out; ``lane``: the queue, by default the kind's). Raises ``dataset_store.DatasetMissing`` when
    a dataset the job would read is not stored, ``capacity.QueueFull`` when the queues cannot take its jobs."""
    lane = lane or kind.lane
    job_id = kind.job_id(request)
    hit = cache_hit(redis, kind, job_id)
    if hit is not None:
        return hit
    dataset_ids = kind.dataset_ids(request)
    with submission_lock(redis, job_id):
        hit = cache_hit(redis, kind, job_id)  # it may have finished while we waited
        if hit is not None:
            return hit
        not_for_good = result_store.exists(redis, job_id)  # e.g. a phase diagram with failed cells
        job = fetch_job(redis, job_id)
        if job is not None:
            view = view_of(job, kind.name)
            if not not_for_good and not is_stale(redis, view):
                with dataset_store.reserved(redis, settings, dataset_ids, job_id):  # renews the datasets' lifetime
                    if lane is Lane.interactive and job.origin == queue_name(settings, Lane.bulk):
                        promoted = promote(redis, settings, job_id)
                        if promoted:
                            log.info("promoted %s to the interactive queue", ", ".join(promoted))
                    return Submission(**view.model_dump(), cached=False)
            log.info("replacing %s job %s", view.status.value, job_id)
            job.delete()
        if not_for_good:
            result_store.delete(redis, job_id)
        # all of its jobs, or nothing
        check_capacity(redis, settings, new_jobs=1 + kind.part_count(plan), bulk=lane is Lane.bulk)
        if kind.fan_out is not None:
            depends_on, meta = kind.fan_out(lambda name, part, after: submit(
                redis, settings, SERVER_KINDS[name], part, depends_on=after, lane=lane), plan)
        with dataset_store.reserved(redis, settings, dataset_ids, job_id):
            job = enqueue(queue(redis, settings, lane), kind, request, job_id, settings, depends_on, meta)
    log.info("enqueued %s" + (f" after {len(depends_on)} parts" if depends_on else ""), job_id)
    return Submission(**view_of(job, kind.name).model_dump(), cached=False)


def cached_submission(job_id: str, kind: Kind, stored: bytes) -> bytes:
    """The JSON of a submission answered from the cache: the finished job's view with the stored
    result spliced in as it is (the same document as ``Submission(cached=True, result=...)``)."""
    view = Submission(**finished_view(job_id, kind.name).model_dump(), cached=True)
    envelope = view.model_dump_json(exclude={"result"}).encode()
    return envelope[:-1] + b',"result":' + stored.strip() + b"}"


def submission_lock(redis: Redis, job_id: str):
    """Serialises check-then-enqueue per job id (RQ's own ``unique`` flag cannot be combined with
    dependencies). It expires on its own if an API process dies holding it."""
    return redis.lock(keys.submit_lock(job_id), timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT)


def job_view(redis: Redis, job_id: str) -> JobView:
    kind = kind_of_job(job_id)
    if kind is None:
        raise UnknownJob(job_id)
    job = fetch_job(redis, job_id)
    if job is not None:
        return view_of(job, kind.name)
    if result_store.exists(redis, job_id):
        return finished_view(job_id, kind.name)
    raise UnknownJob(job_id)
