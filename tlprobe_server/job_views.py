"""RQ's job records and states, translated into the public ``JobView``."""

from __future__ import annotations

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.serializers import JSONSerializer

from tlprobe.contract.jobs import JobLinks, JobStatus, JobView, Progress

PUBLIC_STATUS = {
    RQStatus.QUEUED: JobStatus.queued,
    RQStatus.DEFERRED: JobStatus.queued,
    RQStatus.SCHEDULED: JobStatus.queued,  # a retry waiting for its slot
    RQStatus.CREATED: JobStatus.queued,
    RQStatus.READY_TO_ENQUEUE: JobStatus.queued,  # its dependencies ended: about to be queued
    RQStatus.RATE_LIMITED: JobStatus.queued,
    RQStatus.STARTED: JobStatus.started,
    RQStatus.FINISHED: JobStatus.finished,
    RQStatus.FAILED: JobStatus.failed,
    RQStatus.STOPPED: JobStatus.canceled,
    RQStatus.CANCELED: JobStatus.canceled,
}


def fetch_job(redis: Redis, job_id: str) -> Job | None:
    """A job's RQ record, or None once it expired (or never existed)."""
    try:
        return Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return None


def links(job_id: str) -> JobLinks:
    return JobLinks(self=f"/v1/jobs/{job_id}", result=f"/v1/jobs/{job_id}/result")


def failure_reason(job: Job) -> str | None:
    """A short reason: what the task recorded, else the last line of the exception."""
    reason = job.meta.get("error")
    if reason:
        return reason
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or job.exc_info or ""
    if "AbandonedJobError" in text:
        return "abandoned: the worker running it died and no retries were left"
    if "Work-horse terminated unexpectedly" in text:
        return ("killed: the process running it died (e.g. out of memory) and no retries were left; "
                + text.strip().splitlines()[-1][:300])
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "failed"


def parts_progress(job: Job) -> tuple[Progress, str | None]:
    """Progress of a job waiting on parts (meta "parts": the pending [job_id, cells] at submission,
    "cells": the total over all parts): cells of cached parts and of parts that have ended count as
    done. If a part was canceled (RQ never releases dependents of a canceled job), says why the job
    is blocked."""
    parts = job.meta["parts"]
    with job.connection.pipeline(transaction=False) as pipe:  # reads: no MULTI, which a full Redis refuses
        for part_id, _ in parts:
            pipe.hget(Job.key_for(part_id), "status")
        statuses = pipe.execute()
    done, blocked = job.meta["cells"] - sum(cells for _, cells in parts), None
    for (part_id, cells), raw in zip(parts, statuses):
        status = PUBLIC_STATUS[RQStatus(raw.decode())] if raw else JobStatus.finished  # expired: it ended
        if status.ended and status is not JobStatus.canceled:
            done += cells
        elif status is JobStatus.canceled:
            blocked = f"part {part_id} was canceled: resubmit to recompute what is missing"
    return Progress(stage="cells", done=done, total=job.meta["cells"]), blocked


def public_status(job: Job) -> JobStatus:
    """The job's status as the API shows it (RQ's record as last read)."""
    return PUBLIC_STATUS.get(job.get_status(refresh=False), JobStatus.queued)


def view_of(job: Job, kind: str) -> JobView:
    """``kind``: the job's kind's name."""
    status = public_status(job)
    progress = job.meta.get("progress")
    progress = Progress(**progress) if progress else None
    error = failure_reason(job) if status is JobStatus.failed else None
    if status is JobStatus.queued and "parts" in job.meta:
        progress, blocked = parts_progress(job)
        if blocked:
            status, error = JobStatus.failed, blocked
    return JobView(job_id=job.id, kind=kind, status=status, progress=progress, created_at=job.created_at,
                   started_at=job.started_at, ended_at=job.ended_at, error=error, links=links(job.id))


def finished_view(job_id: str, kind: str) -> JobView:
    """A job whose RQ record has expired but whose result is still cached (``kind``: its kind's name)."""
    return JobView(job_id=job_id, kind=kind, status=JobStatus.finished, links=links(job_id))
