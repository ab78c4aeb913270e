"""Session fixtures: a real Redis on a free port in a temporary directory (never the machine's
own 127.0.0.1:6379), and helpers to run real workers and a real API against it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as settings_profiles
from redis import Redis

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers
from service.main import create_app
from tlprobe_server.settings import Settings

# Property tests draw 300 examples in the suite (`make test`); the inner loop (`make test-fast`) passes
# --hypothesis-profile=inner-loop and draws 150 of the same derandomized sequence.
settings_profiles.register_profile("suite", max_examples=300)
settings_profiles.register_profile("inner-loop", max_examples=150)
settings_profiles.load_profile("suite")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = LocalRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_url(redis_server) -> str:
    """Database 0: the live stack (workers + uvicorn) shared by the end-to-end tests."""
    return redis_server.url


@pytest.fixture
def unit_url(redis_server) -> str:
    """Database 1, emptied for each test: for tests with no workers running."""
    url = redis_server.url[:-1] + "1"
    Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def settings(unit_url) -> Settings:
    return Settings(redis_url=unit_url, workers=1)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def redis(unit_url) -> Redis:
    return Redis.from_url(unit_url)


@pytest.fixture(scope="session")
def live(live_url, tmp_path_factory):
    """Two RQ workers and a uvicorn API on the session Redis (database 0)."""
    logs = tmp_path_factory.mktemp("logs")
    workers = Workers(live_url, count=2, log_path=logs / "workers.log").start()
    api = Api(live_url, log_path=logs / "api.log").start()
    yield {"api": api, "workers": workers, "redis": Redis.from_url(live_url), "logs": logs}
    api.stop()
    workers.stop()


@pytest.fixture
def run_jobs(redis, settings):
    """Runs every queued job (both queues, interactive first) to its end in this process (a burst RQ worker,
    no fork), like a worker would."""
    from rq import SimpleWorker

    from tlprobe_server.queues import queues

    def run() -> None:
        waiting = list(queues(redis, settings).values())
        SimpleWorker(waiting, connection=redis, serializer=waiting[0].serializer).work(burst=True)
        assert all(queue.count == 0 for queue in waiting)

    return run


@pytest.fixture
def api(settings):
    """The Python client talking to the app in this process (its transport), on the unit Redis."""
    from tlprobe import Client

    with TestClient(create_app(settings)) as test_client, \
            Client("http://testserver", transport=test_client._transport, retries=0) as client:
        yield client
