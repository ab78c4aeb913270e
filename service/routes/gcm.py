from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.jobs import Submission
from tlprobe.kinds import KINDS

from ..access import WriteAccess
from .submissions import ERRORS, submit

router = APIRouter(prefix="/v1", tags=["gcm"])


@router.post("/gcm", name="submit_gcm", status_code=202, response_model=Submission,
             responses={200: {"model": Submission, "description": "Already computed: the result is included."},
                        **ERRORS})
async def submit_gcm(body: GCMRequest, request: Request, response: Response, token: WriteAccess) -> Submission | Response:
    """Solve a user-supplied Gaussian covariate model (a spectrum, or covariances Omega, Phi, Psi, theta)
    over sample complexities alpha = n / p."""
    return await submit(KINDS["gcm"], body, request, response, token)
