"""The route side of submitting, for every kind: what is checked before a request is accepted, the
answer from the cache on the event loop, and the uncached tail in the thread pool.

A submission whose result is cached for good is answered first, on the event loop, from the stored
bytes spliced into the submission (``tlprobe_server.submission.cached_submission``), without parsing
them and without any check (it costs nothing). Anything else runs in the thread pool: ``prepare``
(the kind's plan, made once; its datasets; its budget: each refusal a 422 naming the field), the rate
limit, then the one submission pipeline. The submitting routes take the app's settings, clients and
metrics from ``request.app.state`` rather than as dependencies: FastAPI's solving of each dependency
costs more than a cache hit's own work.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from redis import Redis

from tlprobe.contract.datasets import DatasetDescription
from tlprobe.contract.jobs import Submission
from tlprobe_server import dataset_store, result_store, submission
from tlprobe_server.budget import BudgetExceeded
from tlprobe_server.diagrams.plan import InvalidCell
from tlprobe_server.kinds import ServerKind
from tlprobe_server.settings import Settings

from . import access
from .metrics import Metrics
from .stored import json_response, read_result

ERRORS = {
    400: {"description": "The body is not JSON text (e.g. not valid UTF-8)."},
    401: {"description": "A bearer token is required (when the service is configured with tokens)."},
    429: {"description": "Too many submissions for this token in this minute (see Retry-After)."},
    422: {"description": "Invalid input: each error names the field and the reason (bounds are in the schema)."},
    413: {"description": "Request body larger than the configured limit."},
    503: {"description": "Redis unreachable, or the queue is full: retry later."},
}
#: the answers of every submitting route
SUBMITTED = {200: {"model": Submission, "description": "Already computed: the result is included."}, **ERRORS}


@dataclass(frozen=True)
class Prepared:
    """A request that passed every check: its kind, and the plan of a kind that fans out (else None)."""

    kind: ServerKind
    request: BaseModel
    plan: Any = None


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


def _dataset_error(location: tuple, msg: str) -> dict:
    return {"type": "dataset", "loc": location, "msg": msg, "input": None}


def check_datasets(kind: ServerKind, request: BaseModel, redis: Redis,
                   location: tuple = ("body",)) -> dict[str, DatasetDescription] | None:
    """For a kind that reads datasets: their descriptions (a 422 naming the field when one is not
    stored, or when the request asks more of them than they hold). None for other kinds."""
    if kind.datasets is None:
        return None
    described, errors = {}, []
    for field, dataset_id in kind.datasets(request):
        description = dataset_store.describe(redis, dataset_id)
        if description is None:
            errors.append(_dataset_error(location + field, str(dataset_store.DatasetMissing(dataset_id))))
        described[dataset_id] = description
    if not errors:
        errors = [_dataset_error(location + loc, msg) for loc, msg in request.dataset_problems(described)]
    if errors:
        raise RequestValidationError(errors)
    return described


def prepare(kind: ServerKind, request: BaseModel, redis: Redis, settings: Settings,
            location: tuple = ("body",)) -> Prepared:
    """Everything checked before a request is accepted beyond its schema: its plan (made once: it is
    budgeted, submitted and recorded), its datasets, its budget. A request whose result is stored for
    good needs none of it: it is answered from the cache, even once its datasets are deleted or expired
    (the result is keyed by their content)."""
    with refused_as_422(location):
        plan = kind.make_plan(request, settings)
    stored = result_store.raw(redis, kind.job_id(request))
    if stored is not None and result_store.is_final(stored):
        return Prepared(kind, request, plan)
    described = check_datasets(kind, request, redis, location)
    if kind.budget is not None:
        extra: dict[str, Any] = {} if described is None else {"datasets": described}
        if plan is not None:
            extra["layout"] = plan
        with refused_as_422(location):
            kind.budget(request, settings, **extra)
    return Prepared(kind, request, plan)


@contextmanager
def missing_dataset_as_422(location: tuple = ("body",)):
    """A dataset deleted between the checks and the submission (a race) is refused like one never stored."""
    try:
        yield
    except dataset_store.DatasetMissing as exc:
        raise RequestValidationError([_dataset_error(location, str(exc))]) from None


def count(metrics: Metrics, result: Submission) -> None:
    metrics.submissions.labels(result.kind, "cached" if result.cached else "queued").inc()


async def from_cache(kind: ServerKind, job_id: str, http: Request) -> Response | None:
    """200 with the cached result when there is one for good (a phase diagram with failed cells is
    not: a resubmission retries them), else None."""
    stored = await read_result(http, job_id)
    if stored is None or not stored.final:
        return None
    http.app.state.metrics.submissions.labels(kind.name, "cached").inc()
    return json_response(http, submission.cached_submission(job_id, kind.kind, stored.body))


async def submit(kind: ServerKind, request: BaseModel, http: Request, response: Response,
                 token_id: str | None) -> Submission | Response:
    cached = await from_cache(kind, kind.job_id(request), http)
    if cached is not None:
        return cached
    state = http.app.state
    return await run_in_threadpool(submit_uncached, kind, request, state.redis, state.settings, state.metrics, response,
                                   token_id)


def submit_uncached(kind: ServerKind, request: BaseModel, redis: Redis, settings: Settings, metrics: Metrics,
                    response: Response, token_id: str | None) -> Submission:
    prepared = prepare(kind, request, redis, settings)
    access.charge(redis, settings, token_id)
    with missing_dataset_as_422():
        result = submission.submit(redis, settings, kind, request, plan=prepared.plan, holder=access.submitter(token_id))
    response.status_code = 200 if result.cached else 202
    count(metrics, result)
    return result
