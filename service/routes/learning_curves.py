from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from tlprobe.contract.jobs import Submission
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

from ..access import WriteAccess
from .submissions import ERRORS, submit

router = APIRouter(prefix="/v1", tags=["learning curves"])


@router.post("/learning-curves", name="submit_learning_curve", status_code=202, response_model=Submission,
             responses={200: {"model": Submission, "description": "Already computed: the result is included."},
                        **ERRORS})
async def submit_learning_curve(request: Request, response: Response, token: WriteAccess,
                                body: Annotated[LearningCurveRequest, Body()] = LearningCurveRequest()
                                ) -> Submission | Response:
    """Theory and simulation of test error against alpha = n_t / N for each protocol.

    Every field has a default: `{}` (or no body) runs a small learning curve in a few seconds.
    Answers 202 with the job, or 200 with the result when it is cached.
    """
    return await submit(KINDS["learning_curve"], body, request, response, token)
