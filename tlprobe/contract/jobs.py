"""Job and batch views: the public life of a computation."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field

from .common import Strict
from .gcm import GCMRequest
from .learning_curve import LearningCurveRequest

MAX_BATCH = 100


class JobStatus(str, Enum):
    queued = "queued"
    started = "started"
    finished = "finished"
    failed = "failed"
    canceled = "canceled"


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


class LearningCurveItem(Strict):
    kind: Literal["learning_curve"]
    request: LearningCurveRequest = LearningCurveRequest()


class GCMItem(Strict):
    kind: Literal["gcm"]
    request: GCMRequest


BatchItem = Annotated[Union[LearningCurveItem, GCMItem], Field(discriminator="kind")]


class BatchRequest(Strict):
    requests: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH, description=f"At most {MAX_BATCH} requests.")


class BatchJob(BaseModel):
    job_id: str
    kind: str
    status: JobStatus


class BatchView(BaseModel):
    batch_id: str
    counts: dict[JobStatus, int]
    jobs: list[BatchJob]
