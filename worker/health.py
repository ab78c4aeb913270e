"""The worker container's health check: ``python -m worker.health``.

Exits 0 when every worker process of this host (``TLPROBE_WORKERS`` taking both queues, plus
``TLPROBE_INTERACTIVE_WORKERS`` taking the interactive one: ``worker.lanes.layout``) is registered
on its queues in Redis. A worker stays registered only while it sends heartbeats (a silent one
expires after ``TLPROBE_WORKER_TTL``), so this fails for a pool whose workers died or hang, and when Redis cannot
be reached. Prints one line saying why. Imports nothing numerical: it runs every few seconds.
"""

from __future__ import annotations

import socket
import sys

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from tlprobe_server import connections
from tlprobe_server.queues import PRIORITY, Lane, queue_name, queues
from tlprobe_server.settings import Settings, get_settings
from worker.lanes import layout


def registered(redis: Redis, settings: Settings, hostname: str) -> dict[Lane, int]:
    """Workers of ``hostname`` registered on each queue (alive: their registration expires otherwise)."""
    return {lane: sum(1 for worker in Worker.all(queue=queue) if worker.hostname == hostname)
            for lane, queue in queues(redis, settings).items()}


def expected(settings: Settings) -> dict[Lane, int]:
    """Workers of one host on each queue, as the pool lays them out."""
    names = [name for names in layout(settings) for name in names]
    return {lane: names.count(queue_name(settings, lane)) for lane in PRIORITY}


def main() -> int:
    settings = get_settings()
    hostname = socket.gethostname()
    try:
        redis = connections.connect(settings)
        found = registered(redis, settings, hostname)
    except RedisError as exc:
        print(f"unhealthy: Redis unreachable ({type(exc).__name__})")
        return 1
    wanted = expected(settings)
    counts = ", ".join(f"{found[lane]} of {wanted[lane]} on {lane.value}" for lane in wanted)
    if any(found[lane] < wanted[lane] for lane in wanted):
        print(f"unhealthy: workers of {hostname} registered: {counts}")
        return 1
    print(f"healthy: workers of {hostname} registered: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
