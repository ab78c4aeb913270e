from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from tlprobe.contract.jobs import Submission
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server.kinds import SERVER_KINDS

from ..access import WriteAccess
from ..submitting import SUBMITTED, submit

router = APIRouter(prefix="/v1", tags=["learning curves"])


@router.post("/learning-curves", name="submit_learning_curve", status_code=202, response_model=Submission,
             responses=SUBMITTED)
async def submit_learning_curve(request: Request, response: Response, token: WriteAccess,
                                body: Annotated[LearningCurveRequest, Body()] = LearningCurveRequest()
                                ) -> Submission | Response:
    """Theory and simulation of test error against alpha = n_t / N for each protocol.

    Every field has a default: `{}` (or no body) runs a small learning curve in a few seconds.
    Answers 202 with the job, or 200 with the result when it is cached.

    Rules beyond the schema (each refused with a 422 naming the field, before anything is queued):
    every alpha at least 1/N (N = `source.input_dim`, or the target dataset's: at least one target
    sample); `source.latent_dim + target.latent_change >= 1`; on datasets, the datasets exist and
    have the same N, `network.n_samples` fits the source's training split and every alpha the
    target's; the estimated work and peak memory within `TLPROBE_MAX_WORK` and
    `TLPROBE_MAX_MEMORY_BYTES`. (Both datasets or neither, something to compute, a theory protocol
    without a simulation, distinct protocols and seeds, and the seed count's bounds are in the schema.)
    """
    return await submit(SERVER_KINDS["learning_curve"], body, request, response, token)
