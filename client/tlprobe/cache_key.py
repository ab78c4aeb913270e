"""The only place a cache key is made.

key = sha256 of the canonical JSON (sorted keys, no spaces) of the *validated* request with every
default filled in, plus the schema and science versions. So the same request in any key order,
with defaults spelled out or omitted, has one key; a new engine never serves stale numbers.
The job id is the kind's prefix and the first 40 hex digits of the key (``tlprobe.kinds.Kind.job_id``),
so a client can tell a request's job id without asking the service.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel

from .versions import SCHEMA_VERSION, SCIENCE_VERSION

#: hex digits of the cache key in a job id
JOB_ID_DIGITS = 40


def canonical_json(request: BaseModel) -> str:
    return json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False)


def cache_key(kind: str, request: BaseModel) -> str:
    """``kind``: the kind's name."""
    payload = f"{kind}|schema={SCHEMA_VERSION}|science={SCIENCE_VERSION}|{canonical_json(request)}"
    return hashlib.sha256(payload.encode()).hexdigest()


def job_id(prefix: str, kind: str, request: BaseModel) -> str:
    """``prefix``: the kind's prefix of job ids; ``kind``: its name."""
    return f"{prefix}-{cache_key(kind, request)[:JOB_ID_DIGITS]}"
