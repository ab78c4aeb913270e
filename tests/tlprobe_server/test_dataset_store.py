"""The dataset store: lifetimes renewed by use, a copy that survives a Redis restart like results,
and users that stop counting once their jobs have ended."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from redis import Redis

from devtools.localredis import LocalRedis
from service.main import create_app
from tests.datasets import arrays, curve_on, upload
from tlprobe_server import dataset_store, keys
from tlprobe_server.settings import Settings
from worker.redis_arrays import load_dataset


def test_a_dataset_survives_a_redis_restart(tmp_path):
    server = LocalRedis(tmp_path / "redis")
    server.start()
    try:
        settings = Settings(redis_url=server.url, workers=1)
        inputs, labels = arrays(samples=40, input_dim=3)
        with TestClient(create_app(settings)) as client:
            described = upload(client, inputs, labels)
        server.stop()
        server.start()
        with TestClient(create_app(settings)) as client:
            again = client.get(f"/v1/datasets/{described['dataset_id']}").json()
            assert {k: v for k, v in again.items() if k != "expires_in"} == \
                   {k: v for k, v in described.items() if k != "expires_in"}
            assert client.get("/v1/datasets").json()["total"] == 1
        loaded = load_dataset(Redis.from_url(server.url), described["dataset_id"], ttl=100)
        np.testing.assert_array_equal(loaded.inputs, inputs)
        np.testing.assert_array_equal(loaded.labels, labels)
    finally:
        server.stop()


def test_loading_renews_the_lifetime_and_names_a_missing_dataset(client, redis):
    dataset_id = upload(client, *arrays())["dataset_id"]
    redis.expire(keys.dataset(dataset_id), 50)
    load_dataset(redis, dataset_id, ttl=1000)
    assert redis.ttl(keys.dataset(dataset_id)) > 50
    missing = "ds-" + "f" * 40
    with pytest.raises(dataset_store.DatasetMissing) as info:
        load_dataset(redis, missing, ttl=1000)
    assert info.value.dataset_id == missing and missing in str(info.value)


def test_ended_jobs_no_longer_hold_a_dataset(client, redis, settings):
    dataset_id = upload(client, *arrays())["dataset_id"]
    job_id = client.post("/v1/learning-curves", json=curve_on(dataset_id, dataset_id)).json()["job_id"]
    assert redis.smembers(keys.dataset_users(dataset_id)) == {job_id.encode()}
    client.delete(f"/v1/jobs/{job_id}")  # canceled: it will never read the dataset
    dataset_store.delete(redis, dataset_id)
    assert not redis.exists(keys.dataset(dataset_id), keys.dataset_users(dataset_id))
    assert redis.zcard(keys.datasets_index()) == 0 and redis.hlen(keys.datasets_bytes()) == 0
