"""One log format for the API and the workers: JSON lines on stderr, one object per record.

Every line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``,
``process`` and ``component`` (``api`` or ``worker``); ``request_id`` and ``job_id`` when the line
was written while serving a request or running a job; any ``extra={...}`` fields given to the
call; ``trace_id`` when tracing is on (``tlprobe_server.tracing``) and the line was written inside a
span; and ``exception`` with the traceback when there is one.

The request id is the one a client sent in ``X-Request-ID`` (when it is 1 to 128 characters from
``[A-Za-z0-9._:/+=-]``) or one made up for the request (32 hex digits). The API returns it in the
response's ``X-Request-ID`` header and stores it in the meta of every job that request enqueues
(``request_id``); a worker running the job logs under it, so one id follows a request from the API
to every worker line of its job. A job joined by a later identical request keeps the id of the
request that enqueued it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator

from . import tracing

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)

#: attributes every LogRecord has: anything else on a record came from ``extra=`` and is logged
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def accepted_request_id(sent: str | None) -> str:
    """The client's id when it is a sensible one, else a new one."""
    if sent is not None and _VALID_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


@contextmanager
def context(request: str | None = None, job: str | None = None) -> Iterator[None]:
    """Log lines written inside carry these ids."""
    tokens = [(variable, variable.set(value)) for variable, value in ((request_id, request), (job_id, job))
              if value is not None]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class JsonLines(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "component": self.component,
        }
        for name, variable in (("request_id", request_id), ("job_id", job_id)):
            value = getattr(record, name, None) or variable.get()
            if value is not None:
                line[name] = value
        if tracing.enabled() and (trace := tracing.trace_id()) is not None:
            line["trace_id"] = trace
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


#: loggers that other libraries configure with handlers of their own: made to propagate to ours
_TAKEN_OVER = ("uvicorn", "uvicorn.error", "uvicorn.access", "rq", "rq.worker", "rq.job", "rq.scheduler")


def configure(component: str, level: int | str = logging.INFO) -> None:
    """JSON lines on stderr for every logger of this process (the root's one handler)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines(component))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in _TAKEN_OVER:
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.handlers and not logger.propagate:
            continue  # switched off (uvicorn --no-access-log): stays off, a line per request costs ~50 us
        logger.handlers = []
        logger.propagate = True
