from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.jobs import Submission
from tlprobe_server.kinds import SERVER_KINDS

from ..access import WriteAccess
from ..submitting import SUBMITTED, submit

router = APIRouter(prefix="/v1", tags=["gcm"])


@router.post("/gcm", name="submit_gcm", status_code=202, response_model=Submission,
             responses=SUBMITTED)
async def submit_gcm(body: GCMRequest, request: Request, response: Response, token: WriteAccess) -> Submission | Response:
    """Solve a user-supplied Gaussian covariate model (a spectrum, or covariances Omega, Phi, Psi, theta)
    over sample complexities alpha = n / p.

    Rules beyond the schema (422 naming the field, before anything is queued): covariances have
    consistent shapes (omega p x p, phi p x k, psi k x k, theta k entries), omega and psi are
    symmetric, every diagonal is >= 0 and every 2 x 2 principal minor of the joint covariance
    [[psi, phi^T], [phi, omega]] is >= 0, and theta^T psi theta > 0; a spectrum has as many t as
    omega, omega >= 0, t >= 0 and t = 0 where omega = 0, and sum t / omega / k <= rho; the estimated
    solver work is within `TLPROBE_MAX_GCM_WORK`. The joint covariance's positive semi-definiteness
    itself (an eigen-decomposition, O((p + k)^3)) is checked by the worker before solving: such a job
    fails at once with `invalid input: covariances: ...`. (Exactly one of spectrum and covariances
    is in the schema.)"""
    return await submit(SERVER_KINDS["gcm"], body, request, response, token)
