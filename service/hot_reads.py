"""The hot read path: a finished result this process read in the last seconds, answered before the
framework is entered.

``GET /v1/jobs/{job_id}/result`` and ``GET /v1/phase-diagrams/{diagram_id}`` (JSON, no query string)
are the most common requests. When the result is in the process's hot cache (service/stored.py),
this outermost ASGI middleware answers them itself with what the routes would answer: the same
status, headers and bytes (``stored.reply``: ETag and 304, Cache-Control, gzip), the request id
(``X-Request-ID``, as ``RequestId`` gives it) and the same metrics (route template and status).
Everything else goes down the normal stack, unchanged: a hot-cache miss, any other method (HEAD
included: the routes do not answer it either), a query string, a request body, and a request that
a token check refuses (the route answers the 401, so refusals stay identical). FastAPI's routing
through the included routers, the middlewares and the endpoint call cost about as much again as
the rest of such a request (docs/operations.md, "Cached reads: how fast").
"""

from __future__ import annotations

import re
import time

from fastapi import HTTPException

from tlprobe.kinds import KINDS, kind_of_job
from tlprobe_server import logs
from tlprobe_server.settings import Settings

from .access import identify
from .metrics import Metrics
from .stored import ResultReader, reply

_REQUEST_ID = logs.REQUEST_ID_HEADER.lower().encode()
_PHASE_DIAGRAM = KINDS["phase_diagram"]
#: path pattern, the route template metrics count it under, the job kind its id must have (None: any)
ROUTES = ((re.compile(r"/v1/jobs/([^/]+)/result"), "/v1/jobs/{job_id}/result", None),
          (re.compile(r"/v1/phase-diagrams/([^/]+)"), "/v1/phase-diagrams/{diagram_id}", _PHASE_DIAGRAM))
_WANTED = {b"authorization", b"accept-encoding", b"if-none-match", _REQUEST_ID}
_BODY = {b"content-length", b"transfer-encoding"}


class HotReads:
    def __init__(self, app, reader: ResultReader, settings: Settings, metrics: Metrics) -> None:
        self.app, self.reader, self.settings, self.metrics = app, reader, settings, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"] \
                and not scope.get("root_path"):
            path = scope["path"]
            for pattern, template, kind in ROUTES:
                match = pattern.fullmatch(path)
                if match is not None:
                    if await self._answer(match.group(1), kind, template, scope, send):
                        return
                    break
        await self.app(scope, receive, send)

    async def _answer(self, job_id: str, kind, template: str, scope, send) -> bool:
        """Answers from the hot cache and returns True, or returns False having sent nothing."""
        started = time.perf_counter()
        if kind is not None and kind_of_job(job_id) is not kind:
            return False
        stored = self.reader.hot_hit(job_id)
        if stored is None:
            return False
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:  # the first of repeated headers, as Starlette reads them
            if name in _BODY:
                return False  # the body limit and the route see it
            if name in _WANTED and name not in headers:
                headers[name] = value
        if self.settings.protect_reads:
            try:
                authorization = headers.get(b"authorization")
                identify(self.settings, None if authorization is None else authorization.decode("latin-1"),
                         required=True)
            except HTTPException:
                return False  # the route answers the 401
        sent = headers.get(_REQUEST_ID)
        request_id = logs.accepted_request_id(None if sent is None else sent.decode("latin-1"))
        logs.request_id.set(request_id)  # as RequestId does, for any line written about this request
        accept_encoding, if_none_match = headers.get(b"accept-encoding"), headers.get(b"if-none-match")
        status, response_headers, body = reply(
            self.reader, stored, None if accept_encoding is None else accept_encoding.decode("latin-1"),
            None if if_none_match is None else if_none_match.decode("latin-1"))
        response_headers.append((_REQUEST_ID, request_id.encode()))
        try:
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": body})
        finally:  # counted as RequestMetrics counts it: the status sent, even if the client left
            self.metrics.observe("GET", template, status, started)
        return True
