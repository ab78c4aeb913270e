"""Redis-backed storage of the engine's artifacts (trained networks, feature means, spectra) and the
loading of uploaded datasets as arrays for the engine.

An artifact is one Redis hash; each field is one array in the format of ``tlprobe_server.arrays`` (a JSON
header line, then the raw bytes): no pickle, so nothing stored can execute code on load, and object
dtypes are refused both ways. Artifacts expire after ``artifact_ttl``; reading one renews it. They are
a cache: saving one first makes room among the cached entries (``tlprobe_server.redis_memory``), and
when Redis has none the artifact is not kept (the job goes on; the next one recomputes it).
"""

from __future__ import annotations

import logging

import numpy as np
from redis import Redis

from tlprobe_server import dataset_store, keys, redis_memory
from tlprobe_server.arrays import frame, unframe
from worker.science.data import Dataset

log = logging.getLogger(__name__)
Arrays = dict[str, np.ndarray]


def encode_array(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        array = array.copy(order="C")
    if array.dtype.hasobject:
        raise TypeError("object arrays cannot be stored")
    return frame(array.dtype.str, array.shape, array.tobytes())


def decode_array(data: bytes) -> np.ndarray:
    dtype, shape, body = unframe(data)
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise TypeError("object arrays cannot be loaded")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


class RedisArtifactStore:
    """The engine's ``ArtifactStore`` on Redis; counts what it computed per artifact kind."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self.redis, self.ttl = redis, ttl

    def load(self, key: str) -> Arrays | None:
        name = keys.artifact(key)
        with self.redis.pipeline(transaction=False) as pipe:  # a read (and a renewal): no MULTI
            pipe.hgetall(name)
            pipe.expire(name, self.ttl)
            fields, _ = pipe.execute()
        if not fields:
            return None
        return {field.decode(): decode_array(value) for field, value in fields.items()}

    def save(self, key: str, arrays: Arrays) -> None:
        name = keys.artifact(key)
        fields = {field: encode_array(array) for field, array in arrays.items()}
        try:
            redis_memory.make_room(self.redis, sum(len(value) for value in fields.values()))
        except redis_memory.RedisFull as exc:  # a cache: the job goes on without it, and the next one recomputes
            log.warning("artifact %s not cached: %s", key, exc)
            self.redis.hincrby(keys.computed_counter(), key.split(":", 1)[0], 1)
            return
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.hset(name, mapping=fields)
            pipe.expire(name, self.ttl)
            pipe.hincrby(keys.computed_counter(), key.split(":", 1)[0], 1)
            pipe.execute()


def load_dataset(redis: Redis, dataset_id: str, ttl: int) -> Dataset:
    """An uploaded dataset as the engine's arrays (float64 inputs, labels +-1), renewing its lifetime;
    ``dataset_store.DatasetMissing`` names it when it was deleted or expired."""
    arrays = {name: decode_array(data) for name, data in dataset_store.load_arrays(redis, dataset_id, ttl).items()}
    return Dataset.checked(arrays["inputs"], arrays["labels"].astype(np.float64), name=dataset_id)
