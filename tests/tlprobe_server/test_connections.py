"""The one Redis connection factory: the URL or the sentinels, timeouts everywhere, and clients that RQ
re-creates in the processes it forks still follow the primary."""

import asyncio
import multiprocessing

import pytest
from pydantic import ValidationError
from redis import ConnectionPool, Redis
from rq.connections import parse_connection

from devtools.stack import wait_for
from tests.sentinel_cluster import SentinelCluster
from tlprobe_server import connections
from tlprobe_server.settings import Settings


def sentinel_settings(cluster: SentinelCluster, **changes) -> Settings:
    values = {name[len("TLPROBE_"):].lower(): value for name, value in cluster.env().items()}
    return Settings(**{**values, **changes})


def test_sentinel_addresses_are_parsed_and_checked():
    settings = Settings(redis_sentinels=" a.example:26379, [::1]:26380,", redis_sentinel_service="tlprobe")
    assert settings.sentinel_addresses() == [("a.example", 26379), ("::1", 26380)]
    assert Settings().sentinel_addresses() == []
    for wrong in ("a.example", "a.example:port", ":26379", "a.example:70000"):
        with pytest.raises(ValidationError, match="not host:port"):
            Settings(redis_sentinels=wrong, redis_sentinel_service="tlprobe")
    with pytest.raises(ValidationError, match="TLPROBE_REDIS_SENTINEL_SERVICE"):
        Settings(redis_sentinels="a.example:26379")


def test_a_url_client_has_the_timeouts_and_the_password_setting(unit_url):
    settings = Settings(redis_url="redis://127.0.0.1:6390/2", redis_timeout=1.5, redis_password="pw")
    for client in (connections.connect(settings), connections.connect_async(settings)):
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (1.5, 1.5)
        assert (kwargs["password"], kwargs["port"], kwargs["db"]) == ("pw", 6390, 2)
    in_url = connections.connect(Settings(redis_url="redis://:from-url@127.0.0.1:6390/0", redis_password="pw"))
    assert in_url.connection_pool.connection_kwargs["password"] == "from-url"
    assert connections.connect(Settings(redis_url=unit_url)).ping()
    assert connections.describe(Settings(redis_url="redis://:secret@h:1/0")) == "h:1/0"


def _rebuilt_in_a_fork(connection: Redis, results) -> None:
    """What RQ's WorkerPool does in each worker process it forks (rq/worker_pool.py: run_worker)."""
    connection_class, pool_class, pool_kwargs = parse_connection(connection)
    rebuilt = connection_class(connection_pool=ConnectionPool(connection_class=pool_class, **pool_kwargs))
    results.put((type(rebuilt.connection_pool).__name__, rebuilt.get("written-by-the-parent")))


def test_sentinel_clients_follow_the_primary_and_survive_rq_rebuilding_them(tmp_path):
    cluster = SentinelCluster(tmp_path).start()
    try:
        settings = sentinel_settings(cluster, redis_timeout=1.0)
        client = connections.connect(settings)
        assert connections.describe(settings).startswith("primary 'tlprobe' of sentinels 127.0.0.1:")
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (1.0, 1.0)
        sentinel_kwargs = client.connection_pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs
        assert sentinel_kwargs["socket_timeout"] == 1.0 and sentinel_kwargs["password"] == settings.redis_sentinel_password
        client.set("written-by-the-parent", "1")
        assert client.connection_pool.get_master_address()[1] == cluster.nodes[0].port

        results = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(target=_rebuilt_in_a_fork, args=(client, results))
        child.start()
        child.join(30)
        assert results.get(timeout=5) == ("SentinelConnectionPool", b"1")

        cluster.nodes[0].kill()
        wait_for(lambda: client.set("after", "1"), 30, "a write on the new primary", interval=0.2)
        assert client.connection_pool.get_master_address()[1] == cluster.nodes[1].port
        async def read_async() -> bytes:
            async_client = connections.connect_async(settings)
            try:
                return await async_client.get("after")
            finally:
                await async_client.aclose()
        assert asyncio.run(read_async()) == b"1"
    finally:
        cluster.stop()

