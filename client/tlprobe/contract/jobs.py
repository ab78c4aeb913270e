"""Job views: the public life of a computation (its status, progress and links)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class JobStatus(str, Enum):
    queued = "queued"
    started = "started"
    finished = "finished"
    failed = "failed"
    canceled = "canceled"

    @property
    def ended(self) -> bool:
        """finished, failed or canceled: this job will not change any more (resubmitting makes a new one)."""
        return self in (JobStatus.finished, JobStatus.failed, JobStatus.canceled)

    @property
    def unsuccessful(self) -> bool:
        """failed or canceled: ended without a result."""
        return self in (JobStatus.failed, JobStatus.canceled)


class Progress(BaseModel):
    stage: str = Field(description="What the job is doing now, e.g. source_network, covariances:tf, simulation.")
    done: int
    total: int


class JobLinks(BaseModel):
    self: str
    result: str


class JobView(BaseModel):
    job_id: str
    kind: str
    status: JobStatus
    progress: Progress | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = Field(None, description="Why the job failed, when it did (e.g. timeout).")
    links: JobLinks


class Submission(JobView):
    cached: bool = Field(description="True when the result was already computed: it is included and no job ran.")
    result: dict[str, Any] | None = None
