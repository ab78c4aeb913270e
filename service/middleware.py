"""ASGI middleware: the request id, a request body size limit (413), and per-route metrics."""

from __future__ import annotations

import json
import time

from tlprobe_server import logs

from .metrics import Metrics

_REQUEST_ID = logs.REQUEST_ID_HEADER.lower().encode()


class RequestId:
    """The request's id (``X-Request-ID`` as sent, when sensible, else a new one: ``tlprobe_server.logs``),
    set for every log line written while serving it and for the jobs it enqueues, and returned in
    the response's ``X-Request-ID`` header. Outermost, so that every answer has one."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = next((value for name, value in scope["headers"] if name == _REQUEST_ID), None)
        request_id = logs.accepted_request_id(sent.decode("latin-1") if sent is not None else None)
        header = (_REQUEST_ID, request_id.encode())

        async def send_with_id(event):
            if event["type"] == "http.response.start":
                event = {**event, "headers": [*event.get("headers", []), header]}
            await send(event)

        # not reset afterwards: the server runs each request in a task of its own (whose context ends
        # with it), and its own lines about the request, such as an unhandled exception, carry the id
        logs.request_id.set(request_id)
        await self.app(scope, receive, send_with_id)


async def _send_json(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    """Refuses bodies over ``limit`` bytes with 413 before they are parsed, so no oversized array is
    ever allocated: from Content-Length when given (the server delivers no more than it says), else
    by reading the (chunked) body up to the limit and replaying it to the application. ``paths``
    gives some paths their own limit (and the setting that holds it, named in the refusal), e.g.
    dataset uploads."""

    def __init__(self, app, limit: int, setting: str = "TLPROBE_MAX_BODY_BYTES",
                 paths: dict[str, tuple[int, str]] | None = None) -> None:
        self.app, self.default, self.paths = app, (limit, setting), paths or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, setting = self.paths.get(scope.get("path", "").rstrip("/"), self.default)
        too_large = {"detail": f"request body larger than {limit} bytes ({setting})"}
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _send_json(send, 413, too_large)
            chunked = chunked or name == b"transfer-encoding"
        if not chunked:  # no body, or one the server holds to its Content-Length: nothing to count
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            event = await receive()
            if event["type"] != "http.request":  # client went away
                return
            chunks.append(event.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await _send_json(send, 413, too_large)
            if not event.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RequestMetrics:
    """Counts and times every request under its route template (not the raw path: ids don't explode
    the label space)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def tracking_send(event):
            if event["type"] == "http.response.start":
                status["code"] = event["status"]
            await send(event)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status["code"], started)
