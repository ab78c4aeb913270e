"""The Python client: ``from tlprobe import Client``.

    client = Client("http://127.0.0.1:8000")          # or TLPROBE_URL; token= or TLPROBE_TOKEN
    curve = client.learning_curve({"alphas": [0.5, 1, 2]}, progress=True)   # a bar (notebook or terminal)
    curve.curves["tf"].theory.test_error               # the contract's fields, typed
    curve.rows()                                       # tidy rows; curve.to_pandas(): a DataFrame
    data = client.upload_dataset("source.npz")         # or {"inputs": X, "labels": y}; then {"dataset": data.dataset_id}

A thin layer over the HTTP API on httpx2 (the maintained fork of httpx), typed with the contract's
own schemas (``tlprobe.contract``). Requests are checked against the contract before they are sent.
Waiting uses the API's long-poll. 429 and 503 are retried after their Retry-After, a bounded number
of times; other errors raise ``tlprobe.errors`` exceptions carrying the server's reasons.
``AsyncClient`` has the same methods, to be awaited. Imports no Redis, RQ, FastAPI or numpy.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2 as httpx

from . import __version__
from .contract.batches import BatchView
from .contract.datasets import DatasetDescription
from .contract.jobs import JobView, Submission
from .contract.phase_diagram import CatalogueEntry
from .kinds import Kind, submittable
from .npz import is_array, write_npz
from .operations import Http, Operations, Progress, Sleep, Step
from .progress import ProgressBar
from .results import Result

#: a progress listener: None, True (a progress bar) or a callable receiving each view
Listener = Progress | bool | None

DEFAULT_URL = "http://127.0.0.1:8000"


class _Methods:
    """The API's operations; ``_run`` executes one (returning its value, or a coroutine of it).

    Besides ``submit(kind, request)``, every kind a user may submit has a method of its own, made
    from the kind registry (``tlprobe.kinds``): ``learning_curve``, ``gcm``, ``phase_diagram``."""

    _ops: Operations

    def _run(self, step: Step) -> Any:
        raise NotImplementedError

    def submit(self, kind: str, request: Any = None, *, wait: bool = True, progress: Listener = None,
               timeout: float | None = None) -> Result | Submission:
        """Submit a request of ``kind`` (``"learning_curve"``, ``"gcm"``, ``"phase_diagram"``): a request model or
        a dict (None means every default). With ``wait`` (the default), follow the job and return its typed result
        (``LearningCurve``, ``GCMCurve``, ``PhaseDiagram``); else the Submission. ``progress``: True draws a
        progress bar (a widget in a notebook, text in a terminal), or a callable receives the JobView
        (``view.progress``: stage, done, total) after every poll. ``timeout`` bounds the wait (WaitTimeout). A
        failed or canceled job raises JobFailed."""
        listener, bar = _listener(progress, kind)
        return self._run(_closing(self._ops.submit(kind, request, wait, listener, timeout), bar))

    def batch(self, requests: Iterable[Any], *, wait: bool = False, progress: Listener = None,
              timeout: float | None = None) -> BatchView:
        """Submit up to 100 requests at once: items ``{"kind", "request"}``, ``(kind, request)`` or request
        models. Returns the BatchView; with ``wait``, once every job has ended (``progress``: True for a bar,
        or a callable receiving the batch's view after every poll). Fetch each result with ``result(job.job_id)``."""
        listener, bar = _listener(progress, "batch")
        return self._run(_closing(self._ops.batch(requests, wait, listener, timeout), bar))

    def batch_status(self, batch_id: str) -> BatchView:
        """Counts per status and each job's status."""
        return self._run(self._ops.batch_view(batch_id))

    def wait_batch(self, batch_id: str, *, progress: Listener = None, timeout: float | None = None) -> BatchView:
        """Follow a batch until every job has ended; ``progress``: True for a bar, or ``progress(batch_view)``
        after every poll."""
        listener, bar = _listener(progress, "batch")
        return self._run(_closing(self._ops.follow_batch(batch_id, listener, timeout), bar))

    def job(self, job_id: str, *, wait: float = 0.0) -> JobView:
        """A job's view; ``wait`` long-polls up to that many seconds for it to end."""
        return self._run(self._ops.job(job_id, wait))

    def wait(self, job_id: str, *, progress: Listener = None, timeout: float | None = None) -> JobView:
        """Follow a job until it ends and return its final view (finished, failed or canceled); ``progress`` as
        in ``submit``."""
        listener, bar = _listener(progress, job_id[:14])
        return self._run(_closing(self._ops.follow(job_id, listener, timeout), bar))

    def result(self, job_id: str) -> Result:
        """A finished job's result (NotFinished, with the job's view, when it has not finished)."""
        return self._run(self._ops.result(job_id))

    def cancel(self, job_id: str) -> JobView:
        """Cancel a queued job or stop a running one; a finished or failed job is returned unchanged. With
        tokens on, a job submitted with several tokens goes on until each has canceled it (the view then
        still says queued or started); Forbidden for a job this token did not submit."""
        return self._run(self._ops.cancel(job_id))

    def diagrams(self, **filters: Any) -> list[CatalogueEntry]:
        """Every computed phase diagram matching the filters of ``GET /v1/phase-diagrams`` (all pages):
        ``x_axis``, ``y_axis``, ``axis``, ``protocol``, ``baseline``, ``complete``, ``dataset`` (the id of
        a dataset it reads), ``range``
        ("path:min:max", a list of them, or ``{path: (min, max)}``)."""
        return self._run(self._ops.diagrams(filters))

    def upload_dataset(self, data: Any) -> DatasetDescription:
        """Upload a labelled dataset and return its description (``dataset_id``, ``samples``, ...). ``data``
        is the path of an ``.npz`` file holding ``inputs`` (n x N) and ``labels`` (n, in {-1, +1} or
        {0, 1}), the bytes of one, a dict ``{"inputs": X, "labels": y}`` or a tuple ``(X, y)`` (numpy
        arrays are sent as an .npz file, lists as JSON: keep those small). The id comes from the
        content: uploading the same data again returns the same description. A refused upload raises
        InvalidRequest (422: the array and the reason) or ApiError (413: over a size bound)."""
        return self._run(self._ops.upload_dataset(dataset_body(data)))

    def datasets(self) -> list[DatasetDescription]:
        """Every stored dataset (all pages), newest first."""
        return self._run(self._ops.datasets())

    def dataset(self, dataset_id: str) -> DatasetDescription:
        """A dataset's description (NotFound when it was never uploaded, was deleted or expired)."""
        return self._run(self._ops.dataset(dataset_id))

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset (Conflict while a queued or running job reads it; NotFound if it is not stored;
        Forbidden if this token did not upload it; kept for the other tokens that uploaded it). Results
        computed from it stay cached."""
        return self._run(self._ops.delete_dataset(dataset_id))

    def plot(self, job_id: str, path: str | os.PathLike | None = None, *, format: str | None = None) -> bytes:
        """The picture of a finished learning curve or phase diagram (PNG; SVG for phase diagrams),
        written to ``path`` when given (its suffix picks the format). Returns the bytes."""
        fmt = format or (Path(path).suffix.lstrip(".").lower() if path else "png") or "png"
        if fmt not in ("png", "svg"):
            raise ValueError(f"format must be png or svg, not {fmt!r}")
        step = self._ops.picture(job_id, fmt)
        return self._run(step if path is None else _then(step, lambda content: _write(path, content)))


def dataset_body(data: Any) -> bytes | dict[str, Any]:
    """What ``upload_dataset`` sends: the bytes of an .npz file (read from a path, or written from
    arrays by ``tlprobe.npz``, which needs no numpy), else JSON lists."""
    if isinstance(data, (str, os.PathLike)):
        return Path(data).read_bytes()
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, tuple) and len(data) == 2:
        data = {"inputs": data[0], "labels": data[1]}
    if not isinstance(data, dict) or set(data) != {"inputs", "labels"}:
        raise TypeError("upload_dataset takes an .npz path, its bytes, {'inputs': X, 'labels': y} or (X, y)")
    if all(is_array(value) for value in data.values()):
        return write_npz(data)
    return {name: value.tolist() if is_array(value) else value for name, value in data.items()}


def _submitter(kind: Kind):
    """``client.<kind>(request, ...)``: ``submit`` for one kind, with its own name and docstring."""

    def submit_kind(self, request: Any = None, *, wait: bool = True, progress: Listener = None,
                    timeout: float | None = None) -> Result | Submission:
        return self.submit(kind.name, request, wait=wait, progress=progress, timeout=timeout)

    submit_kind.__name__ = submit_kind.__qualname__ = kind.name
    submit_kind.__doc__ = (f"Submit a {kind.name.replace('_', ' ')}: {kind.help}. ``request``: a "
                           f"``{kind.request.__name__}`` or a dict. Returns the ``{kind.typed_result}`` (with ``wait``, "
                           "the default) or the Submission; ``progress`` and ``timeout`` as in ``submit``.")
    return submit_kind


for _kind in submittable():
    setattr(_Methods, _kind.name, _submitter(_kind))


def _listener(progress: Listener, label: str) -> tuple[Progress | None, ProgressBar | None]:
    """The callable to feed views to, and the bar to close afterwards (``progress=True``)."""
    if progress is True:
        bar = ProgressBar(label)
        return bar, bar
    return (progress or None), None


def _closing(step: Step, bar: ProgressBar | None) -> Step:
    """``step``, closing the bar when it ends (however it ends)."""
    try:
        return (yield from step)
    finally:
        if bar is not None:
            bar.close()


def _write(path: str | os.PathLike, content: bytes) -> bytes:
    Path(path).write_bytes(content)
    return content


def _then(step: Step, after) -> Step:
    return after((yield from step))


def _settings(url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    url = (url or os.environ.get("TLPROBE_URL") or DEFAULT_URL).rstrip("/")
    token = token if token is not None else os.environ.get("TLPROBE_TOKEN") or None
    headers = {"user-agent": f"tlprobe-client/{__version__}", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return url, headers


def _verify(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext | bool:
    """``verify=``: a CA bundle's path (e.g. the root certificate of a private CA) becomes a context trusting it."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, (str, Path)) else verify


def _options(http: Http, timeout: float) -> dict[str, Any]:
    body = {"json": http.json} if http.content is None else {"content": http.content}
    return {"params": http.params, **body, "headers": http.headers,
            "timeout": httpx.Timeout(timeout, read=timeout + http.wait)}


class Client(_Methods):
    """Synchronous client. ``url`` defaults to TLPROBE_URL (else http://127.0.0.1:8000) and ``token``
    to TLPROBE_TOKEN; ``timeout`` is per request (long-polls get their wait on top); ``retries`` bounds
    the retries of 429/503, each pause at most ``max_retry_wait`` seconds. ``verify``: how an https
    URL's certificate is checked (True: the system's CAs, or the bundle SSL_CERT_FILE names; a path:
    the CA certificates in that file; an ``ssl.SSLContext``). Use as a context manager, or call
    ``close()``."""

    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = 30.0, retries: int = 3,
                 max_retry_wait: float = 120.0, transport: httpx.BaseTransport | None = None,
                 verify: ssl.SSLContext | str | bool = True) -> None:
        self.url, headers = _settings(url, token)
        self.timeout = timeout
        self._ops = Operations(retries=retries, max_retry_wait=max_retry_wait)
        self._http = httpx.Client(base_url=self.url, headers=headers, transport=transport, verify=_verify(verify))

    def _run(self, step: Step) -> Any:
        reply = None
        try:
            while True:
                action = step.send(reply)
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    reply = None
                else:
                    reply = self._http.request(action.method, action.path, **_options(action, self.timeout))
        except StopIteration as stop:
            return stop.value

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Methods):
    """The same methods as ``Client``, each returning an awaitable: ``await client.learning_curve(...)``.
    Use ``async with AsyncClient(...) as client``, or ``await client.aclose()``."""

    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = 30.0, retries: int = 3,
                 max_retry_wait: float = 120.0, transport: httpx.AsyncBaseTransport | None = None,
                 verify: ssl.SSLContext | str | bool = True) -> None:
        self.url, headers = _settings(url, token)
        self.timeout = timeout
        self._ops = Operations(retries=retries, max_retry_wait=max_retry_wait)
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, transport=transport, verify=_verify(verify))

    async def _drive(self, step: Step) -> Any:
        reply = None
        try:
            while True:
                action = step.send(reply)
                if isinstance(action, Sleep):
                    await asyncio.sleep(action.seconds)
                    reply = None
                else:
                    reply = await self._http.request(action.method, action.path, **_options(action, self.timeout))
        except StopIteration as stop:
            return stop.value

    def _run(self, step: Step) -> Any:
        return self._drive(step)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
