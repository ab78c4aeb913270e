"""Who holds a job or a dataset: the identities on whose behalf it exists, kept as fields of its own
Redis hash (``holder:<who>``), so that they live and expire exactly with it.

A job's holders are the tokens that submitted it (``token:<token id>``; ``open`` for a submission
made with tokens off) and the phase diagrams that use it as a part (``job:<diagram id>``): identical
requests make one job, so a job may have several. A dataset's holders are the tokens that uploaded
it (same content, same id). A cancel or a delete *detaches* its caller; the job is canceled, or the
dataset deleted, only by the last holder (``tlprobe_server.cancel``, ``tlprobe_server.dataset_store``).
Token ids, never tokens, are stored (``service.access``).
"""

from __future__ import annotations

from redis import Redis

PREFIX = "holder:"
#: a submission made with tokens off
OPEN = "open"

# adds the field only to a hash that exists: a record that expired is not brought back without its TTL
_ADD = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], ARGV[1], '1')
return 1
"""
# removes the field; -1 if it was not there, else how many holders are left
_DETACH = """
if redis.call('hdel', KEYS[1], ARGV[1]) == 0 then return -1 end
local left = 0
for _, field in ipairs(redis.call('hkeys', KEYS[1])) do
  if string.sub(field, 1, #ARGV[2]) == ARGV[2] then left = left + 1 end
end
return left
"""


def token(token_id: str) -> str:
    return f"token:{token_id}"


def job(job_id: str) -> str:
    """A phase diagram holding one of its parts."""
    return f"job:{job_id}"


def field(holder: str) -> str:
    return PREFIX + holder


def add(redis: Redis, key: str, holder: str) -> bool:
    """Record ``holder`` on the hash ``key``; False if the hash does not exist."""
    return bool(redis.eval(_ADD, 1, key, field(holder)))


def detach(redis: Redis, key: str, holder: str) -> int | None:
    """Remove ``holder``: how many holders are left, or None if it was not one."""
    left = int(redis.eval(_DETACH, 1, key, field(holder), PREFIX))
    return None if left < 0 else left


def of(redis: Redis, key: str) -> set[str]:
    """Every holder of the hash ``key``."""
    return {name.decode()[len(PREFIX):] for name in redis.hkeys(key) if name.startswith(PREFIX.encode())}
