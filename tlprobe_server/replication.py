"""Writes that cannot be recomputed are acknowledged only once replicas hold them.

Redis replicates asynchronously: a primary that dies right after answering a write may take it
along, and the replica that Sentinel promotes never had it. Results, artifacts and jobs can be
computed or submitted again, but an uploaded dataset (and a batch's list of job ids, under an id
drawn at random) cannot. So after such a write the service asks Redis to ``WAIT`` until
``TLPROBE_REDIS_MIN_REPLICAS`` replicas have acknowledged it, and answers 503 (``NotReplicated``)
when fewer did within half the Redis timeout (``WAIT_FRACTION``: the socket timeout must outlast the
wait). With 0 (one Redis, the default) nothing waits.

``WAIT`` counts the writes made on its own connection, and a client's commands go out on whichever
pooled connection is free. So ``confirm`` writes a small marker on one connection and waits there:
the replication stream is one ordered log, so a replica that acknowledged the marker holds every
write the caller completed before it, on whatever connection.
"""

from __future__ import annotations

from redis import Redis

from . import keys
from .settings import Settings

WAIT_FRACTION = 0.5


class NotReplicated(Exception):
    """Fewer replicas than ``TLPROBE_REDIS_MIN_REPLICAS`` acknowledged a write in time: it is stored on
    the primary but not promised; the client should send it again (uploads and batches are idempotent
    to resend)."""

    RETRY_AFTER = 5

    def __init__(self, acknowledged: int, wanted: int) -> None:
        super().__init__(f"the write reached {acknowledged} of the {wanted} Redis replica(s) it must reach before "
                         "it is acknowledged (a replica is down or lagging, or a failover is under way); send it again "
                         "shortly")
        self.acknowledged, self.wanted = acknowledged, wanted


def wait_milliseconds(settings: Settings) -> int:
    return max(1, int(settings.redis_timeout * WAIT_FRACTION * 1000))


def confirm(redis: Redis, settings: Settings) -> int:
    """Return once ``redis_min_replicas`` replicas hold every write completed before this call; the
    number that do. NotReplicated when fewer did within the wait."""
    wanted = settings.redis_min_replicas
    if wanted <= 0:
        return 0
    with redis.pipeline(transaction=False) as pipe:  # one connection: the marker and the WAIT on it
        pipe.incr(keys.replication_marker())
        pipe.wait(wanted, wait_milliseconds(settings))
        _, acknowledged = pipe.execute()
    if acknowledged < wanted:
        raise NotReplicated(acknowledged, wanted)
    return acknowledged
