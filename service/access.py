"""Optional bearer tokens and a per-token submission rate limit.

With ``TLPROBE_API_TOKENS`` unset, the service is open (as on a laptop). With tokens set, every
write (submissions, cancellations) needs ``Authorization: Bearer <token>``, and reads do too when
``TLPROBE_PROTECT_READS`` is true. A missing or wrong token is a 401. Tokens are compared in
constant time, against every configured token. They are never logged or stored: a token is known
by the first 16 hex digits of its sha256. Each token may submit ``TLPROBE_RATE_LIMIT_PER_MINUTE``
computations per clock minute (a fixed window counted in Redis, shared by all API processes);
beyond that, 429 with ``Retry-After``.

A token is also an identity (``tlprobe_server.holders``): the jobs a token submitted and the
datasets it uploaded are held by its id, and it may cancel or delete only those (detaching itself
while another holder remains); the tokens of ``TLPROBE_ADMIN_TOKENS`` are accepted like the others
and may also cancel or delete anything outright (``acting_as``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from redis import Redis

from tlprobe_server import holders, keys
from tlprobe_server.settings import Settings


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"more than {limit} submissions in a minute for this token")
        self.retry_after = retry_after


def presented(authorization: str | None) -> str | None:
    """The bearer token in an Authorization header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def identify(settings: Settings, authorization: str | None, required: bool) -> str | None:
    """The token id of an Authorization header (None when tokens are off or not required); an
    HTTPException (401) when a token is required and missing or wrong."""
    if not required:
        return None
    tokens = settings.tokens()
    if not tokens:
        return None
    token = presented(authorization)
    if token is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    matches = [hmac.compare_digest(token.encode(), known.encode()) for known in tokens]  # no early exit
    if not any(matches):
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return token_id(token)


def token_id(token: str) -> str:
    """What a token is known by (in Redis, logs and metrics): the first 16 hex digits of its sha256."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def acting_as(settings: Settings, token: str | None) -> str | None:
    """The holder a cancel or a delete by the token id ``token`` detaches, or None when it acts
    outright: tokens off (anyone may, as before tokens), or an admin token."""
    if token is None or token in {token_id(admin) for admin in settings.admins()}:
        return None
    return holders.token(token)


def submitter(token: str | None) -> str:
    """The holder a submission by the token id ``token`` records (``open`` with tokens off)."""
    return holders.OPEN if token is None else holders.token(token)


def _identify(request: Request, required: bool) -> str | None:
    return identify(request.app.state.settings, request.headers.get("authorization"), required)


async def _write(request: Request) -> str | None:  # async: called on the event loop, not in the thread pool
    return _identify(request, required=True)


def read_token(request: Request) -> str | None:
    """What ``ReadAccess`` checks, for the hot read paths that declare no dependencies."""
    return _identify(request, required=request.app.state.settings.protect_reads)


async def _read(request: Request) -> str | None:
    return read_token(request)


#: the caller's token id (None when tokens are off); a 401 before the route runs otherwise
WriteAccess = Annotated[str | None, Depends(_write)]
ReadAccess = Annotated[str | None, Depends(_read)]


def charge(redis: Redis, settings: Settings, token_id: str | None, submissions: int = 1) -> None:
    """Count submissions against the token's per-minute budget; RateLimited past it."""
    limit = settings.rate_limit_per_minute
    if token_id is None or limit == 0:
        return
    now = time.time()
    window = int(now // 60)
    key = keys.rate(token_id, window)
    with redis.pipeline() as pipe:
        pipe.incrby(key, submissions)
        pipe.expire(key, 120)
        used, _ = pipe.execute()
    if used > limit:
        raise RateLimited(retry_after=max(1, int(60 * (window + 1) - now)), limit=limit)
