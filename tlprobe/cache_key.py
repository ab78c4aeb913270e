"""The only place a cache key is made.

key = sha256 of the canonical JSON (sorted keys, no spaces) of the *validated* request with every
default filled in, plus the schema and science versions. So the same request in any key order,
with defaults spelled out or omitted, has one key; a new engine never serves stale numbers.
The job id is the kind's prefix and the first 40 hex digits of the key.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from pydantic import BaseModel

from .versions import SCHEMA_VERSION, SCIENCE_VERSION

if TYPE_CHECKING:
    from .kinds import JobKind


def canonical_json(request: BaseModel) -> str:
    return json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False)


def cache_key(kind: JobKind, request: BaseModel) -> str:
    payload = f"{kind.name}|schema={SCHEMA_VERSION}|science={SCIENCE_VERSION}|{canonical_json(request)}"
    return hashlib.sha256(payload.encode()).hexdigest()


def job_id(kind: JobKind, request: BaseModel) -> str:
    return f"{kind.prefix}-{cache_key(kind, request)[:40]}"
