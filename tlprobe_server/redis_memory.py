"""Redis's memory: nothing that cannot be recomputed is ever evicted, and the cache makes room.

Every Redis tlprobe ships runs with ``maxmemory-policy noeviction`` (docker-compose.yml, make run's
``devtools/localredis.py``, deploy/kubernetes/base/redis.conf): Redis itself never drops a key, so an
uploaded dataset, a queued job, a batch or a worker's registration stays until it expires or is
deleted. Keys with a TTL still expire. The price of noeviction is that Redis, once its data reach
``maxmemory``, refuses every write (``OOM``): submissions, heartbeats and failure records alike.

So tlprobe evicts its own cache, which it can recompute: before storing anything large (a result,
an artifact, a rendered picture, an uploaded dataset), ``make_room`` checks Redis's memory and, while
the write (counted 2.5 times: Redis holds its argument beside the stored copy for a moment) would leave
less than ``RESERVE_FRACTION`` of ``maxmemory`` free, deletes the least recently
used *recomputable* entries: results (with their pictures and catalogue entry), artifacts (trained
networks, spectra) and pictures. It finds them as Redis's own LRU does, by sampling (a few SCAN pages of
tlprobe's keys), and deletes the most idle of the sample (``OBJECT IDLETIME``: reads renew it). The
reserve keeps room for the small writes that keep the service going (the queue, job records and
failure reasons, heartbeats) after the cache has filled up. When nothing recomputable is left to
delete, ``RedisFull``: an upload gets 503, a worker fails its job with that reason, and an artifact or a
picture is simply not cached. A deleted result is computed again when asked for (its job reads as
finished with its result gone, which a submission replaces); a deleted artifact is recomputed by the
next job that needs it.

A Redis without ``maxmemory`` (make run's) is never full by this measure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import ResponseError

from . import keys

log = logging.getLogger(__name__)

RESERVE_FRACTION = 0.10  # of maxmemory, kept free of cache for the queue, job records and heartbeats
#: a write of n bytes holds up to 2.5 n in Redis for a moment: the stored copy and the command's argument
#: until Redis trims its input buffer, each rounded up to the allocator's size class (up to 25% more for
#: large values). Measured: +7.4 MB just after a 3.2 MB upload, +3.7 MB a second later.
IN_FLIGHT_FACTOR = 2.5
SAMPLE_SIZE = 64  # recomputable keys compared per round (Redis's own LRU samples 5)
SCAN_COUNT = 1000  # keys examined per SCAN call
MAX_ROUNDS = 64  # rounds of sampling and deleting per call before giving up (RedisFull)

_RESULT = keys.result("")
_PLOT = keys.plot("", "").rsplit(":", 2)[0] + ":"
RECOMPUTABLE = (_RESULT, keys.artifact(""), _PLOT)


class RedisFull(Exception):
    """Redis holds so much that cannot be recomputed that a write of this size would eat into the
    reserve: nothing was written."""

    RETRY_AFTER = 30

    def __init__(self, incoming: int, used: int, limit: int) -> None:
        super().__init__(f"Redis is full: storing {incoming} bytes would leave less than {RESERVE_FRACTION:.0%} of its "
                         f"{limit} bytes of memory free ({used} in use), and no cached result or artifact is left to "
                         "make room; delete datasets, wait for results to expire, or give Redis more memory")
        self.incoming, self.used, self.limit = incoming, used, limit


@dataclass(frozen=True)
class Memory:
    used: int
    limit: int  # 0: no maxmemory

    def room(self) -> int | None:
        """Bytes that may still be written before the reserve; None without a limit."""
        return None if self.limit <= 0 else int(self.limit * (1 - RESERVE_FRACTION)) - self.used


def memory(redis: Redis) -> Memory:
    info = redis.info("memory")
    return Memory(used=int(info["used_memory"]), limit=int(info.get("maxmemory", 0)))


def recomputable(key: bytes | str) -> bool:
    name = key.decode() if isinstance(key, bytes) else key
    return name.startswith(RECOMPUTABLE)


def _forget(redis: Redis, names: list[str]) -> None:
    """Delete entries; a result takes its pictures and its catalogue entry along."""
    doomed = []
    for name in names:
        doomed.append(name)
        if name.startswith(_RESULT):
            job_id = name[len(_RESULT):]
            doomed += [keys.plot(job_id, fmt) for fmt in ("png", "svg")] + [keys.catalogue_entry(job_id)]
    redis.delete(*doomed)


class _Sampler:
    """Walks tlprobe's keys with SCAN, a few pages at a time, from where the last round stopped."""

    def __init__(self, redis: Redis) -> None:
        self.redis, self.cursor, self.laps = redis, 0, 0

    def sample(self) -> list[str]:
        found: list[str] = []
        for _ in range(8):
            self.cursor, names = self.redis.scan(self.cursor, match=f"{keys.PREFIX}:*", count=SCAN_COUNT)
            found += [name.decode() for name in names if recomputable(name)]
            if self.cursor == 0:
                self.laps += 1
            if len(found) >= SAMPLE_SIZE or self.cursor == 0:
                break
        return found[:SAMPLE_SIZE * 2]


def _by_idleness(redis: Redis, names: list[str]) -> list[tuple[str, int]]:
    """(name, bytes) of the sampled entries still there, most idle first."""
    with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.object("idletime", name)
            pipe.memory_usage(name, samples=0)
        answers = pipe.execute(raise_on_error=False)
    entries = []
    for index, name in enumerate(names):
        idle, size = answers[2 * index], answers[2 * index + 1]
        if idle is None or isinstance(idle, ResponseError):
            continue  # gone since the scan
        entries.append((name, int(idle), 0 if size is None or isinstance(size, ResponseError) else int(size)))
    entries.sort(key=lambda entry: entry[1], reverse=True)
    return [(name, size) for name, _, size in entries[:SAMPLE_SIZE]]


def make_room(redis: Redis, incoming: int) -> int:
    """Before writing ``incoming`` bytes: delete least recently used recomputable entries until the
    write (2.5 times its size, ``IN_FLIGHT_FACTOR``) leaves the reserve free. Returns the number of
    entries deleted; RedisFull when that cannot be done."""
    size, incoming = incoming, int(incoming * IN_FLIGHT_FACTOR)
    state = memory(redis)
    room = state.room()
    if room is None or incoming <= room:
        return 0
    sampler, deleted = _Sampler(redis), 0
    for _ in range(MAX_ROUNDS):
        candidates = _by_idleness(redis, sampler.sample())
        if not candidates and sampler.laps > 0:
            break  # a whole pass over the keys found nothing recomputable
        needed, chosen = incoming - room, []
        for name, size in candidates:  # the most idle first, until their sizes cover what is missing
            chosen.append(name)
            needed -= size
            if needed <= 0:
                break
        if chosen:
            _forget(redis, chosen)
            deleted += len(chosen)
        state = memory(redis)
        room = state.room()
        if incoming <= room:
            log.info("made room for %d bytes: deleted %d cached entries (%d of %d bytes in use)", incoming, deleted,
                     state.used, state.limit)
            return deleted
        if sampler.laps > 1:
            break
    raise RedisFull(size, state.used, state.limit)
