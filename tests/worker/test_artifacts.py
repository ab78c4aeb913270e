"""Artifacts in Redis: binary arrays with dtype and shape, no pickle, TTL, counters."""

import numpy as np
import pytest

from tlprobe_server import keys
from worker.redis_arrays import RedisArtifactStore, decode_array, encode_array


@pytest.mark.parametrize("array", [np.array(0.25), np.arange(6.0).reshape(2, 3), np.arange(12).reshape(3, 4).T,
                                   np.array([True, False]), np.zeros((0, 3)), np.float32([1.5, -2.0])])
def test_arrays_round_trip_with_dtype_and_shape(array):
    back = decode_array(encode_array(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_object_arrays_are_refused_both_ways():
    with pytest.raises(TypeError):
        encode_array(np.array([{"a": 1}], dtype=object))
    forged = b'{"dtype": "|O", "shape": [1]}\n' + b"\x00" * 8
    with pytest.raises(TypeError):
        decode_array(forged)


def test_store_saves_loads_renews_and_counts(redis):
    store = RedisArtifactStore(redis, ttl=100)
    assert store.load("network:abc") is None
    arrays = {"first_layer": np.ones((3, 4)), "test_error": np.array(0.1)}
    store.save("network:abc", arrays)
    name = keys.artifact("network:abc")
    assert 0 < redis.ttl(name) <= 100
    redis.expire(name, 5)
    loaded = store.load("network:abc")
    assert redis.ttl(name) > 5  # reading renews
    np.testing.assert_array_equal(loaded["first_layer"], arrays["first_layer"])
    assert float(loaded["test_error"]) == 0.1
    store.save("spectra:x", {"omega": np.ones(2)})
    store.save("network:def", {"w": np.ones(1)})
    counts = {k.decode(): int(v) for k, v in redis.hgetall(keys.computed_counter()).items()}
    assert counts == {"network": 2, "spectra": 1}
