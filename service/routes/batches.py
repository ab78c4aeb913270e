from __future__ import annotations

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError

from tlprobe.contract.batches import BatchJob, BatchRequest, BatchView
from tlprobe_server import batches
from tlprobe_server.capacity import check_capacity
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.queues import Lane

from .. import access
from ..access import ReadAccess, WriteAccess
from ..deps import MetricsDep, RedisDep, SettingsDep
from ..submitting import ERRORS, count, missing_dataset_as_422, prepare

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post("", name="submit_batch", status_code=202, response_model=BatchView, responses=ERRORS)
def submit_batch(body: BatchRequest, redis: RedisDep, settings: SettingsDep, metrics: MetricsDep,
                 token: WriteAccess) -> BatchView:
    """Submit up to 100 requests of any kinds at once: learning curves, GCM jobs, phase diagrams. Every
    request is validated (and checked against the budgets) before anything is queued; cached ones are
    already finished. Each job waits in its own kind's queue: learning curves and GCM jobs are
    interactive, a phase diagram and its parts bulk.

    Rules beyond the schema: each item's, as listed under `POST /v1/learning-curves`, `POST /v1/gcm`
    and `POST /v1/phase-diagrams` (the 422 names the item's index); the whole batch counts as one
    submission per item for the rate limit and must fit in the queues with every job it may add, a
    diagram's parts included (`TLPROBE_MAX_QUEUED_JOBS`)."""
    errors, prepared = [], []
    for index, item in enumerate(body.requests):
        try:
            prepared.append(prepare(SERVER_KINDS[item.kind], item.request, redis, settings,
                                    ("body", "requests", index, "request")))
        except RequestValidationError as exc:
            errors.extend(exc.errors())
    if errors:
        raise RequestValidationError(errors)
    access.charge(redis, settings, token, submissions=len(body.requests))
    distinct = {p.kind.job_id(p.request): p for p in prepared}
    check_capacity(redis, settings, new_jobs=sum(1 + p.kind.part_count(p.plan) for p in distinct.values()),
                   bulk=any(p.kind.lane is Lane.bulk for p in distinct.values()))
    with missing_dataset_as_422():
        batch_id, submissions = batches.submit_batch(redis, settings, [(p.kind, p.request, p.plan) for p in prepared])
    for submission in submissions:
        count(metrics, submission)
    return batches.batch_of(batch_id, [BatchJob(job_id=s.job_id, kind=s.kind, status=s.status) for s in submissions])


@router.get("/{batch_id}", name="get_batch", response_model=BatchView,
            responses={404: {"description": "No such batch (or it expired)."}})
def get_batch(batch_id: str, redis: RedisDep, _: ReadAccess) -> BatchView:
    """Counts per status and each job's status."""
    return batches.batch_view(redis, batch_id)
