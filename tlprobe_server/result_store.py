"""The result store: a finished job's validated result, and what is rendered from it.

A result is stored as the JSON text the worker validated against the kind's result schema, under a
key made from the job id (itself made from the request's cache key: results are content-addressed).
Its presence is what makes a submission a cache hit. Renderings of a result (a PNG or SVG picture)
live beside it and expire with it. The API serves a result as the bytes stored (``raw``), never
parsed and serialised again; its ETag is their digest. In the spirit of RQ's own ``results.py``: one module owns the
keys, the writes, the reads, the lifetimes and the deletes.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from . import keys, redis_memory


def put(redis: Redis, job_id: str, result_json: str, ttl: int) -> None:
    """Store a validated result (its JSON text) for ``ttl`` seconds, making room for it among the
    cached entries first (``redis_memory.RedisFull`` when there is none)."""
    redis_memory.make_room(redis, len(result_json))
    redis.set(keys.result(job_id), result_json, ex=ttl)


def get(redis: Redis, job_id: str) -> dict[str, Any] | None:
    raw = redis.get(keys.result(job_id))
    return None if raw is None else json.loads(raw)


def raw(redis: Redis, job_id: str) -> bytes | None:
    """The stored JSON text, unparsed."""
    return redis.get(keys.result(job_id))


async def raw_async(redis: AsyncRedis, job_id: str) -> bytes | None:
    """The stored JSON text, unparsed, with the asyncio client (the API's read paths)."""
    return await redis.get(keys.result(job_id))


def digest(stored: bytes) -> str:
    """The content address of stored bytes (128 bits of their sha256): a result's ETag."""
    return hashlib.sha256(stored).hexdigest()[:32]


_INCOMPLETE = re.compile(rb'"complete"\s*:\s*false')


def is_final(stored: bytes) -> bool:
    """Whether a stored result is for good: every result is, except a phase diagram with failed
    cells (``"complete": false``), which a resubmission replaces. Checked on the bytes, unparsed."""
    return _INCOMPLETE.search(stored) is None


def exists(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(keys.result(job_id)))


def ttl(redis: Redis, job_id: str) -> int | None:
    """Seconds the result has left; None when it is missing or never expires."""
    left = redis.ttl(keys.result(job_id))
    return left if left is not None and left > 0 else None


def delete(redis: Redis, job_id: str) -> None:
    """Forget a result and everything rendered from it."""
    redis.delete(keys.result(job_id), *(keys.plot(job_id, fmt) for fmt in RENDER_FORMATS))


#: formats a result may be rendered in (pictures are cached beside the result)
RENDER_FORMATS = ("png", "svg")


def get_rendering(redis: Redis, job_id: str, fmt: str) -> bytes | None:
    return redis.get(keys.plot(job_id, fmt))


def put_rendering(redis: Redis, job_id: str, fmt: str, data: bytes) -> None:
    """Cache a rendering for as long as its result lives (not at all when Redis has no room for it)."""
    try:
        redis_memory.make_room(redis, len(data))
    except redis_memory.RedisFull:
        return
    redis.set(keys.plot(job_id, fmt), data, ex=ttl(redis, job_id))
