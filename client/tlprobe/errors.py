"""What the client raises: the server's refusals, with its reasons field by field, and jobs that ended
without a result."""

from __future__ import annotations

from typing import Any

from .contract.jobs import JobView


class TlprobeError(Exception):
    """Base of every error the client raises."""


class ApiError(TlprobeError):
    """The service answered with an error status. ``detail`` is its body's ``detail`` (a sentence, or
    the list of field errors of a 422)."""

    def __init__(self, status_code: int, method: str, path: str, detail: Any) -> None:
        self.status_code, self.method, self.path, self.detail = status_code, method, path, detail
        explained = self._explain()
        super().__init__(f"{self._source()}:{'' if explained.startswith(chr(10)) else ' '}{explained}")

    def _source(self) -> str:
        return f"{self.status_code} from {self.method} {self.path}"

    def _explain(self) -> str:
        return str(self.detail)


def _where(loc: list) -> str:
    return ".".join(str(part) for part in loc) or "body"


class InvalidRequest(ApiError):
    """422: the request breaks the contract or a budget. ``errors`` lists ``{loc, msg, type}`` per
    field, as the service sends them (``loc`` starts with ``body``). The client checks requests
    against the same contract before sending them, so most of these are raised without a round trip:
    ``local`` is then true (and ``method`` and ``path`` are empty)."""

    def __init__(self, method: str, path: str, errors: list[dict[str, Any]], local: bool = False) -> None:
        self.errors, self.local = errors, local
        super().__init__(422, method, path, errors)

    def _source(self) -> str:
        return "invalid request (checked before sending)" if self.local else super()._source()

    def _explain(self) -> str:
        return "\n" + "\n".join(f"  {_where(e.get('loc', []))}: {e.get('msg')}" for e in self.errors)

    @property
    def fields(self) -> dict[str, str]:
        """``{"body.source.input_dim": "Input should be ...", ...}``"""
        return {_where(e.get("loc", [])): e.get("msg", "") for e in self.errors}


class Unauthorized(ApiError):
    """401: a bearer token is needed (give ``token=`` or set TLPROBE_TOKEN), or it is wrong."""


class Forbidden(ApiError):
    """403: the token is valid but may not do this: with tokens on, only a token that submitted a job may
    cancel it, and only one that uploaded a dataset may delete it (or an admin token)."""


class NotFound(ApiError):
    """404: no such job, batch, diagram or dataset (or it expired)."""


class NotFinished(ApiError):
    """409: a result was asked for a job that has not finished; ``job`` is its view."""

    def __init__(self, method: str, path: str, detail: Any) -> None:
        self.job = JobView.model_validate(detail)
        super().__init__(409, method, path, detail)

    def _explain(self) -> str:
        reason = f" ({self.job.error})" if self.job.error else ""
        return f"job {self.job.job_id} is {self.job.status.value}, not finished{reason}"


class Conflict(ApiError):
    """409 other than a job not finished: a dataset cannot be deleted while a queued or running job
    reads it (``detail`` names the jobs)."""


class Busy(ApiError):
    """429 or 503 still answered after the client's bounded retries (each after ``Retry-After``)."""


class JobFailed(TlprobeError):
    """A waited-for job ended failed or canceled; ``job`` is its final view, ``job.error`` the reason."""

    def __init__(self, job: JobView) -> None:
        self.job = job
        super().__init__(f"job {job.job_id} {job.status.value}" + (f": {job.error}" if job.error else ""))


class WaitTimeout(TlprobeError):
    """The job (or batch) had not ended when the caller's ``timeout`` ran out; ``view`` is its last
    view (a JobView or a BatchView)."""

    def __init__(self, what: str, view: Any, timeout: float) -> None:
        self.view = view
        super().__init__(f"{what} had not ended after {timeout:g} s")


def error_for(status_code: int, method: str, path: str, body: Any) -> ApiError:
    """The exception for an error response (``body`` is its parsed JSON, or its text)."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if status_code == 422 and isinstance(detail, list):
        return InvalidRequest(method, path, detail)
    if status_code == 409 and isinstance(body, dict) and "job_id" in body:
        return NotFinished(method, path, body)
    kind = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: Busy, 503: Busy}.get(status_code, ApiError)
    return kind(status_code, method, path, detail)
