"""A Redis server of our own: for ``make run`` without REDIS_URL, and for the test session.

Append-only persistence in ``data_dir`` (``appendfsync`` everysec by default: at most about one
second of writes can be lost if the machine itself dies; a killed Redis process loses nothing the
kernel already has), bound to loopback, on a free port unless one is given. ``maxmemory-policy
noeviction``, as everywhere tlprobe ships Redis: Redis never evicts a key (``tlprobe_server.redis_memory``
says why); no memory limit unless ``maxmemory`` is given.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

INSTALL_HINT = ("redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install "
                "redis-server`; macOS: `brew install redis`) or point TLPROBE_REDIS_URL / REDIS_URL at a Redis.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRedis:
    def __init__(self, data_dir: Path, port: int | None = None, appendfsync: str = "everysec",
                 password: str | None = None, maxmemory: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendfsync, self.password, self.maxmemory = appendfsync, password, maxmemory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir.resolve()),
               "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "", "--maxmemory-policy", "noeviction",
               "--logfile", str((self.data_dir / "redis.log").resolve()), "--daemonize", "no"]
        if self.password:
            cmd += ["--requirepass", self.password]
        if self.maxmemory:
            cmd += ["--maxmemory", self.maxmemory]
        return cmd

    def start(self, timeout: float = 15.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if client.ping():
                    # replaying a large append-only file: wait until it is loaded
                    if client.info("persistence").get("loading", 0) == 0:
                        return self.url
            except RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes the append-only file and exits
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
