"""A Redis primary, its replica and three sentinels, on loopback free ports in a temporary directory.

Each is a real ``redis-server`` (the sentinels with ``--sentinel``), with passwords on the data
nodes and on the sentinels, so that both password settings are exercised. Sentinel decides a
primary is down after ``down_after_ms`` without an answer and promotes the replica: a few seconds
with the 1 s used here (the production default is 30 s).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from devtools.localredis import free_port

SERVICE = "tlprobe"
PASSWORD = "primary-s3cret"
SENTINEL_PASSWORD = "sentinel-s3cret"


class _Process:
    def __init__(self, name: str, command: list[str], port: int, password: str) -> None:
        self.name, self.command, self.port, self.password = name, command, port, password
        self.process: subprocess.Popen | None = None

    def client(self, timeout: float = 1.0) -> Redis:
        return Redis(port=self.port, password=self.password, socket_timeout=timeout, socket_connect_timeout=timeout)

    def start(self, *extra: str) -> None:
        self.process = subprocess.Popen([*self.command, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited: {self.process.stderr.read().decode()[-2000:]}")
            with suppress(RedisError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} on port {self.port} did not answer within {timeout}s")

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class SentinelCluster:
    """``nodes[0]`` starts as the primary, ``nodes[1]`` as its replica; ``sentinels`` are three."""

    def __init__(self, directory: Path, down_after_ms: int = 1000, failover_timeout_ms: int = 6000,
                 maxmemory: str | None = None) -> None:
        self.directory = Path(directory)
        self.down_after_ms, self.failover_timeout_ms, self.maxmemory = down_after_ms, failover_timeout_ms, maxmemory
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH (make redis-server)")
        self.nodes: list[_Process] = []
        primary_port = free_port()
        for index in range(2):
            port = primary_port if index == 0 else free_port()
            data = self.directory / f"node{index}"
            data.mkdir(parents=True, exist_ok=True)
            command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data.resolve()),
                       "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                       "--requirepass", PASSWORD, "--masterauth", PASSWORD, "--maxmemory-policy", "noeviction",
                       "--repl-diskless-sync-delay", "0",  # a returning replica syncs at once (default: 5 s)
                       "--logfile", str((data / "redis.log").resolve()), "--daemonize", "no"]
            if maxmemory:
                command += ["--maxmemory", maxmemory]
            self.nodes.append(_Process(f"node{index}", command, port, PASSWORD))
        self.sentinels: list[_Process] = []
        for index in range(3):
            port = free_port()
            data = self.directory / f"sentinel{index}"
            data.mkdir(parents=True, exist_ok=True)
            config = data / "sentinel.conf"  # Sentinel rewrites its own file: each needs a writable one
            config.write_text("\n".join([
                f"port {port}", "bind 127.0.0.1", f"dir {data.resolve()}", f"logfile {(data / 'sentinel.log').resolve()}",
                f"requirepass {SENTINEL_PASSWORD}", f"sentinel sentinel-pass {SENTINEL_PASSWORD}",
                f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2",
                f"sentinel auth-pass {SERVICE} {PASSWORD}",
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}",
                f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}",
                f"sentinel parallel-syncs {SERVICE} 1", ""]))
            self.sentinels.append(_Process(f"sentinel{index}", [binary, str(config.resolve()), "--sentinel"], port,
                                           SENTINEL_PASSWORD))

    @property
    def addresses(self) -> str:
        """``TLPROBE_REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)

    def env(self, min_replicas: int = 1) -> dict[str, str]:
        """The settings of a tlprobe process that uses this cluster."""
        return {"TLPROBE_REDIS_SENTINELS": self.addresses, "TLPROBE_REDIS_SENTINEL_SERVICE": SERVICE,
                "TLPROBE_REDIS_PASSWORD": PASSWORD, "TLPROBE_REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
                "TLPROBE_REDIS_MIN_REPLICAS": str(min_replicas)}

    def start(self) -> "SentinelCluster":
        self.nodes[0].start()
        self.nodes[1].start("--replicaof", "127.0.0.1", str(self.nodes[0].port))
        for node in self.nodes:
            node.wait_ready()
        self.wait_replicated(self.nodes[0], 1)
        for sentinel in self.sentinels:
            sentinel.start()
        for sentinel in self.sentinels:
            sentinel.wait_ready()
        # every sentinel knows the others and the replica before anything is failed
        self._wait(lambda: all(int(s.client().sentinel_master(SERVICE)["num-other-sentinels"]) == 2
                               and int(s.client().sentinel_master(SERVICE)["num-slaves"]) == 1
                               for s in self.sentinels), 30, "sentinels to discover each other and the replica")
        return self

    def primary_port(self) -> int:
        """The port the sentinels (a majority of those that answer) name as the primary's."""
        named = []
        for sentinel in self.sentinels:
            with suppress(RedisError):
                named.append(int(sentinel.client().sentinel_get_master_addr_by_name(SERVICE)[1]))
        return max(set(named), key=named.count)

    def cut_replication(self) -> _Process:
        """Cut the replica off its primary (a partition of the replication link; the replica still
        answers the sentinels): it is refused when it reconnects, so writes from now on stay on the
        primary alone. Returns the replica; ``heal_replica`` undoes it."""
        primary = self.node_on(self.primary_port())
        replica = next(node for node in self.nodes if node is not primary)
        replica.client().config_set("masterauth", "not-the-password")
        primary.client().client_kill_filter(_type="replica")
        self._wait(lambda: primary.client().info("replication")["connected_slaves"] == 0, 10, "the link to be cut")
        return replica

    def heal_replica(self, replica: _Process) -> None:
        replica.client().config_set("masterauth", PASSWORD)

    def restart_as_replica(self, node: _Process) -> None:
        """Start a node again as a replica of the primary the sentinels name, as the start-up scripts of
        Sentinel deployments do (left to itself, a returning old primary is made a replica by the
        sentinels only after their next slow check, 10 to 20 s later)."""
        node.start("--replicaof", "127.0.0.1", str(self.primary_port()))

    def node_on(self, port: int) -> _Process:
        return next(node for node in self.nodes if node.port == port)

    def wait_replicated(self, primary: _Process, replicas: int, timeout: float = 30) -> None:
        def linked() -> bool:
            info = primary.client().info("replication")
            return info["role"] == "master" and sum(1 for name, value in info.items() if name.startswith("slave")
                                                    and isinstance(value, dict) and value.get("state") == "online") >= replicas
        self._wait(linked, timeout, f"{replicas} replica(s) online on port {primary.port}")

    @staticmethod
    def _wait(condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with suppress(RedisError, KeyError, TypeError, ValueError):
                if condition():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")

    def stop(self) -> None:
        for process in (*self.sentinels, *self.nodes):
            process.stop()
