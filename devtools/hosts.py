"""Several hosts on this machine: Linux network namespaces on one bridge (needs root and iproute2).

``Cluster(["redis", "api", "w1", "w2"], logs)`` builds, per name, a *host*: a network namespace
whose only interface is one end of a veth pair (``eth0``) whose other end sits on the cluster's
bridge, in a /24 of 10.0.0.0/8 drawn at random per cluster and checked against every address and
route of the machine. The bridge lives in a namespace of its own (the *switch*), so the machine's
firewall (say, Docker's FORWARD policy DROP applied to bridged traffic by br_netfilter) does not see
the traffic between hosts. The root namespace joins the bridge at ``.1`` through a link of its own
(the test client); host ``i`` has address ``.(i + 2)``. No address of the cluster is routed anywhere:
nothing leaves the bridge, and IPv6 is off on every link of it.

Each host also has a hostname and a filesystem view of its own. Its *anchor* process is started as
``ip netns exec NS unshare --uts --mount``: it sets the hostname, mounts a private tmpfs on /tmp,
re-mounts the code (and the virtualenv, if outside it) read-only and sleeps. Every process of the
host enters the anchor's network, UTS and mount namespaces (``nsenter``), so all of them see the
same hostname and the same /tmp, and nothing but the read-only code and the rest of the machine's
system files is shared between hosts. A process's output goes to ``<logs>/<host>.<name>.log``
(opened by the harness, outside the host).

``host.cut()`` puts the bridge side of the host's link down: its processes keep running and reach
no one; ``host.heal()`` puts it back up. ``Cluster.close()`` (also on errors, and from ``with``)
stops every process of every namespace (SIGTERM to the ones it started, then SIGKILL to whatever is
left, anchors included), deletes the hosts' namespaces, then the bridge and its switch namespace.

Run ``python -m devtools.hosts`` to build a cluster of three hosts, print it and check that they
reach each other, then tear it down.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
#: interface and namespace names start with this; interface names stay within Linux's 15 characters
PREFIX = "tlp"
#: the host's mounts, in its private mount namespace: the read-only paths (the code, the virtualenv) are
#: held aside first, so that one under /tmp (a checkout cloned there) is not hidden by the private /tmp
ANCHOR = r"""
set -e
hostname "$1"
shift
keep=/mnt
case " $* " in *" /mnt"*) keep=/srv ;; esac
mount -t tmpfs -o size=1m tlprobe-keep "$keep"
i=0
for path in "$@"; do
  mkdir "$keep/$i"
  mount --bind "$path" "$keep/$i"
  i=$((i + 1))
done
mount -t tmpfs -o mode=1777,size=512m tlprobe-tmp /tmp
i=0
for path in "$@"; do
  mkdir -p "$path"
  mount --bind "$keep/$i" "$path"
  mount -o remount,bind,ro "$path"
  i=$((i + 1))
done
echo ready
exec sleep infinity
"""


def _run(argv: Sequence[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def taken_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the machine has an address in or a route to (the default route aside)."""
    taken = []
    for line in _run(["ip", "-4", "-o", "addr", "show"]).stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            taken.append(ipaddress.IPv4Interface(fields[fields.index("inet") + 1]).network)
    for line in _run(["ip", "-4", "route", "show", "table", "all"]).stdout.splitlines():
        fields = line.split()
        destination = fields[1] if fields and fields[0] in ("local", "broadcast", "unicast", "multicast") else \
            (fields[0] if fields else "default")
        if destination != "default":
            with contextlib.suppress(ValueError):
                taken.append(ipaddress.IPv4Network(destination, strict=False))
    return taken


def free_subnet(rng: random.Random | None = None) -> ipaddress.IPv4Network:
    """A /24 of 10.64.0.0/10 .. 10.254.0.0/16 that overlaps nothing the machine has."""
    rng = rng or random.SystemRandom()
    taken = taken_networks()
    for _ in range(200):
        subnet = ipaddress.IPv4Network(f"10.{rng.randrange(64, 255)}.{rng.randrange(256)}.0/24")
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise RuntimeError("no free 10.x.y.0/24 found for the cluster's bridge")


def _disable_ipv6(interface: str, namespace: str | None = None) -> None:
    """No IPv6 on the cluster's links (no router solicitations or multicast listener reports)."""
    path = f"/proc/sys/net/ipv6/conf/{interface}/disable_ipv6"
    if namespace is None:
        with contextlib.suppress(OSError):
            Path(path).write_text("1")
    else:
        _run(["ip", "netns", "exec", namespace, "sh", "-c", f"[ ! -e {path} ] || echo 1 > {path}"], check=False)


class Host:
    """One namespace host: its address, hostname, link, and the processes started in it."""

    def __init__(self, cluster: "Cluster", name: str, index: int) -> None:
        self.cluster, self.name = cluster, name
        self.namespace = f"{PREFIX}-{cluster.tag}-{name}"
        self.veth = f"{PREFIX}{cluster.tag}{index}"  # bridge side; the host's side is its eth0
        self.address = str(cluster.subnet.network_address + index + 2)
        self.hostname = f"{name}-{cluster.tag}"
        self.anchor: subprocess.Popen | None = None
        self.processes: dict[str, subprocess.Popen] = {}

    def __repr__(self) -> str:
        return f"Host({self.name!r}, {self.address}, hostname={self.hostname!r})"

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        cluster = self.cluster
        _run(["ip", "netns", "add", self.namespace])
        _run(["ip", "-n", cluster.switch, "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns",
              self.namespace])
        _disable_ipv6(self.veth, cluster.switch)
        _run(["ip", "-n", cluster.switch, "link", "set", self.veth, "master", cluster.bridge, "up"])
        _disable_ipv6("eth0", self.namespace)
        _run(["ip", "-n", self.namespace, "addr", "add", f"{self.address}/{cluster.subnet.prefixlen}", "dev", "eth0"])
        _run(["ip", "-n", self.namespace, "link", "set", "eth0", "up"])
        _run(["ip", "-n", self.namespace, "link", "set", "lo", "up"])
        read_only = [str(ROOT)]
        prefix = Path(sys.prefix).resolve()
        if not prefix.is_relative_to(ROOT):
            read_only.append(str(prefix))
        log = open(self.cluster.logs / f"{self.name}.anchor.log", "ab")
        self.anchor = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, "unshare", "--uts", "--mount", "--propagation", "private",
             "sh", "-c", ANCHOR, "anchor", self.hostname, *read_only],
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        line = self.anchor.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"host {self.name} did not start: see {self.cluster.logs / (self.name + '.anchor.log')}")

    # -- processes -----------------------------------------------------------------------------
    def enter(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as run inside this host (its network, hostname and mounts), from the code's folder."""
        if self.anchor is None:
            raise RuntimeError(f"host {self.name} is not running")
        return ["nsenter", f"--target={self.anchor.pid}", "--net", "--uts", "--mount", f"--wd={ROOT}", "--", *argv]

    def run(self, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess:
        """Runs a command in the host to its end; its output is returned."""
        done = subprocess.run(self.enter(argv), env=env if env is not None else host_env(), capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"on {self.name}: {' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Starts a long-running process in the host (a session of its own), output to its log file."""
        if name in self.processes and self.processes[name].poll() is None:
            raise RuntimeError(f"{name} is already running on {self.name}")
        with open(self.log_path(name), "ab") as log:
            process = subprocess.Popen(self.enter(argv), env=env if env is not None else host_env(), stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes[name] = process
        return process

    def stop(self, name: str, timeout: float = 20) -> None:
        """SIGTERM to the process's session (its children too), SIGKILL after ``timeout``."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def pids(self) -> list[int]:
        """Every process in the host's network namespace (the anchor included)."""
        done = _run(["ip", "netns", "pids", self.namespace], check=False)
        return [int(pid) for pid in done.stdout.split()]

    # -- the link ------------------------------------------------------------------------------
    def cut(self) -> None:
        """The host's link down, on the bridge side: its processes run on and reach no one."""
        _run(["ip", "-n", self.cluster.switch, "link", "set", self.veth, "down"])

    def heal(self) -> None:
        _run(["ip", "-n", self.cluster.switch, "link", "set", self.veth, "up"])

    # -- logs ----------------------------------------------------------------------------------
    def log_path(self, name: str) -> Path:
        return self.cluster.logs / f"{self.name}.{name}.log"

    def logs(self) -> dict[str, str]:
        """Every log of the host, by process name."""
        found = {}
        for path in sorted(self.cluster.logs.glob(f"{self.name}.*.log")):
            found[path.name[len(self.name) + 1:-4]] = path.read_text(errors="replace")
        return found

    # -- teardown ------------------------------------------------------------------------------
    def _kill_all(self, timeout: float = 10) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name, timeout=5)
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if self.anchor is not None and self.anchor.poll() is None:
                self.anchor.kill()
            if self.anchor is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.anchor.wait(timeout=1)
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if self.anchor is not None and self.anchor.stdout is not None:
            self.anchor.stdout.close()


#: the machine's configuration of its BLAS library, passed on to every host: the kernel OpenBLAS picks
#: (OPENBLAS_CORETYPE, cache sizes) changes results in the last digits (about 1e-10 relative in a
#: learning curve's theory), so hosts of one machine should pick the same one, as hosts of one CPU model would
BLAS_CONFIGURATION = ("OPENBLAS_", "MKL_")


def host_env(**settings: str) -> dict[str, str]:
    """A clean environment for a host's processes: nothing inherited but PATH, the locale and the BLAS
    library's configuration; HOME and every cache in the host's own /tmp; then ``settings``."""
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": os.environ.get("LANG", "C.UTF-8"),
           "HOME": "/tmp", "NUMBA_CACHE_DIR": "/tmp/numba", "MPLCONFIGDIR": "/tmp/matplotlib",
           "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({name: value for name, value in os.environ.items() if name.startswith(BLAS_CONFIGURATION)})
    env.update(settings)
    return env


class Cluster:
    """Hosts on one bridge; ``close()`` tears everything down (also used as a context manager)."""

    def __init__(self, names: Sequence[str], logs: Path, subnet: ipaddress.IPv4Network | None = None) -> None:
        if len(set(names)) != len(names) or not names:
            raise ValueError("host names must be distinct and at least one")
        if len(names) > 250:
            raise ValueError("at most 250 hosts on a /24")
        self.tag = secrets.token_hex(3)  # 6 hex digits: "tlp" + tag + index stays within 15 characters
        self.switch = f"{PREFIX}-{self.tag}-switch"  # the namespace holding the bridge
        self.bridge = f"{PREFIX}b{self.tag}"
        self.client_link = f"{PREFIX}{self.tag}c"  # the root namespace's link to the bridge
        self.subnet = subnet or free_subnet()
        self.address = str(self.subnet.network_address + 1)  # the root namespace's, on the bridge
        self.logs = Path(logs)
        self.hosts = {name: Host(self, name, index) for index, name in enumerate(names)}
        self._built: list[Host] = []
        self._switch_made = False

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> "Cluster":
        missing = [tool for tool in ("ip", "unshare", "nsenter") if not _which(tool)]
        if missing:
            raise RuntimeError(f"needs {', '.join(missing)} (iproute2, util-linux)")
        if os.geteuid() != 0:
            raise RuntimeError("building namespace hosts needs root")
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            _run(["ip", "netns", "add", self.switch])
            self._switch_made = True
            _run(["ip", "-n", self.switch, "link", "add", self.bridge, "type", "bridge"])
            _disable_ipv6(self.bridge, self.switch)
            _run(["ip", "-n", self.switch, "link", "set", self.bridge, "up"])
            _run(["ip", "link", "add", self.client_link, "type", "veth", "peer", "name", "client", "netns", self.switch])
            _disable_ipv6(self.client_link)
            _disable_ipv6("client", self.switch)
            _run(["ip", "-n", self.switch, "link", "set", "client", "master", self.bridge, "up"])
            _run(["ip", "addr", "add", f"{self.address}/{self.subnet.prefixlen}", "dev", self.client_link])
            _run(["ip", "link", "set", self.client_link, "up"])
            for host in self.hosts.values():
                self._built.append(host)
                host._build()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Processes of every host first, then their namespaces, then the bridge (with the switch
        namespace that holds it, and the root namespace's link to it). Safe to call twice."""
        errors = []
        for host in reversed(self._built):
            try:
                host._kill_all()
            except Exception as exc:  # go on tearing down the others
                errors.append(f"{host.name}: {exc}")
        for host in reversed(self._built):
            _run(["ip", "netns", "del", host.namespace], check=False)
        self._built = []
        if self._switch_made:
            _run(["ip", "-n", self.switch, "link", "del", self.bridge], check=False)
            _run(["ip", "netns", "del", self.switch], check=False)
            _run(["ip", "link", "del", self.client_link], check=False)  # gone with its peer, unless the netns lingers
            self._switch_made = False
        if errors:
            raise RuntimeError("tearing down: " + "; ".join(errors))

    def logs_text(self) -> dict[str, dict[str, str]]:
        """Every host's logs: {host: {process: text}}."""
        return {name: host.logs() for name, host in self.hosts.items()}

    def describe(self) -> str:
        lines = [f"bridge {self.bridge} in namespace {self.switch}, {self.subnet} (this namespace: {self.address} "
                 f"on {self.client_link})"]
        lines += [f"  {host.name:8} {host.address:15} hostname {host.hostname:16} namespace {host.namespace} "
                  f"link {host.veth}" for host in self.hosts.values()]
        return "\n".join(lines)


def _which(tool: str) -> bool:
    return any(os.access(os.path.join(folder, tool), os.X_OK) for folder in os.environ.get("PATH", "").split(os.pathsep)
               if folder) or os.access(f"/usr/sbin/{tool}", os.X_OK) or os.access(f"/sbin/{tool}", os.X_OK)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as logs, Cluster(["a", "b", "c"], Path(logs)) as cluster:
        print(cluster.describe())
        a, b = cluster["a"], cluster["b"]
        probe = "import socket,sys; s=socket.create_connection((sys.argv[1], 9), timeout=2)"
        for host in cluster.hosts.values():
            writable = host.run(["sh", "-c", f"touch {ROOT}/.hosts-probe 2>/dev/null && rm {ROOT}/.hosts-probe"],
                                check=False).returncode == 0
            print(f"  {host.name}: hostname {host.run(['hostname']).stdout.strip()}, "
                  f"/tmp {host.run(['stat', '-f', '-c', '%T', '/tmp']).stdout.strip()} "
                  f"({len(host.run(['ls', '-A', '/tmp']).stdout.split())} entries), "
                  f"code {'WRITABLE' if writable else 'read-only'}")
        b.spawn("listen", [sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('0.0.0.0', 9)); s.listen();"
                                                 "import time; time.sleep(60)"])
        time.sleep(1)
        print("  a -> b:", "reached" if a.run([sys.executable, "-c", probe, b.address], check=False).returncode == 0
              else "NOT reached")
        b.cut()
        print("  a -> b, b's link cut:", "reached" if a.run([sys.executable, "-c", probe, b.address], check=False)
              .returncode == 0 else "not reached")
        b.heal()


if __name__ == "__main__":
    main()
