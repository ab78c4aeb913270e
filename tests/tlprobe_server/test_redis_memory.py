"""Nothing that cannot be recomputed is evicted: a real Redis with a small maxmemory under the shipped
policy (noeviction), filled to its limit with cached results and artifacts, then with data that may
not be deleted."""

import json
import time
from contextlib import contextmanager

import numpy as np
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import OutOfMemoryError

from devtools.localredis import LocalRedis
from service.main import create_app
from tests.datasets import arrays, npz, upload
from tests.requests import SPECTRUM
from tlprobe_server import keys, redis_memory, result_store
from tlprobe_server.settings import Settings
from worker.redis_arrays import RedisArtifactStore, load_dataset

MAXMEMORY = 48 * 2**20
ENTRY = b"x" * 250_000  # (in jemalloc's 256 KiB size class)


@pytest.fixture
def small(tmp_path):
    server = LocalRedis(tmp_path / "redis", maxmemory=str(MAXMEMORY))
    server.start()
    redis = Redis.from_url(server.url)
    assert redis.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    yield {"server": server, "redis": redis, "settings": Settings(redis_url=server.url)}
    server.stop()


def cached_entries(redis: Redis) -> list[bytes]:
    return [name for name in redis.scan_iter(match=f"{keys.PREFIX}:*", count=1000) if redis_memory.recomputable(name)]


def fill_with_cache(redis: Redis, start: int = 0) -> int:
    """Results and artifacts, written straight to Redis (not through tlprobe, which would make room)
    until Redis refuses a write: it is then at its limit. Returns the next index."""
    index = start
    while True:
        try:
            if index % 2:
                redis.set(keys.result(f"gcm-{index:040x}"), ENTRY, ex=3600)
            else:
                redis.hset(keys.artifact(f"network:{index:064x}"), mapping={"weights": ENTRY})
            index += 1
        except OutOfMemoryError:
            return index


def fill_with_keepers(redis: Redis, until) -> None:
    """Keys tlprobe may not delete (standing in for uploads, queues and job records) until ``until(memory)``."""
    index = 0
    while not until(redis_memory.memory(redis)):
        try:
            redis.set(f"keeper:{index}", ENTRY)
        except OutOfMemoryError:
            return
        index += 1


@contextmanager
def past_its_limit(redis: Redis):
    """Redis holding more than its maxmemory (as when its data grew past it): every write is refused
    until the limit is back."""
    redis.config_set("maxmemory", redis_memory.memory(redis).used - 2**20)
    try:
        yield
    finally:
        redis.config_set("maxmemory", MAXMEMORY)


def test_uploads_survive_a_redis_full_of_cache_and_the_cache_makes_room(small, capsys):
    redis, settings = small["redis"], small["settings"]
    with TestClient(create_app(settings)) as client:
        data = [arrays(samples=2000, input_dim=60, seed=seed) for seed in range(3)]  # 0.96 MB stored each
        ids = [upload(client, *pair)["dataset_id"] for pair in data]
        filled = fill_with_cache(redis)
        at_limit = redis_memory.memory(redis)
        # full (the refused write's own argument had taken it over), and full of cache
        assert at_limit.used > MAXMEMORY - 2 * len(ENTRY) and filled * len(ENTRY) > 0.75 * MAXMEMORY

        for dataset_id, (inputs, labels) in zip(ids, data):  # nothing evicted
            assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
            loaded = load_dataset(redis, dataset_id, ttl=100)
            np.testing.assert_array_equal(loaded.inputs, inputs)
            np.testing.assert_array_equal(loaded.labels, labels)

        # past the limit, a write that does not make room is refused by Redis: a 503 with Retry-After, not a 500
        with past_its_limit(redis):
            refused = client.post("/v1/gcm", json=SPECTRUM)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
            assert "out of memory" in refused.json()["detail"]
            assert client.get("/readyz").status_code == 200  # reads go on

        # an upload pushes cached entries out, the least recently used first
        time.sleep(2.1)  # Redis's idle times have a resolution of one second
        last_result = filled - 1 if (filled - 1) % 2 else filled - 2
        recent = keys.result(f"gcm-{last_result:040x}")
        assert redis.get(recent) == ENTRY
        before = len(cached_entries(redis))
        inputs, labels = arrays(samples=4000, input_dim=100, seed=7)  # 3.2 MB
        created = client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels),
                              headers={"content-type": "application/octet-stream"})
        assert created.status_code == 201
        after = redis_memory.memory(redis)
        assert after.used <= MAXMEMORY * (1 - redis_memory.RESERVE_FRACTION)
        after_count = len(cached_entries(redis))
        assert before - after_count >= (at_limit.used - after.used) // len(ENTRY) > 0
        assert redis.exists(recent)  # read last: kept
        # and a result that a worker stores does too
        fill_with_cache(redis, start=filled)
        result_store.put(redis, "gcm-" + "e" * 40, json.dumps({"value": 1}), ttl=60)
        assert result_store.get(redis, "gcm-" + "e" * 40) == {"value": 1}
        assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202  # the reserve is free again
        for dataset_id in ids + [created.json()["dataset_id"]]:
            assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
    with capsys.disabled():
        print(f"\n[redis full] {filled} cached entries of {len(ENTRY)} bytes filled Redis to {at_limit.used} of "
              f"{MAXMEMORY} bytes: {len(ids)} uploads readable byte for byte, a submission refused with 503; "
              f"a {created.json()['size_bytes']}-byte upload stored by deleting {before - after_count} cached entries")


def test_with_nothing_recomputable_to_delete_writes_are_refused_clearly(small):
    redis, settings = small["redis"], small["settings"]
    with TestClient(create_app(settings)) as client:
        kept = upload(client, *arrays(samples=500, input_dim=20, seed=1))["dataset_id"]
        fill_with_keepers(redis, until=lambda memory: memory.room() < -2**20)  # 1 MiB into the reserve, below maxmemory

        inputs, labels = arrays(samples=500, input_dim=20, seed=2)
        refused = client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels),
                              headers={"content-type": "application/octet-stream"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
        assert refused.json()["detail"].startswith("Redis is full: storing 80570 bytes would leave less than 10%")

        with pytest.raises(redis_memory.RedisFull):
            result_store.put(redis, "gcm-" + "f" * 40, json.dumps({"value": 1}), ttl=60)
        assert not result_store.exists(redis, "gcm-" + "f" * 40)
        RedisArtifactStore(redis, ttl=60).save("spectra:abc", {"eigenvalues": np.ones(1000)})  # a cache: skipped
        assert not redis.exists(keys.artifact("spectra:abc")) and redis.hget(keys.computed_counter(), "spectra") == b"1"
        result_store.put_rendering(redis, "gcm-" + "f" * 40, "png", ENTRY)  # likewise
        assert result_store.get_rendering(redis, "gcm-" + "f" * 40, "png") is None

        assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202  # small writes use the reserve
        with past_its_limit(redis):
            refused = client.post("/v1/gcm", json={"spectrum": {**SPECTRUM["spectrum"], "rho": 0.5}})
            assert refused.status_code == 503 and "out of memory" in refused.json()["detail"]
            assert client.get(f"/v1/datasets/{kept}").status_code == 200

