"""Finished results served as the bytes stored: ETag and 304, Cache-Control, gzip, a hot cache.

A finished result is content-addressed: its ETag is the digest of the stored bytes, so a client
holding it can ask again with ``If-None-Match`` and get a 304 without a body. A result that is final
(everything except a phase diagram with failed cells, which a resubmission replaces) may be cached
for as long as the service keeps it (``Cache-Control: max-age=<result TTL>, immutable``); the others
are ``no-cache`` (stored, but revalidated each time: a 304 while unchanged). ``public`` becomes
``private`` when reads need a token. Bodies of at least ``GZIP_MIN_BYTES`` are sent gzip-compressed
to clients that accept it; compressed bodies are kept in a small LRU keyed by their digest (so it can
never serve stale bytes), since compressing costs more than the rest of a request.

Each API process also keeps the final results it read in the last ``HOT_SECONDS`` (at most
``TLPROBE_HOT_RESULTS_BYTES``): reading them again costs no Redis round trip. A final result never
changes under its id, so the only effect is that one whose Redis key expired (or was deleted by
hand) can still be served for up to ``HOT_SECONDS``.
"""

from __future__ import annotations

import gzip
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request, Response
from redis.asyncio import Redis as AsyncRedis

from tlprobe_server import result_store
from tlprobe_server.settings import Settings

GZIP_MIN_BYTES = 1024
GZIP_CACHE_BYTES = 32 * 1024 * 1024
HOT_SECONDS = 10.0
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Stored:
    """A result's bytes as stored, their digest, whether they are final, and the ETags and
    Cache-Control they are served with (worked out once per read from Redis, not per request)."""

    body: bytes
    digest: str
    final: bool
    etag: str
    gzip_etag: str
    cache_control: str

    @classmethod
    def of(cls, body: bytes, settings: Settings) -> "Stored":
        digest, final = result_store.digest(body), result_store.is_final(body)
        scope = "private" if settings.protect_reads and settings.tokens() else "public"
        cache_control = f"{scope}, max-age={settings.result_ttl}, immutable" if final else f"{scope}, no-cache"
        return cls(body, digest, final, f'"{digest}"', f'"{digest}-gzip"', cache_control)


class LRU:
    """Values by key, least recently used dropped first beyond ``limit`` bytes (0: keeps nothing)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.entries: OrderedDict[str, tuple[bytes, object]] = OrderedDict()

    def get(self, key: str):
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, data: bytes, value: object) -> None:
        if len(data) > self.limit:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old[0])
        self.entries[key] = (data, value)
        self.size += len(data)
        while self.size > self.limit:
            _, (dropped, _) = self.entries.popitem(last=False)
            self.size -= len(dropped)


class ResultReader:
    """Reads stored results for one API process: the hot cache, else Redis (asyncio client)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hot = LRU(settings.hot_results_bytes)
        self.gzipped = LRU(GZIP_CACHE_BYTES)

    def hot_hit(self, job_id: str) -> Stored | None:
        """The result of ``job_id`` if this process read it in the last ``HOT_SECONDS``, else None."""
        hit = self.hot.get(job_id)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    async def read(self, redis: AsyncRedis, job_id: str) -> Stored | None:
        hit = self.hot_hit(job_id)
        if hit is not None:
            return hit
        body = await result_store.raw_async(redis, job_id)
        if body is None:
            return None
        stored = Stored.of(body, self.settings)
        if stored.final:
            self.hot.put(job_id, body, (time.monotonic() + HOT_SECONDS, stored))
        return stored

    def gzip(self, digest: str, body: bytes) -> bytes:
        packed = self.gzipped.get(digest)
        if packed is None:
            packed = gzip.compress(body, compresslevel=6, mtime=0)
            self.gzipped.put(digest, packed, packed)
        return packed


def reader(request: Request) -> ResultReader:
    return request.app.state.result_reader


async def read_result(request: Request, job_id: str) -> Stored | None:
    """The stored result of ``job_id`` (hot cache, else Redis), or None."""
    state = request.app.state
    return await state.result_reader.read(state.async_redis, job_id)


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip (``gzip`` or ``*`` with a q-value above 0)."""
    header = (header or "").lower()
    if "gzip" not in header and "*" not in header:
        return False
    weights = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip()] = q
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def matches(if_none_match: str | None, *etags: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list with ``etags`` (``*`` matches anything)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") in etags for tag in tags)


def _gzip_wanted(request: Request, body: bytes) -> bool:
    return len(body) >= GZIP_MIN_BYTES and accepts_gzip(request.headers.get("accept-encoding"))


_VARY = (b"vary", b"Accept-Encoding")
_GZIP = (b"content-encoding", b"gzip")
_JSON = (b"content-type", JSON.encode())


def reply(reader: ResultReader, stored: Stored, accept_encoding: str | None,
          if_none_match: str | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of a stored result: 304 when If-None-Match holds its ETag, else 200
    (gzip if accepted). Both the route and the hot path (service/hot_reads.py) answer with this;
    the headers are those (and in the order) Starlette's ``Response`` would give."""
    gzipped = len(stored.body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding)
    headers = [_VARY, (b"cache-control", stored.cache_control.encode()),
               (b"etag", (stored.gzip_etag if gzipped else stored.etag).encode())]
    # either representation's tag proves the client holds these bytes
    if if_none_match and matches(if_none_match, stored.etag, stored.gzip_etag):
        return 304, headers, b""
    body = stored.body
    if gzipped:
        headers.append(_GZIP)
        body = reader.gzip(stored.digest, body)
    headers += [(b"content-length", str(len(body)).encode()), _JSON]
    return 200, headers, body


class RawResponse(Response):
    """A response whose status, raw headers and body are given as they are sent."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code, self.raw_headers, self.body, self.background = status, raw_headers, body, None


def result_response(request: Request, stored: Stored) -> Response:
    """A stored result as it is: 304 when If-None-Match holds its ETag, else 200 (gzip if accepted)."""
    headers = request.headers
    return RawResponse(*reply(reader(request), stored, headers.get("accept-encoding"), headers.get("if-none-match")))


def json_response(request: Request, body: bytes) -> Response:
    """A JSON body built from stored bytes (a cached submission): gzip if accepted, not cacheable."""
    headers = {"vary": "Accept-Encoding"}
    if _gzip_wanted(request, body):
        headers["content-encoding"] = "gzip"
        body = reader(request).gzip(result_store.digest(body), body)
    return Response(body, media_type=JSON, headers=headers)


#: the OpenAPI description of what ``result_response`` answers (besides the body's own schema)
RESULT_HEADERS = {
    "ETag": {"description": "Digest of the stored result (\"<digest>\", or \"<digest>-gzip\" when gzip-encoded).",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "public (private when reads need a token), max-age=<result TTL>, immutable; "
                                     "no-cache for a phase diagram with failed cells (a resubmission replaces it).",
                      "schema": {"type": "string"}},
}
NOT_MODIFIED = {304: {"description": "Not modified: If-None-Match holds the result's current ETag (no body)."}}
#: documents the If-None-Match header without declaring a parameter (which FastAPI would parse on every request)
IF_NONE_MATCH = {"parameters": [{
    "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "An ETag received earlier: answered with 304 (no body) while the result is unchanged."}]}
