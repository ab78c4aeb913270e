"""``make run``: Redis (local, unless TLPROBE_REDIS_URL, REDIS_URL or TLPROBE_REDIS_SENTINELS is set), the
workers, the API.

Starts a local redis-server with append-only persistence in ``.data/redis`` when no Redis is
configured (neither a URL nor sentinels), then ``python -m worker.main`` (one worker per core taking
both queues, interactive first, and ``TLPROBE_INTERACTIVE_WORKERS`` more taking interactive jobs only:
``worker.lanes``) and uvicorn on ``PORT`` (default 8000; host ``TLPROBE_HOST``, default 127.0.0.1).
Prints the URL and stops everything cleanly on
Ctrl-C (or when one of the processes dies).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tlprobe_server import connections
from tlprobe_server.settings import get_settings

from .localredis import LocalRedis


def main() -> int:
    settings = get_settings()
    env = dict(os.environ)
    redis: LocalRedis | None = None
    if not (env.get("TLPROBE_REDIS_URL") or env.get("REDIS_URL") or settings.sentinel_addresses()):
        redis = LocalRedis(Path(env.get("TLPROBE_DATA_DIR", ".data")) / "redis")
        try:
            env["TLPROBE_REDIS_URL"] = redis.start()
        except RuntimeError as exc:
            print(f"tlprobe: {exc}", file=sys.stderr)
            return 1
        settings = settings.model_copy(update={"redis_url": env["TLPROBE_REDIS_URL"]})
    host = env.get("TLPROBE_HOST", "127.0.0.1")
    children = {
        "workers": subprocess.Popen([sys.executable, "-m", "worker.main"], env=env),
        "api": subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "service.main:app", "--host", host,
                                 "--port", str(settings.port), "--no-access-log"], env=env),
    }
    print(f"tlprobe: http://{host}:{settings.port}  (docs at /docs; Redis {connections.describe(settings)}; "
          f"{settings.workers} workers + {settings.interactive_workers} interactive). "
          "Ctrl-C stops everything.", flush=True)
    stopping = {"flag": False}

    def stop(signum, frame):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping["flag"]:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"tlprobe: {name} exited with {child.returncode}; stopping", file=sys.stderr)
                stopping["flag"], code = True, 1
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    if redis is not None:
        redis.stop()
    print("tlprobe: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
