from __future__ import annotations

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError

from .. import access, budget, queueing
from ..access import ReadAccess, WriteAccess
from ..deps import MetricsDep, RedisDep, SettingsDep
from ..cache_key import job_id
from ..kinds import KINDS
from ..schemas.jobs import BatchJob, BatchRequest, BatchView
from .submissions import ERRORS

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post("", name="submit_batch", status_code=202, response_model=BatchView, responses=ERRORS)
def submit_batch(body: BatchRequest, redis: RedisDep, settings: SettingsDep, metrics: MetricsDep,
                 token: WriteAccess) -> BatchView:
    """Submit up to 100 requests of any kinds at once. Every request is validated (and checked against
    the budgets) before anything is queued; cached ones are already finished."""
    errors = []
    for index, item in enumerate(body.requests):
        try:
            budget.check(item.request, settings)
        except budget.BudgetExceeded as exc:
            errors.append({"type": "budget", "loc": ("body", "requests", index, "request"), "msg": str(exc),
                           "input": None})
    if errors:
        raise RequestValidationError(errors)
    access.charge(redis, settings, token, submissions=len(body.requests))
    items = [(KINDS[i.kind], i.request) for i in body.requests]
    queueing.check_capacity(redis, settings, new_jobs=len({job_id(kind, request) for kind, request in items}))
    batch_id, submissions = queueing.submit_batch(redis, settings, items)
    for submission in submissions:
        metrics.submissions.labels(submission.kind, "cached" if submission.cached else "queued").inc()
    return queueing.batch_of(batch_id, [BatchJob(job_id=s.job_id, kind=s.kind, status=s.status) for s in submissions])


@router.get("/{batch_id}", name="get_batch", response_model=BatchView,
            responses={404: {"description": "No such batch (or it expired)."}})
def get_batch(batch_id: str, redis: RedisDep, _: ReadAccess) -> BatchView:
    """Counts per status and each job's status."""
    return queueing.batch_view(redis, batch_id)
