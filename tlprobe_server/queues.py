"""The two queues jobs wait in, declared once: interactive and bulk.

A job's queue is a property of the job *as submitted*. Learning curves and GCM jobs submitted directly
(or as items of a batch) are interactive; a phase diagram, and every job it fans out into (its source
networks, its learning-curve parts, its assembly), is bulk (``tlprobe_server.kinds``: each kind's
``lane``; a fan-out's parts take their diagram's). The interactive queue is RQ's queue
``TLPROBE_QUEUE_NAME`` (``tlprobe``: jobs queued before the split are served as interactive), the
bulk one ``<TLPROBE_QUEUE_NAME>-bulk``; every reader (submission, capacity, /metrics, /readyz, the
workers, their health check, the KEDA ScaledObject) takes the names from here.

One job id can be asked for both ways: a learning curve that is a part of a diagram has the same
content-addressed id as the same request submitted directly. When an interactive submission joins
a job still waiting in bulk, the job is *promoted* (``promote``): moved to the end of the interactive
queue (or, if it is deferred behind its dependencies, re-registered there, so that it is queued as
interactive once they end), together with the jobs it waits for, transitively. A job already running
keeps its worker. A bulk submission joining an interactive job leaves it where it is.

How workers take from the queues is the workers' side (``worker.lanes``).
"""

from __future__ import annotations

import time
from enum import Enum

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import DeferredJobRegistry
from rq.serializers import JSONSerializer

from .settings import Settings


class Lane(str, Enum):
    """Which of the two queues: also the ``queue`` label of the queue gauges in /metrics."""

    interactive = "interactive"
    bulk = "bulk"


#: the queues in the order workers that take both try them (interactive work first)
PRIORITY = (Lane.interactive, Lane.bulk)


def queue_name(settings: Settings, lane: Lane) -> str:
    """RQ's name of a lane's queue (its Redis keys: ``rq:queue:<name>``, ``rq:wip:<name>``, ...)."""
    return settings.queue_name if lane is Lane.interactive else f"{settings.queue_name}-bulk"


def queue_names(settings: Settings) -> dict[Lane, str]:
    return {lane: queue_name(settings, lane) for lane in PRIORITY}


def lane_of(settings: Settings, name: str) -> Lane | None:
    """The lane of an RQ queue name, or None for a queue that is not one of ours."""
    return next((lane for lane, own in queue_names(settings).items() if own == name), None)


def queue(redis: Redis, settings: Settings, lane: Lane) -> Queue:
    return Queue(queue_name(settings, lane), connection=redis, serializer=JSONSerializer)


def queues(redis: Redis, settings: Settings) -> dict[Lane, Queue]:
    return {lane: queue(redis, settings, lane) for lane in PRIORITY}


# Atomic, so that no worker can take the job between the checks and the move. KEYS: the job's hash,
# its dependencies set, the bulk and interactive queue lists, the bulk and interactive deferred
# registries, RQ's set of queues. ARGV: job id, the interactive and bulk queue names, the prefix and
# suffix of a job's dependents set (``rq:job:<id>:dependents``), the time (the deferred score).
# Returns 1: moved from the bulk queue; 2: moved from the bulk deferred registry; 0: not waiting in bulk.
# A deferred job is released by RQ (``Queue.move_dependents_to_ready``) under a WATCH on the dependents
# sets of the jobs it waits for; writing those sets here (the job's id removed and added back) makes a
# release that had read the job's old queue retry, and read the new one.
_PROMOTE = """
if redis.call('HGET', KEYS[1], 'origin') ~= ARGV[3] then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' then
  if redis.call('LREM', KEYS[3], 1, ARGV[1]) == 0 then return 0 end
  redis.call('HSET', KEYS[1], 'origin', ARGV[2])
  redis.call('RPUSH', KEYS[4], ARGV[1])
  redis.call('SADD', KEYS[7], KEYS[4])
  return 1
end
if status == 'deferred' then
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
  redis.call('HSET', KEYS[1], 'origin', ARGV[2])
  for _, dependency in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local dependents = ARGV[4] .. dependency .. ARGV[5]
    if redis.call('SREM', dependents, ARGV[1]) == 1 then redis.call('SADD', dependents, ARGV[1]) end
  end
  return 2
end
return 0
"""
#: a job RQ is releasing (its dependencies just ended) is queued a moment later: promotion waits for it
_RELEASING = (b"ready_to_enqueue", b"created")
_RELEASE_WAIT, _RELEASE_TRIES = 0.01, 20


def _dependencies_key(redis: Redis, job_id: str) -> str:
    """RQ's set of the ids a job waits for (``rq:job::<id>:dependencies``: RQ's own spelling)."""
    return Job(job_id, connection=redis).dependencies_key


def _promote_one(redis: Redis, settings: Settings, job_id: str) -> int:
    bulk, interactive = queue(redis, settings, Lane.bulk), queue(redis, settings, Lane.interactive)
    prefix, _, suffix = Job.dependents_key_for(job_id).partition(job_id)
    keys = [Job.key_for(job_id), _dependencies_key(redis, job_id), bulk.key, interactive.key,
            DeferredJobRegistry(queue=bulk).key, DeferredJobRegistry(queue=interactive).key, Queue.redis_queues_keys]
    script = redis.register_script(_PROMOTE)
    for _ in range(_RELEASE_TRIES):
        moved = script(keys=keys, args=[job_id, interactive.name, bulk.name, prefix, suffix, time.time()])
        if moved or redis.hget(keys[0], "status") not in _RELEASING:
            return int(moved)
        time.sleep(_RELEASE_WAIT)
    return 0


def promote(redis: Redis, settings: Settings, job_id: str) -> list[str]:
    """Move a job waiting in bulk to the interactive queue, and, when it waits for other jobs, those
    of them waiting in bulk, transitively. Returns the ids moved (none for a job not waiting in bulk)."""
    moved, pending, seen = [], [job_id], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if _promote_one(redis, settings, current):
            moved.append(current)
        if redis.hget(Job.key_for(current), "status") == b"deferred":
            pending.extend(member.decode() for member in redis.smembers(_dependencies_key(redis, current)))
    return moved
