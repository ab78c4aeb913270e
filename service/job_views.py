"""RQ's job states and records, translated into the public ``JobView``."""

from __future__ import annotations

from rq.job import Job, JobStatus as RQStatus

from .kinds import JobKind
from .schemas.jobs import JobLinks, JobStatus, JobView, Progress

PUBLIC_STATUS = {
    RQStatus.QUEUED: JobStatus.queued,
    RQStatus.DEFERRED: JobStatus.queued,
    RQStatus.SCHEDULED: JobStatus.queued,  # a retry waiting for its slot
    RQStatus.CREATED: JobStatus.queued,
    RQStatus.STARTED: JobStatus.started,
    RQStatus.FINISHED: JobStatus.finished,
    RQStatus.FAILED: JobStatus.failed,
    RQStatus.STOPPED: JobStatus.canceled,
    RQStatus.CANCELED: JobStatus.canceled,
}
TERMINAL = {JobStatus.finished, JobStatus.failed, JobStatus.canceled}


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
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "failed"


def view_of(job: Job, kind: JobKind) -> JobView:
    status = PUBLIC_STATUS.get(job.get_status(refresh=False), JobStatus.queued)
    progress = job.meta.get("progress")
    return JobView(
        job_id=job.id, kind=kind.name, status=status,
        progress=Progress(**progress) if progress else None,
        created_at=job.created_at, started_at=job.started_at, ended_at=job.ended_at,
        error=failure_reason(job) if status is JobStatus.failed else None,
        links=links(job.id),
    )


def finished_view(job_id: str, kind: JobKind) -> JobView:
    """A job whose RQ record has expired but whose result is still cached."""
    return JobView(job_id=job_id, kind=kind.name, status=JobStatus.finished, links=links(job_id))
