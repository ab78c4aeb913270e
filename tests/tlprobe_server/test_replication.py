"""Writes acknowledged only once replicas hold them: a real primary and a real replica."""

import time

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from devtools.localredis import LocalRedis
from devtools.stack import wait_for
from service.main import create_app
from tests.datasets import arrays, npz
from tests.requests import SPECTRUM
from tlprobe_server import keys, replication
from tlprobe_server.settings import Settings


@pytest.fixture
def pair(tmp_path):
    primary, replica = LocalRedis(tmp_path / "primary"), LocalRedis(tmp_path / "replica")
    primary.start()
    replica.start()
    follower, leader = Redis.from_url(replica.url), Redis.from_url(primary.url)
    leader.config_set("repl-diskless-sync-delay", 0)  # sync at once (default: wait 5 s for more replicas)
    follower.replicaof("127.0.0.1", primary.port)
    wait_for(lambda: leader.info("replication")["connected_slaves"] == 1
             and follower.info("replication")["master_link_status"] == "up", 30, "the replica")
    yield {"primary": primary, "replica": replica, "leader": leader, "follower": follower}
    replica.stop()
    primary.stop()


def upload(client, seed: int):
    inputs, labels = arrays(samples=30, input_dim=3, seed=seed)
    return client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels),
                       headers={"content-type": "application/octet-stream"})


def caught_up(leader: Redis) -> bool:
    info = leader.info("replication")
    return info.get("slave0", {}).get("offset", -1) >= info["master_repl_offset"]


def test_an_upload_is_acknowledged_once_the_replica_holds_it(pair):
    settings = Settings(redis_url=pair["primary"].url, redis_min_replicas=1, redis_timeout=2)
    with TestClient(create_app(settings)) as client:
        first = upload(client, 1)
        assert first.status_code == 201
        # acknowledged: the replica has it at that instant, not only eventually
        dataset_id = first.json()["dataset_id"]
        assert pair["follower"].hget(keys.dataset(dataset_id), "inputs") is not None
        assert replication.confirm(pair["leader"], settings) == 1


def test_without_the_replica_an_upload_is_a_503_and_a_resend_a_200_once_it_is_back(pair):
    settings = Settings(redis_url=pair["primary"].url, redis_min_replicas=1, redis_timeout=1)
    pair["replica"].process.send_signal(19)  # SIGSTOP: the replica holds nothing new, and acknowledges nothing
    try:
        with TestClient(create_app(settings)) as client:
            started = time.monotonic()
            refused = upload(client, 2)
            waited = time.monotonic() - started
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert "reached 0 of the 1 Redis replica(s)" in refused.json()["detail"]
            assert 0.5 <= waited < 0.5 + 2.0  # WAIT gave up after half the Redis timeout (slack: a loaded machine)
            batch = client.post("/v1/batches", json={"requests": [{"kind": "gcm", "request": SPECTRUM}]})
            assert batch.status_code == 503 and "replica" in batch.json()["detail"]
            assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202  # a job is not waited for
            pair["replica"].process.send_signal(18)  # SIGCONT
            # "once it is back": the replica has caught up with the primary (on a loaded machine that
            # takes longer than the half-second WAIT of one request)
            wait_for(lambda: caught_up(pair["leader"]), 30, "the replica to catch up")
            again = upload(client, 2)
            assert again.status_code == 200  # stored by the first try, now confirmed
            assert pair["follower"].hget(keys.dataset(again.json()["dataset_id"]), "inputs") is not None
    finally:
        pair["replica"].process.send_signal(18)


def test_no_wait_without_replicas_asked_for(unit_url):
    settings = Settings(redis_url=unit_url)  # one Redis, no replica: the default
    redis = Redis.from_url(unit_url)
    assert replication.confirm(redis, settings) == 0
    assert redis.get(keys.replication_marker()) is None  # nothing written, nothing waited for
    with pytest.raises(replication.NotReplicated, match="reached 0 of the 2"):
        replication.confirm(redis, Settings(redis_url=unit_url, redis_min_replicas=2, redis_timeout=0.2))
