"""What a job's computation leaves behind: its result stamped with where and how it was computed, and
the reason recorded when it fails. Shared by the RQ entry point (``worker.tasks``) and by a diagram
tile, which stores each of its curves as the learning-curve job of that curve would."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel
from redis.exceptions import OutOfMemoryError
from rq.timeouts import JobTimeoutException

from tlprobe import SCHEMA_VERSION, __version__
from tlprobe.cache_key import cache_key
from tlprobe_server.dataset_store import DatasetMissing
from tlprobe_server.kinds import ServerKind
from tlprobe_server.redis_memory import RedisFull
from worker.libraries import libraries
from worker.science.invalid_spec import InvalidSpec


def exception_reason(exc: Exception, timeout: int | None) -> str:
    if isinstance(exc, JobTimeoutException):
        return f"timeout: the job ran longer than its limit of {timeout} s"
    if isinstance(exc, InvalidSpec):
        return f"invalid input: {exc}"
    if isinstance(exc, DatasetMissing):
        return f"missing dataset: {exc}"
    if isinstance(exc, (RedisFull, OutOfMemoryError)):
        return f"redis full: {exc}"[:500]
    return f"error: {type(exc).__name__}: {exc}"[:500]


def stamped(kind: ServerKind, request: BaseModel, result: BaseModel | dict[str, Any], job_id: str,
            elapsed: float) -> BaseModel:
    """The result validated against the kind's schema, its meta naming versions, cache key, job id, time,
    host and numerical libraries."""
    if isinstance(result, BaseModel):  # the engine's own result model
        result = result.model_dump()
    meta = result.get("meta", {})
    meta.update(package_version=__version__, schema_version=SCHEMA_VERSION, cache_key=cache_key(kind.name, request),
                job_id=job_id, computed_at=datetime.now(timezone.utc).isoformat(), worker=socket.gethostname(),
                elapsed_seconds=round(elapsed, 3), libraries=libraries())
    return kind.result.model_validate({**result, "meta": meta})
