from __future__ import annotations

import asyncio
import time
from typing import Union

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tlprobe.contract.jobs import JobView
from tlprobe.kinds import KINDS
from tlprobe_server import result_store
from tlprobe_server.cancel import NotAHolder, Outcome, cancel
from tlprobe_server.kinds import server_kind_of_job
from tlprobe_server.submission import job_view

from .. import access
from ..access import ReadAccess, WriteAccess
from ..deps import RedisDep, SettingsDep
from ..render.plots import picture
from ..stored import IF_NONE_MATCH, NOT_MODIFIED, RESULT_HEADERS, read_result, result_response

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
NOT_FOUND = {404: {"description": "No such job (or it expired)."}}
POLL_INTERVAL = 0.2


@router.get("/{job_id}", name="get_job", response_model=JobView, responses=NOT_FOUND)
async def get_job(job_id: str, redis: RedisDep, settings: SettingsDep, _: ReadAccess,
                  wait: float = Query(0.0, ge=0.0, le=3600.0, description="Long-poll: wait up to this many seconds "
                                      "(capped by the server's TLPROBE_MAX_WAIT) for the job to end.")) -> JobView:
    """Status, progress {stage, done, total}, timestamps and, when failed, the reason."""
    deadline = time.monotonic() + min(wait, settings.max_wait)
    while True:
        view = await run_in_threadpool(job_view, redis, job_id)
        if view.status.ended or time.monotonic() >= deadline:
            return view
        await asyncio.sleep(POLL_INTERVAL)


@router.get("/{job_id}/result", name="get_job_result",
            response_model=Union[tuple(kind.result for kind in KINDS.values())],
            responses={200: {"headers": RESULT_HEADERS}, **NOT_MODIFIED, **NOT_FOUND,
                       409: {"model": JobView, "description": "Not finished (yet): the job is returned."}},
            openapi_extra=IF_NONE_MATCH)
async def get_job_result(job_id: str, request: Request):
    """The result of a finished job, served as the bytes stored (it was validated when written), with
    an ETag and a long Cache-Control; gzip-encoded when the client accepts it."""
    # no dependencies on this hot path: FastAPI's solving of each one costs more than the read itself
    access.read_token(request)
    stored = await read_result(request, job_id)
    if stored is not None:
        return result_response(request, stored)
    view = await run_in_threadpool(job_view, request.app.state.redis, job_id)
    return JSONResponse(view.model_dump(mode="json"), status_code=409)


@router.get("/{job_id}/plot.png", name="get_job_plot", response_class=Response,
            responses={**NOT_FOUND, 409: {"model": JobView, "description": "Not finished (yet)."}})
def get_job_plot(job_id: str, redis: RedisDep, _: ReadAccess) -> Response:
    """A learning curve's test error against alpha per protocol (theory as lines, simulation as
    points with standard-error bars), or a phase diagram's heatmap."""
    result = result_store.get(redis, job_id)
    if result is None:
        view = job_view(redis, job_id)
        return JSONResponse(view.model_dump(mode="json"), status_code=409)
    kind = server_kind_of_job(job_id)
    png = None if kind is None else picture(redis, kind, job_id, "png", result)
    if png is None:
        return JSONResponse({"detail": f"no picture for a {result.get('kind')} result"}, status_code=404)
    return Response(png, media_type="image/png")


OUTCOME = {"Tlprobe-Outcome": {"description": "What the cancel did: `canceled` (the job is stopped), `detached` (only "
                                              "for this token: another submitter still holds the job, which goes on), "
                                              "or `ended` (the job had ended: nothing changed).",
                                "schema": {"type": "string", "enum": [outcome.value for outcome in Outcome]}}}


@router.delete("/{job_id}", name="cancel_job", response_model=JobView,
               responses={200: {"headers": OUTCOME}, **NOT_FOUND,
                          401: {"description": "A bearer token is required (when the service is configured with tokens)."},
                          403: {"description": "This token did not submit the job (with tokens on, only a token that "
                                             "submitted a job, or an admin token, may cancel it)."}})
def cancel_job(job_id: str, redis: RedisDep, settings: SettingsDep, token: WriteAccess, response: Response
               ) -> JobView | JSONResponse:
    """Cancel a queued job or stop a running one. A finished or failed job is returned unchanged.

    With tokens on, identical requests from several tokens share one job: a cancel detaches the
    calling token, and the job is stopped only when every token that submitted it has canceled it
    (an admin token stops it outright). Canceling a phase diagram stops its parts that no other
    diagram or submitter holds; shared parts go on. The `Tlprobe-Outcome` header says which happened."""
    try:
        view, outcome = cancel(redis, job_id, settings, access.acting_as(settings, token))
    except NotAHolder as exc:
        return JSONResponse({"detail": str(exc)}, status_code=403)
    response.headers["Tlprobe-Outcome"] = outcome.value
    return view
