"""The worker container's health check: ``python -m worker.health``.

Exits 0 when every worker process of this host (``TLPROBE_WORKERS``) is registered on the queue in
Redis. A worker stays registered only while it sends heartbeats (a silent one expires after
``TLPROBE_WORKER_TTL``), so this fails for a pool whose workers died or hang, and when Redis cannot
be reached. Prints one line saying why. Imports nothing numerical: it runs every few seconds.
"""

from __future__ import annotations

import socket
import sys

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from tlprobe_server import connections
from tlprobe_server.settings import Settings, get_settings


def registered(redis: Redis, settings: Settings, hostname: str) -> int:
    """Workers of ``hostname`` registered on the queue (alive: their registration expires otherwise)."""
    queue = Queue(settings.queue_name, connection=redis)
    return sum(1 for worker in Worker.all(queue=queue) if worker.hostname == hostname)


def main() -> int:
    settings = get_settings()
    hostname = socket.gethostname()
    try:
        redis = connections.connect(settings)
        found = registered(redis, settings, hostname)
    except RedisError as exc:
        print(f"unhealthy: Redis unreachable ({type(exc).__name__})")
        return 1
    if found < settings.workers:
        print(f"unhealthy: {found} of {settings.workers} workers of {hostname} registered on {settings.queue_name!r}")
        return 1
    print(f"healthy: {found} workers of {hostname} registered on {settings.queue_name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
