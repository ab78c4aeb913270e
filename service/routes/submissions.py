"""Shared by every submitting route: cache hit, budget check, submit, 200-or-202, metrics.

A submission whose result is cached is answered first, on the event loop, from the stored bytes
spliced into the submission (``tlprobe.submit.cached_submission``), without parsing them and without
a budget check (it costs nothing). Anything else (budget, de-duplication under a lock, enqueueing:
synchronous Redis and RQ) runs in the thread pool. The submitting routes take the app's settings,
clients and metrics from ``request.app.state`` rather than as dependencies: FastAPI's solving of
each dependency costs more than a cache hit's own work.
"""

from __future__ import annotations

from contextlib import contextmanager

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from redis import Redis

from tlprobe import datasets, results
from tlprobe import submit as submission
from tlprobe.budget import BudgetExceeded
from tlprobe.contract.datasets import DatasetDescription
from tlprobe.contract.jobs import Submission
from tlprobe.diagrams.plan import InvalidCell
from tlprobe.kinds import JobKind
from tlprobe.settings import Settings

from .. import access
from ..metrics import Metrics
from ..stored import json_response, read_result

ERRORS = {
    400: {"description": "The body is not JSON text (e.g. not valid UTF-8)."},
    401: {"description": "A bearer token is required (when the service is configured with tokens)."},
    429: {"description": "Too many submissions for this token in this minute (see Retry-After)."},
    422: {"description": "Invalid input: each error names the field and the reason (bounds are in the schema)."},
    413: {"description": "Request body larger than the configured limit."},
    503: {"description": "Redis unreachable, or the queue is full: retry later."},
}


@contextmanager
def refused_as_422(location: tuple = ("body",)):
    """A budget exceeded, or a diagram cell that breaks a rule of learning curves (naming the cell),
    becomes a 422 at ``location``."""
    try:
        yield
    except BudgetExceeded as exc:
        raise RequestValidationError([{"type": "budget", "loc": location, "msg": str(exc), "input": None}]) from None
    except InvalidCell as exc:
        raise RequestValidationError([{"type": "value_error", "loc": location, "msg": str(exc), "input": None}]) from None
    except ValidationError as exc:
        raise RequestValidationError([{"type": "value_error", "loc": location, "msg": error["msg"], "input": None}
                                      for error in exc.errors()]) from None


def check_budget(kind: JobKind, request: BaseModel, settings: Settings, location: tuple = ("body",), **extra) -> None:
    with refused_as_422(location):
        kind.budget(request, settings, **extra)


def _dataset_error(location: tuple, msg: str) -> dict:
    return {"type": "dataset", "loc": location, "msg": msg, "input": None}


def check_datasets(kind: JobKind, request: BaseModel, redis: Redis,
                   location: tuple = ("body",)) -> dict[str, DatasetDescription] | None:
    """For a kind that reads datasets: their descriptions (a 422 naming the field when one is not
    stored, or when the request asks more of them than they hold). None for other kinds."""
    if kind.datasets is None:
        return None
    fields = kind.datasets(request)
    described, errors = {}, []
    for field, dataset_id in fields:
        description = datasets.describe(redis, dataset_id)
        if description is None:
            errors.append(_dataset_error(location + field, str(datasets.DatasetMissing(dataset_id))))
        described[dataset_id] = description
    if not errors:
        errors = [_dataset_error(location + loc, msg) for loc, msg in request.dataset_problems(described)]
    if errors:
        raise RequestValidationError(errors)
    return described


def check_request(kind: JobKind, request: BaseModel, redis: Redis, settings: Settings,
                  location: tuple = ("body",)) -> None:
    """Everything checked before a request is accepted beyond its schema: datasets, then budget. A
    request on datasets whose result is cached is answered from the cache, even once its datasets
    are deleted or expired (the result is keyed by their content)."""
    if kind.datasets is not None and kind.datasets(request) and results.exists(redis, kind.job_id(request)):
        return
    described = check_datasets(kind, request, redis, location)
    check_budget(kind, request, settings, location, **({} if described is None else {"datasets": described}))


@contextmanager
def missing_dataset_as_422(location: tuple = ("body",)):
    """A dataset deleted between the checks and the submission (a race) is refused like one never stored."""
    try:
        yield
    except datasets.DatasetMissing as exc:
        raise RequestValidationError([_dataset_error(location, str(exc))]) from None


async def from_cache(kind: JobKind, job_id: str, http: Request) -> Response | None:
    """200 with the cached result when there is one for good (a phase diagram with failed cells is
    not: a resubmission retries them), else None."""
    stored = await read_result(http, job_id)
    if stored is None or not stored.final:
        return None
    http.app.state.metrics.submissions.labels(kind.name, "cached").inc()
    return json_response(http, submission.cached_submission(job_id, kind, stored.body))


async def submit(kind: JobKind, request: BaseModel, http: Request, response: Response,
                 token_id: str | None) -> Submission | Response:
    cached = await from_cache(kind, kind.job_id(request), http)
    if cached is not None:
        return cached
    state = http.app.state
    return await run_in_threadpool(submit_uncached, kind, request, state.redis, state.settings, state.metrics, response,
                                   token_id)


def submit_uncached(kind: JobKind, request: BaseModel, redis: Redis, settings: Settings, metrics: Metrics,
                    response: Response, token_id: str | None) -> Submission:
    check_request(kind, request, redis, settings)
    access.charge(redis, settings, token_id)
    with missing_dataset_as_422():
        result = submission.submit(redis, settings, kind, request)
    response.status_code = 200 if result.cached else 202
    metrics.submissions.labels(kind.name, "cached" if result.cached else "queued").inc()
    return result
