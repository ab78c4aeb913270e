"""Shared by every submitting route: budget check, submit, 200-or-202, metrics."""

from __future__ import annotations

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from redis import Redis

from .. import budget, queueing
from ..kinds import JobKind
from ..metrics import Metrics
from ..schemas.jobs import Submission
from ..settings import Settings

ERRORS = {
    422: {"description": "Invalid input: each error names the field and the reason (bounds are in the schema)."},
    413: {"description": "Request body larger than the configured limit."},
    503: {"description": "Redis unreachable, or the queue is full: retry later."},
}


def check_budget(request: BaseModel, settings: Settings, location: tuple = ("body",)) -> None:
    try:
        budget.check(request, settings)
    except budget.BudgetExceeded as exc:
        raise RequestValidationError([{"type": "budget", "loc": location, "msg": str(exc), "input": None}]) from None


def submit(kind: JobKind, request: BaseModel, redis: Redis, settings: Settings, metrics: Metrics,
           response: Response) -> Submission:
    check_budget(request, settings)
    submission = queueing.submit(redis, settings, kind, request)
    response.status_code = 200 if submission.cached else 202
    metrics.submissions.labels(kind.name, "cached" if submission.cached else "queued").inc()
    return submission
