"""The client's operations, written once for the sync and the async client.

Each operation is a generator: it yields ``Http`` (a request to send; the driver sends back the
``httpx`` response) or ``Sleep`` (a pause), and returns its answer. ``tlprobe.client`` drives them
with ``httpx2.Client`` and ``time.sleep``, or with ``httpx2.AsyncClient`` and ``asyncio.sleep``. So
retries, validation, long-polling and the typing of answers exist once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .contract.batches import BatchRequest, BatchView
from .contract.datasets import DatasetDescription, DatasetPage
from .contract.jobs import JobStatus, JobView, Submission
from .contract.phase_diagram import CatalogueEntry, CataloguePage
from .errors import InvalidRequest, JobFailed, WaitTimeout, error_for
from .kinds import KINDS, Kind
from .results import Result, as_result

CATALOGUE_PAGE = 100
DATASETS_PAGE = 100
NPZ = {"content-type": "application/octet-stream"}


@dataclass(frozen=True)
class Http:
    method: str
    path: str
    params: Any = None
    json: Any = None
    wait: float = 0.0  # seconds the server may hold the request (long-poll): added to the read timeout
    content: bytes | None = None  # a raw body (an .npz upload), sent instead of ``json``
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Generator[Http | Sleep, Any, Any]
Progress = Callable[[Any], None]


def retry_after(headers: Mapping[str, str], default: float = 1.0) -> float:
    """Seconds from a Retry-After header given in seconds (the service's form), else ``default``."""
    try:
        return max(0.0, float(headers.get("retry-after", default)))
    except ValueError:
        return default


def validated(model: type[BaseModel], request: Any) -> dict[str, Any]:
    """The request checked against the contract, as the JSON body to send (the fields it sets: the
    service fills in the same defaults). A contract violation is an InvalidRequest, before sending."""
    if isinstance(request, model):
        return request.model_dump(mode="json", exclude_unset=True)
    try:
        return model.model_validate(request or {}).model_dump(mode="json", exclude_unset=True)
    except ValidationError as exc:
        errors = [{"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
        raise InvalidRequest("", "", errors, local=True) from None


def batch_item(item: Any) -> Any:
    """A batch item from ``{"kind", "request"}``, a ``(kind, request)`` pair or a request model."""
    if isinstance(item, tuple):
        kind, request = item
        return {"kind": kind, "request": request}
    for kind in KINDS.values():
        if kind.batchable and isinstance(item, kind.request):
            return {"kind": kind.name, "request": item}
    return item


def submittable(name: str) -> Kind:
    """The kind called ``name`` if a user may submit it (ValueError naming the choices otherwise)."""
    kind = KINDS.get(name)
    if kind is None or kind.path is None:
        choices = ", ".join(k.name for k in KINDS.values() if k.path is not None)
        raise ValueError(f"no kind of computation called {name!r} can be submitted: choose one of {choices}")
    return kind


@dataclass
class Operations:
    retries: int = 3
    max_retry_wait: float = 120.0
    poll_interval: float = 1.0   # long-poll length while a progress callback listens
    long_poll: float = 60.0      # long-poll length otherwise (the service caps it at TLPROBE_MAX_WAIT)
    clock: Callable[[], float] = field(default=time.monotonic)

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None, wait: float = 0.0,
                content: bytes | None = None, headers: dict[str, str] | None = None) -> Step:
        """Send; retry 429 and 503 after their Retry-After (at most ``retries`` times, each pause at most
        ``max_retry_wait``); raise the ApiError of any other error status."""
        for attempt in range(self.retries + 1):
            response = yield Http(method, path, params, json, wait, content, headers)
            if response.status_code in (429, 503) and attempt < self.retries:
                yield Sleep(min(retry_after(response.headers), self.max_retry_wait))
                continue
            break
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise error_for(response.status_code, method, path, body)
        return response

    # ---- jobs
    def job(self, job_id: str, wait: float = 0.0) -> Step:
        response = yield from self.request("GET", f"/v1/jobs/{job_id}", params={"wait": wait} if wait else None, wait=wait)
        return JobView.model_validate(response.json())

    def follow(self, job_id: str, progress: Progress | None = None, timeout: float | None = None) -> Step:
        """Long-poll until the job ends; ``progress(view)`` after every poll (about once a second)."""
        deadline = None if timeout is None else self.clock() + timeout
        wait = 0.0 if progress else self.long_poll  # with a listener, show where the job stands at once
        while True:
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - self.clock()))
            view = yield from self.job(job_id, wait)
            wait = self.poll_interval if progress else self.long_poll
            if progress:
                progress(view)
            if view.status.ended:
                return view
            if deadline is not None and self.clock() >= deadline:
                raise WaitTimeout(f"job {job_id} ({view.status.value})", view, timeout)

    def result(self, job_id: str) -> Step:
        response = yield from self.request("GET", f"/v1/jobs/{job_id}/result")
        return as_result(response.json())

    def cancel(self, job_id: str) -> Step:
        response = yield from self.request("DELETE", f"/v1/jobs/{job_id}")
        return JobView.model_validate(response.json())

    def wait_result(self, job_id: str, progress: Progress | None, timeout: float | None) -> Step:
        """Follow the job to its end: its result, or JobFailed with the reason."""
        view = yield from self.follow(job_id, progress, timeout)
        if view.status is not JobStatus.finished:
            raise JobFailed(view)
        return (yield from self.result(job_id))

    # ---- submissions
    def submit(self, kind: str, request: Any, wait: bool, progress: Progress | None, timeout: float | None) -> Step:
        submitted = submittable(kind)
        response = yield from self.request("POST", submitted.path, json=validated(submitted.request, request))
        submission = Submission.model_validate(response.json())
        if not wait:
            return submission
        if submission.cached and submission.result is not None:
            if progress:
                progress(submission)
            return as_result(submission.result)
        return (yield from self.wait_result(submission.job_id, progress, timeout))

    def batch(self, requests: Iterable[Any], wait: bool, progress: Progress | None, timeout: float | None) -> Step:
        body = validated(BatchRequest, {"requests": [batch_item(item) for item in requests]})
        response = yield from self.request("POST", "/v1/batches", json=body)
        view = BatchView.model_validate(response.json())
        if not wait:
            return view
        return (yield from self.follow_batch(view.batch_id, progress, timeout))

    def batch_view(self, batch_id: str) -> Step:
        response = yield from self.request("GET", f"/v1/batches/{batch_id}")
        return BatchView.model_validate(response.json())

    def follow_batch(self, batch_id: str, progress: Progress | None = None, timeout: float | None = None) -> Step:
        """Until every job of the batch has ended, long-polling its first unfinished job in turn;
        ``progress(batch_view)`` after every poll."""
        deadline = None if timeout is None else self.clock() + timeout
        while True:
            view = yield from self.batch_view(batch_id)
            if progress:
                progress(view)
            running = [job for job in view.jobs if not job.status.ended]
            if not running:
                return view
            wait = self.poll_interval if progress else self.long_poll
            if deadline is not None:
                if self.clock() >= deadline:
                    raise WaitTimeout(f"batch {batch_id} ({len(running)} jobs running or queued)", view, timeout)
                wait = max(0.0, min(wait, deadline - self.clock()))
            yield from self.job(running[0].job_id, wait)

    # ---- phase diagrams and pictures
    def diagrams(self, filters: dict[str, Any]) -> Step:
        """Every catalogue entry matching the filters (all pages), newest first."""
        params = [(name, value) for name, value in _query(filters)]
        entries: list[CatalogueEntry] = []
        while True:
            page_params = [*params, ("offset", len(entries)), ("limit", CATALOGUE_PAGE)]
            response = yield from self.request("GET", "/v1/phase-diagrams", params=page_params)
            page = CataloguePage.model_validate(response.json())
            entries.extend(page.items)
            if not page.items or len(entries) >= page.total:
                return entries

    # ---- datasets
    def upload_dataset(self, body: bytes | dict[str, Any]) -> Step:
        """Upload the bytes of an .npz file, or ``{"inputs", "labels"}`` lists as JSON."""
        if isinstance(body, bytes):
            response = yield from self.request("POST", "/v1/datasets", content=body, headers=NPZ)
        else:
            response = yield from self.request("POST", "/v1/datasets", json=body)
        return DatasetDescription.model_validate(response.json())

    def datasets(self) -> Step:
        """Every stored dataset (all pages), newest first."""
        found: list[DatasetDescription] = []
        while True:
            params = {"offset": len(found), "limit": DATASETS_PAGE}
            response = yield from self.request("GET", "/v1/datasets", params=params)
            page = DatasetPage.model_validate(response.json())
            found.extend(page.items)
            if not page.items or len(found) >= page.total:
                return found

    def dataset(self, dataset_id: str) -> Step:
        response = yield from self.request("GET", f"/v1/datasets/{dataset_id}")
        return DatasetDescription.model_validate(response.json())

    def delete_dataset(self, dataset_id: str) -> Step:
        yield from self.request("DELETE", f"/v1/datasets/{dataset_id}")
        return None

    def picture(self, job_id: str, fmt: str) -> Step:
        """PNG of any job with a picture, or SVG of a phase diagram."""
        path = f"/v1/jobs/{job_id}/plot.png" if fmt == "png" else f"/v1/phase-diagrams/{job_id}.{fmt}"
        response = yield from self.request("GET", path)
        return response.content


def _query(filters: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """Catalogue filters as query parameters; ``range`` may be "path:min:max", a list of them, or
    ``{path: (min, max)}`` with None for an open end."""
    for name, value in filters.items():
        if value is None:
            continue
        if name == "range":
            if isinstance(value, str):
                value = [value]
            elif isinstance(value, Mapping):
                value = [f"{path}:{'' if lo is None else lo}:{'' if hi is None else hi}" for path, (lo, hi) in value.items()]
            for text in value:
                yield "range", text
        elif isinstance(value, bool):
            yield name, "true" if value else "false"
        else:
            yield name, getattr(value, "value", value)


__all__ = ["Http", "Operations", "Result", "Sleep"]
