"""The dataset store: uploaded datasets in Redis, shared by the service (upload, list, delete, reserve
for a submission) and the workers (load).

A dataset is one Redis hash (``keys.dataset``) holding its arrays, framed as in ``tlprobe_server.arrays``,
and its description (JSON), with one lifetime: ``dataset_ttl`` seconds, renewed by every use (an
upload of the same content, a submission that reads it, a worker loading it). Redis persists it
like results, so it survives a restart; Redis never evicts it (``tlprobe_server.redis_memory``), and
with ``redis_min_replicas`` an upload is acknowledged only once replicas hold it
(``tlprobe_server.replication``). An index (upload time) and a size table serve the list and
the total-storage bound; their entries for expired datasets are pruned whenever they are read.

Concurrency: an upload holds the store's lock (one upload checks and stores at a time, so the total
bound holds) and the dataset's own lock; a deletion and a submission that reads a dataset hold the
dataset's lock. A submission records its job id among the dataset's users while holding it, so a
deletion sees every job that could still read the dataset, and is refused while one is queued or
running.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from typing import Iterator

from redis import Redis

from tlprobe.contract.datasets import DatasetDescription, DatasetPage

from . import keys, redis_memory, replication
from .job_views import fetch_job, public_status
from .settings import Settings

log = logging.getLogger(__name__)
LOCK_TIMEOUT = 30
DESCRIPTION = "description"
ARRAYS = ("inputs", "labels")


class DatasetMissing(LookupError):
    """A dataset that is not stored (never uploaded, deleted, or expired)."""

    def __init__(self, dataset_id: str) -> None:
        super().__init__(f"dataset {dataset_id} does not exist: it was never uploaded, was deleted, or expired; "
                         "upload it again (the same content gets the same id)")
        self.dataset_id = dataset_id


class DatasetInUse(Exception):
    def __init__(self, dataset_id: str, job_ids: list[str]) -> None:
        super().__init__(f"dataset {dataset_id} is used by {len(job_ids)} queued or running job(s): "
                         f"{', '.join(sorted(job_ids))}; cancel them or wait for them to end")
        self.job_ids = job_ids


class StorageFull(Exception):
    """Storing a dataset would exceed the total storage bound."""


def _lock(redis: Redis, name: str):
    return redis.lock(name, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT)


def _description(raw: bytes, ttl: int | None) -> DatasetDescription:
    described = DatasetDescription.model_validate_json(raw)
    return described.model_copy(update={"expires_in": ttl if ttl and ttl > 0 else None,
                                        "links": {"self": f"/v1/datasets/{described.dataset_id}"}})


def describe(redis: Redis, dataset_id: str) -> DatasetDescription | None:
    name = keys.dataset(dataset_id)
    with redis.pipeline(transaction=False) as pipe:  # reads: no MULTI, which a full Redis refuses
        pipe.hget(name, DESCRIPTION)
        pipe.ttl(name)
        raw, ttl = pipe.execute()
    return None if raw is None else _description(raw, ttl)


def describe_all(redis: Redis, dataset_ids: list[str]) -> dict[str, DatasetDescription]:
    """Descriptions of every id; DatasetMissing names the first that is not stored."""
    described = {}
    for dataset_id in dataset_ids:
        description = describe(redis, dataset_id)
        if description is None:
            raise DatasetMissing(dataset_id)
        described[dataset_id] = description
    return described


def _live_sizes(redis: Redis) -> dict[str, int]:
    """Bytes of every stored dataset, pruning the index and size table of expired ones."""
    sizes = {k.decode(): int(v) for k, v in redis.hgetall(keys.datasets_bytes()).items()}
    ids = list(dict.fromkeys([m.decode() for m in redis.zrange(keys.datasets_index(), 0, -1)] + list(sizes)))
    with redis.pipeline(transaction=False) as pipe:
        for dataset_id in ids:
            pipe.exists(keys.dataset(dataset_id))
        alive = pipe.execute()
    gone = [dataset_id for dataset_id, exists in zip(ids, alive) if not exists]
    if gone:
        with redis.pipeline() as pipe:
            pipe.zrem(keys.datasets_index(), *gone)
            pipe.hdel(keys.datasets_bytes(), *gone)
            pipe.execute()
    return {dataset_id: sizes.get(dataset_id, 0) for dataset_id, exists in zip(ids, alive) if exists}


def total_bytes(redis: Redis) -> int:
    return sum(_live_sizes(redis).values())


def put(redis: Redis, settings: Settings, description: DatasetDescription,
        arrays: dict[str, bytes]) -> tuple[DatasetDescription, bool]:
    """Store a dataset unless its content is already stored. Returns its description and whether it
    was created (False: the stored copy is kept, and its lifetime renewed). StorageFull when the
    total would exceed ``max_datasets_bytes``; ``redis_memory.RedisFull`` when Redis has no room for
    it even after deleting cached entries. Returns once ``redis_min_replicas`` replicas hold it
    (``replication.NotReplicated`` otherwise), in both cases."""
    dataset_id, name = description.dataset_id, keys.dataset(description.dataset_id)
    with _lock(redis, keys.datasets_lock()), _lock(redis, keys.dataset_lock(dataset_id)):
        if redis.expire(name, settings.dataset_ttl):
            replication.confirm(redis, settings)  # stored by an earlier upload that may not have been confirmed
            return describe(redis, dataset_id), False
        used = total_bytes(redis)
        if used + description.size_bytes > settings.max_datasets_bytes:
            raise StorageFull(f"storing {description.size_bytes} bytes would exceed the total dataset storage of "
                              f"{settings.max_datasets_bytes} bytes ({used} in use): delete datasets or wait for "
                              "unused ones to expire")
        redis_memory.make_room(redis, description.size_bytes)  # cached entries give way to an upload (else RedisFull)
        stored = description.model_copy(update={"expires_in": None, "links": {}})
        with redis.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping={**arrays, DESCRIPTION: stored.model_dump_json()})
            pipe.expire(name, settings.dataset_ttl)
            pipe.zadd(keys.datasets_index(), {dataset_id: description.created_at.timestamp()})
            pipe.hset(keys.datasets_bytes(), dataset_id, description.size_bytes)
            pipe.execute()
    replication.confirm(redis, settings)  # NotReplicated: stored, but not yet acknowledged (a resend is a 200)
    log.info("stored dataset %s (%d bytes)", dataset_id, description.size_bytes)
    return describe(redis, dataset_id), True


def page(redis: Redis, offset: int, limit: int) -> DatasetPage:
    """Stored datasets, newest first."""
    _live_sizes(redis)
    total = redis.zcard(keys.datasets_index())
    ids = [m.decode() for m in redis.zrevrange(keys.datasets_index(), offset, offset + limit - 1)]
    items = [d for d in (describe(redis, dataset_id) for dataset_id in ids) if d is not None]
    return DatasetPage(total=total, offset=offset, limit=limit, items=items)


def _active_users(redis: Redis, dataset_id: str) -> list[str]:
    """Ids of the queued or running jobs among the dataset's users (ended ones are forgotten)."""
    users = [m.decode() for m in redis.smembers(keys.dataset_users(dataset_id))]
    active, ended = [], []
    for job_id in users:
        job = fetch_job(redis, job_id)
        running = job is not None and not public_status(job).ended
        (active if running else ended).append(job_id)
    if ended:
        redis.srem(keys.dataset_users(dataset_id), *ended)
    return active


def delete(redis: Redis, dataset_id: str) -> None:
    """Delete a dataset; DatasetMissing if it is not stored, DatasetInUse while a job may read it."""
    with _lock(redis, keys.dataset_lock(dataset_id)):
        if not redis.exists(keys.dataset(dataset_id)):
            raise DatasetMissing(dataset_id)
        active = _active_users(redis, dataset_id)
        if active:
            raise DatasetInUse(dataset_id, active)
        with redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.dataset(dataset_id), keys.dataset_users(dataset_id))
            pipe.zrem(keys.datasets_index(), dataset_id)
            pipe.hdel(keys.datasets_bytes(), dataset_id)
            pipe.execute()
    log.info("deleted dataset %s", dataset_id)


@contextmanager
def reserved(redis: Redis, settings: Settings, dataset_ids: list[str], job_id: str) -> Iterator[None]:
    """Held around queueing a job that reads ``dataset_ids``: each must exist (else DatasetMissing);
    its lifetime is renewed and the job recorded among its users, and no deletion can happen until
    the job is queued (its status is then what a deletion checks)."""
    with ExitStack() as stack:
        for dataset_id in sorted(set(dataset_ids)):  # one order everywhere: no deadlock between submissions
            stack.enter_context(_lock(redis, keys.dataset_lock(dataset_id)))
        for dataset_id in dataset_ids:
            if not redis.expire(keys.dataset(dataset_id), settings.dataset_ttl):
                raise DatasetMissing(dataset_id)
            with redis.pipeline() as pipe:
                pipe.sadd(keys.dataset_users(dataset_id), job_id)
                pipe.expire(keys.dataset_users(dataset_id), settings.dataset_ttl)
                pipe.execute()
        yield


def load_arrays(redis: Redis, dataset_id: str, ttl: int) -> dict[str, bytes]:
    """The framed arrays of a dataset (``inputs``, ``labels``), renewing its lifetime; DatasetMissing
    if it is gone."""
    name = keys.dataset(dataset_id)
    with redis.pipeline(transaction=False) as pipe:  # a read (and a renewal): no MULTI
        pipe.hmget(name, list(ARRAYS))
        pipe.expire(name, ttl)
        values, _ = pipe.execute()
    if any(value is None for value in values):
        raise DatasetMissing(dataset_id)
    return dict(zip(ARRAYS, values))
