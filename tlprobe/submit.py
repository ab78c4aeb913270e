"""Submitting work: cache hits, de-duplication, enqueueing, batches, cancellation.

A submission's job id is derived from its cache key. If the result is cached, it is returned at
once. Otherwise, under a per-id Redis lock, the job is enqueued unless it exists, so any number of
identical submissions, concurrent or not, create one job; a duplicate joins the existing job, unless
that one failed or was canceled (or finished and its result expired), in which case it is replaced
by a fresh one: resubmitting is how a user retries.
"""

from __future__ import annotations

import json
import logging
import secrets

from pydantic import BaseModel
from redis import Redis
from rq import Queue, Retry
from rq.command import send_command
from rq.exceptions import InvalidJobOperation
from rq.job import Dependency, Job
from rq.registry import DeferredJobRegistry
from rq.serializers import JSONSerializer

from . import datasets, keys, logs, results
from .contract.jobs import BatchJob, BatchView, JobStatus, JobView, Submission
from .kinds import JobKind, kind_of_job
from .settings import Settings
from .views import PUBLIC_STATUS, TERMINAL, fetch_job, finished_view, view_of

log = logging.getLogger(__name__)
#: seconds a submission lock is held at most (and waited for at most)
LOCK_TIMEOUT = 30


class UnknownJob(LookupError):
    pass


class QueueFull(Exception):
    """Backpressure: accepting the submission would queue more jobs than the configured cap."""

    RETRY_AFTER = 30

    def __init__(self, waiting: int, cap: int) -> None:
        super().__init__(f"{waiting} jobs are waiting (the cap is {cap}): retry later")


def check_capacity(redis: Redis, settings: Settings, new_jobs: int = 1) -> None:
    """Refuse (QueueFull) when ``new_jobs`` more would exceed ``max_queued_jobs`` waiting jobs
    (queued, or deferred behind dependencies). Nothing accepted is ever dropped: the check comes
    before anything is enqueued."""
    queue = queue_for(redis, settings)
    waiting = queue.count + DeferredJobRegistry(queue=queue).count
    if waiting + new_jobs > settings.max_queued_jobs:
        raise QueueFull(waiting, settings.max_queued_jobs)


def queue_for(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis, serializer=JSONSerializer)


def _request_id() -> dict[str, str]:
    """The id of the request (or of the job) that enqueues, for the job's meta: its worker logs under it."""
    current = logs.request_id.get()
    return {} if current is None else {"request_id": current}


def enqueue(queue: Queue, kind: JobKind, request: BaseModel, job_id: str, settings: Settings,
             depends_on: list[str] | None = None, meta: dict | None = None) -> Job:
    queue.connection.delete(keys.cancel_request(job_id))  # a cancel of an earlier job of this id does not stop this one
    retry = Retry(max=settings.job_retries) if settings.job_retries else None
    # a part that failed must not block its dependents: they run and report (or redo) it
    dependency = Dependency(jobs=depends_on, allow_failure=True) if depends_on else None
    return queue.enqueue_call(
        kind.task, kwargs={"request": request.model_dump(mode="json")}, job_id=job_id,
        timeout=kind.timeout(settings), result_ttl=settings.job_ttl, failure_ttl=settings.job_ttl,
        retry=retry, meta={"kind": kind.name, **_request_id(), **(meta or {})}, description=f"{kind.name} {job_id}",
        depends_on=dependency)


def is_stale(redis: Redis, view: JobView) -> bool:
    """A job to replace rather than join: it failed, was canceled, waits on a canceled part, or
    finished with its result gone."""
    if view.status in (JobStatus.failed, JobStatus.canceled):
        return True
    return view.status is JobStatus.finished and not results.exists(redis, view.job_id)


def submit(redis: Redis, settings: Settings, kind: JobKind, request: BaseModel, depends_on: list[str] | None = None,
           meta: dict | None = None) -> Submission:
    """Raises ``datasets.DatasetMissing`` when a dataset the job would read is not stored."""
    job_id = kind.job_id(request)
    result = results.get(redis, job_id)
    if result is not None:
        return Submission(**finished_view(job_id, kind).model_dump(), cached=True, result=result)
    dataset_ids = list(dict.fromkeys(i for _, i in kind.datasets(request))) if kind.datasets else []
    with datasets.reserved(redis, settings, dataset_ids, job_id), submission_lock(redis, job_id):
        result = results.get(redis, job_id)  # it may have finished while we waited
        if result is not None:
            return Submission(**finished_view(job_id, kind).model_dump(), cached=True, result=result)
        job = fetch_job(redis, job_id)
        if job is not None:
            view = view_of(job, kind)
            if not is_stale(redis, view):
                return Submission(**view.model_dump(), cached=False)
            log.info("replacing %s job %s", view.status.value, job_id)
            job.delete()
        check_capacity(redis, settings)
        job = enqueue(queue_for(redis, settings), kind, request, job_id, settings, depends_on, meta)
        log.info("enqueued %s", job_id)
        return Submission(**view_of(job, kind).model_dump(), cached=False)


def cached_submission(job_id: str, kind: JobKind, stored: bytes) -> bytes:
    """The JSON of a submission answered from the cache: the finished job's view with the stored
    result spliced in as it is (the same document as ``Submission(cached=True, result=...)``)."""
    view = Submission(**finished_view(job_id, kind).model_dump(), cached=True)
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
        return view_of(job, kind)
    if results.exists(redis, job_id):
        return finished_view(job_id, kind)
    raise UnknownJob(job_id)


def cancel(redis: Redis, job_id: str, settings: Settings) -> JobView:
    """Cancel a queued job or stop a running one; finished and failed jobs are left as they are.

    The cancel marker is set first (why, and where workers check it: ``worker.canceling``). The job is
    read again once it is set: a horse that started before then has recorded its worker, which is
    sent RQ's stop command (it kills the horse at once; a worker not running the job ignores it).
    """
    view = job_view(redis, job_id)
    if view.status in TERMINAL:
        return view
    redis.set(keys.cancel_request(job_id), b"1", ex=settings.job_ttl)
    job = fetch_job(redis, job_id)
    if job is None:
        return job_view(redis, job_id)
    if PUBLIC_STATUS.get(job.get_status(refresh=False)) is JobStatus.queued:
        try:
            job.cancel()
        except InvalidJobOperation:  # canceled at the same moment by another request, or by its worker
            log.info("cancel of %s raced with another", job_id)
    if job.worker_name:
        send_command(redis, job.worker_name, "stop-job", job_id=job_id)
    return job_view(redis, job_id)


def submit_batch(redis: Redis, settings: Settings, items: list[tuple[JobKind, BaseModel]]) -> tuple[str, list[Submission]]:
    submissions = [submit(redis, settings, kind, request) for kind, request in items]
    batch_id = secrets.token_hex(16)
    # a batch lives as long as its jobs' records, so every job in it can always be reported
    redis.set(keys.batch(batch_id), json.dumps([s.job_id for s in submissions]), ex=settings.job_ttl)
    return batch_id, submissions


def batch_view(redis: Redis, batch_id: str) -> BatchView:
    raw = redis.get(keys.batch(batch_id)) if len(batch_id) == 32 else None
    if raw is None:
        raise UnknownJob(batch_id)
    jobs = []
    for job_id in json.loads(raw):
        try:
            view = job_view(redis, job_id)
            jobs.append(BatchJob(job_id=job_id, kind=view.kind, status=view.status))
        except UnknownJob:  # only if Redis lost data: report it as failed rather than hide it
            jobs.append(BatchJob(job_id=job_id, kind=kind_of_job(job_id).name, status=JobStatus.failed))
    return batch_of(batch_id, jobs)


def batch_of(batch_id: str, jobs: list[BatchJob]) -> BatchView:
    counts = {status: sum(1 for j in jobs if j.status is status) for status in JobStatus}
    return BatchView(batch_id=batch_id, counts=counts, jobs=jobs)
