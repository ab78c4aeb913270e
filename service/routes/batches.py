from __future__ import annotations

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError

from tlprobe import submit
from tlprobe.contract.jobs import BatchJob, BatchRequest, BatchView
from tlprobe.kinds import KINDS

from .. import access
from ..access import ReadAccess, WriteAccess
from ..deps import MetricsDep, RedisDep, SettingsDep
from .submissions import ERRORS, check_request, missing_dataset_as_422

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post("", name="submit_batch", status_code=202, response_model=BatchView, responses=ERRORS)
def submit_batch(body: BatchRequest, redis: RedisDep, settings: SettingsDep, metrics: MetricsDep,
                 token: WriteAccess) -> BatchView:
    """Submit up to 100 requests of any kinds at once. Every request is validated (and checked against
    the budgets) before anything is queued; cached ones are already finished.

    Rules beyond the schema: each item's, as listed under `POST /v1/learning-curves` and
    `POST /v1/gcm` (the 422 names the item's index); the whole batch counts as one submission per
    item for the rate limit and must fit in the queue (`TLPROBE_MAX_QUEUED_JOBS`)."""
    errors = []
    for index, item in enumerate(body.requests):
        try:
            check_request(KINDS[item.kind], item.request, redis, settings, ("body", "requests", index, "request"))
        except RequestValidationError as exc:
            errors.extend(exc.errors())
    if errors:
        raise RequestValidationError(errors)
    access.charge(redis, settings, token, submissions=len(body.requests))
    items = [(KINDS[i.kind], i.request) for i in body.requests]
    submit.check_capacity(redis, settings, new_jobs=len({kind.job_id(request) for kind, request in items}))
    with missing_dataset_as_422():
        batch_id, submissions = submit.submit_batch(redis, settings, items)
    for submission in submissions:
        metrics.submissions.labels(submission.kind, "cached" if submission.cached else "queued").inc()
    return submit.batch_of(batch_id, [BatchJob(job_id=s.job_id, kind=s.kind, status=s.status) for s in submissions])


@router.get("/{batch_id}", name="get_batch", response_model=BatchView,
            responses={404: {"description": "No such batch (or it expired)."}})
def get_batch(batch_id: str, redis: RedisDep, _: ReadAccess) -> BatchView:
    """Counts per status and each job's status."""
    return submit.batch_view(redis, batch_id)
