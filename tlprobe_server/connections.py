"""Every Redis client of tlprobe is made here: the API's (sync, and asyncio for its read paths), the
workers' (and the clients RQ re-creates in the processes it forks), the workers' health check's and
the launcher's.

Without sentinels: ``Redis.from_url(TLPROBE_REDIS_URL)``. With ``TLPROBE_REDIS_SENTINELS``: a client of
the primary that the sentinels name ``TLPROBE_REDIS_SENTINEL_SERVICE`` (redis-py's
``Sentinel.master_for``). Each new connection asks the sentinels where the primary is, so after a
failover the clients reconnect to the new one; a connection still open to a demoted primary is
dropped at its first READONLY answer and made again. Database 0; ``TLPROBE_REDIS_PASSWORD`` for the
primary, ``TLPROBE_REDIS_SENTINEL_PASSWORD`` for the sentinels. Every call, to the sentinels too, has
the socket timeouts of ``TLPROBE_REDIS_TIMEOUT``: an unreachable Redis is an error after that long,
never a hang.
"""

from __future__ import annotations

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel, SentinelConnectionPool, SentinelConnectionPoolProxy

from .settings import Settings

HEALTH_CHECK_INTERVAL = 30  # s: a connection idle this long is checked with a PING before its next command


class _PrimaryClient(Redis):
    """The sync client of a Sentinel-monitored primary.

    RQ re-creates a connection in the processes it forks (``WorkerPool``'s workers, the scheduler) as
    ``type(connection)(connection_pool=ConnectionPool(connection_class=..., **connection_kwargs))``:
    a plain pool of Sentinel-managed connections, which finds the primary for each new connection
    but is never reset when the primary moves. Given such a pool, this class makes a real Sentinel
    pool from the same sentinels, service and connection settings instead.
    """

    def __init__(self, *args, connection_pool=None, **kwargs) -> None:
        if connection_pool is not None and not isinstance(connection_pool, SentinelConnectionPool):
            proxy = connection_pool.connection_kwargs.get("connection_pool")
            if isinstance(proxy, SentinelConnectionPoolProxy):
                options = {name: value for name, value in connection_pool.connection_kwargs.items()
                           if name not in ("connection_pool", "connection_class")}
                connection_pool.disconnect()
                connection_pool = SentinelConnectionPool(proxy.service_name, proxy.sentinel_manager,
                                                         connection_class=connection_pool.connection_class, **options)
        super().__init__(*args, connection_pool=connection_pool, **kwargs)


def _timeouts(settings: Settings) -> dict[str, float]:
    return {"socket_timeout": settings.redis_timeout, "socket_connect_timeout": settings.redis_timeout}


def _sentinel_options(settings: Settings) -> tuple[dict, dict]:
    """(options of the connections to the primary, options of the connections to the sentinels)."""
    primary = {**_timeouts(settings), "password": settings.redis_password or None,
               "health_check_interval": HEALTH_CHECK_INTERVAL}
    sentinels = {**_timeouts(settings), "password": settings.redis_sentinel_password or None}
    return primary, sentinels


def _url_options(settings: Settings) -> dict:
    """Options of a client of the URL's Redis (no sentinels)."""
    options = {**_timeouts(settings), "health_check_interval": HEALTH_CHECK_INTERVAL}
    if settings.redis_password:
        options["password"] = settings.redis_password  # a password in the URL wins (redis-py's from_url)
    return options


def connect(settings: Settings) -> Redis:
    """A sync client of the primary (the URL's Redis, or the one the sentinels name)."""
    addresses = settings.sentinel_addresses()
    if addresses:
        primary, sentinels = _sentinel_options(settings)
        manager = Sentinel(addresses, sentinel_kwargs=sentinels, **primary)
        return manager.master_for(settings.redis_sentinel_service, redis_class=_PrimaryClient)
    return Redis.from_url(settings.redis_url, **_url_options(settings))


def connect_async(settings: Settings) -> AsyncRedis:
    """An asyncio client of the same primary (the API's reads on the event loop)."""
    addresses = settings.sentinel_addresses()
    if addresses:
        primary, sentinels = _sentinel_options(settings)
        manager = AsyncSentinel(addresses, sentinel_kwargs=sentinels, **primary)
        return manager.master_for(settings.redis_sentinel_service, redis_class=AsyncRedis)
    return AsyncRedis.from_url(settings.redis_url, **_url_options(settings))


def describe(settings: Settings) -> str:
    """Where Redis is, for logs and the launcher's banner: never a password."""
    if settings.sentinel_addresses():
        return f"primary {settings.redis_sentinel_service!r} of sentinels {settings.redis_sentinels}"
    return settings.redis_url.split("@")[-1]
