"""The byte format of an array kept in Redis (engine artifacts, uploaded datasets), defined once.

A JSON header line ``{"dtype": "<f8", "shape": [800, 800]}`` followed by the raw C-order bytes. No
pickle, so nothing stored can execute code when read. This module frames and unframes bytes only;
the numpy side (``worker/redis_arrays.py``, ``service/uploads.py``) turns them into arrays.
"""

from __future__ import annotations

import json
from typing import Sequence


def frame(dtype: str, shape: Sequence[int], body: bytes) -> bytes:
    """``dtype`` is numpy's ``dtype.str`` (byte order, kind, size: "<f8")."""
    header = json.dumps({"dtype": dtype, "shape": [int(n) for n in shape]}).encode()
    return header + b"\n" + body


def unframe(data: bytes) -> tuple[str, list[int], bytes]:
    """(dtype, shape, raw bytes) of a framed array."""
    header, _, body = data.partition(b"\n")
    meta = json.loads(header)
    return meta["dtype"], list(meta["shape"]), body
