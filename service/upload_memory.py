"""The memory that uploads being decoded hold in one API process, against a bound.

Each upload reserves what decoding it will hold (its canonical arrays and working buffers, computed
from the shapes its headers declare, before any data is decompressed) and gives it back when its
request is done. An upload that does not fit beside the others now is refused at once
(``MemoryBusy``: 503 with Retry-After) rather than made to wait: a waiting upload would keep its body,
a connection and a thread, the very things the bound is there to spare, and clients retry 503s (the
tlprobe client does, after Retry-After). One that could never fit, even alone, is ``NeverFits`` (413).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

SETTING = "TLPROBE_MAX_UPLOAD_MEMORY_BYTES"


class MemoryBusy(Exception):
    RETRY_AFTER = 5  # seconds: about what decoding the largest allowed dataset takes

    def __init__(self, wanted: int, held: int, limit: int) -> None:
        super().__init__(f"uploads being decoded hold {held} of the {limit} bytes this API process allows them "
                         f"({SETTING}); this one needs {wanted}: retry shortly")


class NeverFits(Exception):
    def __init__(self, wanted: int, limit: int) -> None:
        super().__init__(f"decoding this dataset takes {wanted} bytes of memory, more than the {limit} bytes this API "
                         f"allows all uploads together ({SETTING}): send fewer samples or features")


class UploadMemory:
    """Bytes held by uploads being decoded in this process (thread-safe: held on the event loop,
    released wherever the request ends)."""

    def __init__(self, limit: int) -> None:
        self.limit, self._held, self._lock = limit, 0, threading.Lock()

    @property
    def held(self) -> int:
        return self._held

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        if nbytes > self.limit:
            raise NeverFits(nbytes, self.limit)
        with self._lock:
            if self._held + nbytes > self.limit:
                raise MemoryBusy(nbytes, self._held, self.limit)
            self._held += nbytes
        try:
            yield
        finally:
            with self._lock:
                self._held -= nbytes
