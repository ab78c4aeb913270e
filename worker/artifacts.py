"""Redis-backed storage of the engine's artifacts: numpy arrays (trained networks, feature means, spectra).

An artifact is one Redis hash; each field is one array, stored as a JSON header line
({"dtype": "<f8", "shape": [800, 800]}) followed by the raw bytes: no pickle, so nothing stored can
execute code on load, and object dtypes are refused both ways. Artifacts expire after
``artifact_ttl``; reading one renews it.
"""

from __future__ import annotations

import json

import numpy as np
from redis import Redis

from tlprobe import keys

Arrays = dict[str, np.ndarray]


def encode_array(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        array = array.copy(order="C")
    if array.dtype.hasobject:
        raise TypeError("object arrays cannot be stored")
    header = json.dumps({"dtype": array.dtype.str, "shape": list(array.shape)}).encode()
    return header + b"\n" + array.tobytes()


def decode_array(data: bytes) -> np.ndarray:
    header, _, body = data.partition(b"\n")
    meta = json.loads(header)
    dtype = np.dtype(meta["dtype"])
    if dtype.hasobject:
        raise TypeError("object arrays cannot be loaded")
    return np.frombuffer(body, dtype=dtype).reshape(meta["shape"])


class RedisArtifactStore:
    """The engine's ``ArtifactStore`` on Redis; counts what it computed per artifact kind."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self.redis, self.ttl = redis, ttl

    def load(self, key: str) -> Arrays | None:
        name = keys.artifact(key)
        with self.redis.pipeline() as pipe:
            pipe.hgetall(name)
            pipe.expire(name, self.ttl)
            fields, _ = pipe.execute()
        if not fields:
            return None
        return {field.decode(): decode_array(value) for field, value in fields.items()}

    def save(self, key: str, arrays: Arrays) -> None:
        name = keys.artifact(key)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.hset(name, mapping={field: encode_array(array) for field, array in arrays.items()})
            pipe.expire(name, self.ttl)
            pipe.hincrby(keys.computed_counter(), key.split(":", 1)[0], 1)
            pipe.execute()
