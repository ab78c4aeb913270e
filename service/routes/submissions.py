"""Shared by every submitting route: budget check, submit, 200-or-202, metrics."""

from __future__ import annotations

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from redis import Redis

from .. import access, budget, queueing
from ..kinds import JobKind
from ..metrics import Metrics
from ..schemas.jobs import Submission
from ..settings import Settings

ERRORS = {
    400: {"description": "The body is not JSON text (e.g. not valid UTF-8)."},
    401: {"description": "A bearer token is required (when the service is configured with tokens)."},
    429: {"description": "Too many submissions for this token in this minute (see Retry-After)."},
    422: {"description": "Invalid input: each error names the field and the reason (bounds are in the schema)."},
    413: {"description": "Request body larger than the configured limit."},
    503: {"description": "Redis unreachable, or the queue is full: retry later."},
}


def check_budget(request: BaseModel, settings: Settings, location: tuple = ("body",)) -> None:
    try:
        budget.check(request, settings)
    except budget.BudgetExceeded as exc:
        raise RequestValidationError([{"type": "budget", "loc": location, "msg": str(exc), "input": None}]) from None
    except ValidationError as exc:  # a planned part is invalid: a cross-field rule the schema let through
        raise RequestValidationError([{"type": "value_error", "loc": location, "msg": error["msg"], "input": None}
                                      for error in exc.errors()]) from None


def submit(kind: JobKind, request: BaseModel, redis: Redis, settings: Settings, metrics: Metrics,
           response: Response, token_id: str | None) -> Submission:
    check_budget(request, settings)
    access.charge(redis, settings, token_id)
    submission = queueing.submit(redis, settings, kind, request)
    response.status_code = 200 if submission.cached else 202
    metrics.submissions.labels(kind.name, "cached" if submission.cached else "queued").inc()
    return submission
