"""How many CPUs this process may use: its cgroup's CPU quota, the CPUs it may run on, the cores.

In a container with a CPU limit, ``os.cpu_count()`` is the node's cores, not the container's share:
a pod limited to one CPU on a 64-core node would start 64 workers that the kernel then throttles to
one CPU's worth of time between them. Kubernetes (and ``docker run --cpus``) write the limit as a
CFS quota: cgroup v2 ``cpu.max`` = ``"<quota> <period>"`` (``"max <period>"``: no limit), cgroup v1
``cpu.cfs_quota_us`` over ``cpu.cfs_period_us`` (quota -1: no limit). A cpuset (``taskset``, the
kubelet's static CPU manager) shows in the affinity mask instead.

``usable_cpus()`` is the smallest of: ``ceil(quota / period)`` over the process's own cgroup and
its ancestors (a limit set on a parent, e.g. a systemd slice, binds its children too), the CPUs in
the affinity mask (``os.sched_getaffinity``), ``os.cpu_count()`` where there is no affinity call;
and at least 1. A fractional quota is rounded up: 1.5 CPUs' worth of time is used fully only by 2
processes. The cgroup is read from ``/proc/self/cgroup``, and where each hierarchy is mounted from
``/proc/self/mountinfo``, both under ``root`` (a parameter, so that tests can build a fake tree). Both
cgroup versions are read: v2 alone (current Kubernetes nodes), v1 alone (older nodes, still
supported by Kubernetes), and hybrid hosts, where the cpu controller is in the v1 hierarchy although a
v2 one is mounted beside it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CgroupMount:
    """A cgroup hierarchy as mounted: ``version`` 1 or 2, the cgroup path ``source`` that the mount
    shows (``/`` unless a container sees only its own subtree), and where it is mounted (``point``,
    a path under the file-system root)."""

    version: int
    source: str
    point: str


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def cpu_mounts(mountinfo: str) -> list[CgroupMount]:
    """The cgroup v2 mounts and the cgroup v1 mounts that carry the cpu controller, in mountinfo's order."""
    mounts = []
    for line in mountinfo.splitlines():
        before, separator, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not separator or len(fields) < 5 or len(tail) < 3:
            continue
        fstype, options = tail[0], tail[2].split(",")
        if fstype == "cgroup2" or (fstype == "cgroup" and "cpu" in options):
            mounts.append(CgroupMount(2 if fstype == "cgroup2" else 1, _unescape(fields[3]), _unescape(fields[4])))
    return mounts


def own_cgroups(proc_cgroup: str) -> dict[int, str]:
    """The process's cgroup path in the v2 hierarchy (``0::/path``) and in the v1 hierarchy that has
    the cpu controller (``N:cpu,cpuacct:/path``), by version."""
    paths = {}
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            paths[2] = path
        elif "cpu" in controllers.split(","):
            paths[1] = path
    return paths


def cgroup_directory(mount: CgroupMount, path: str, root: Path) -> Path:
    """Where the cgroup ``path`` (as /proc/self/cgroup names it) is under ``mount``. A container that
    sees only its own subtree has that subtree mounted (``source``) at the mount point."""
    source = mount.source.rstrip("/")
    if path == source or path.startswith(source + "/"):
        path = path[len(source):]
    elif source:  # a cgroup outside what is mounted (another namespace's view): the mount is all we see
        path = ""
    return root / mount.point.lstrip("/") / path.lstrip("/")


def _read(file: Path) -> str | None:
    try:
        return file.read_text()
    except OSError:
        return None


def quota_cpus(directory: Path, version: int) -> int | None:
    """CPUs' worth of time one cgroup directory allows per period, rounded up (None: no limit there)."""
    if version == 2:
        text = _read(directory / "cpu.max")
        fields = text.split() if text else []
        if len(fields) != 2 or fields[0] == "max":
            return None
        quota, period = fields
    else:
        quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
        if quota is None or period is None:
            return None
    try:
        quota, period = int(quota), int(period)
    except ValueError:
        return None
    if quota <= 0 or period <= 0:  # v1 writes -1 for no limit
        return None
    return max(1, -(-quota // period))


def cgroup_cpus(root: Path = Path("/")) -> int | None:
    """The smallest CPU quota (whole CPUs, rounded up) of this process's cgroups and their ancestors
    up to each mount point, in every hierarchy that has the cpu controller; None when there is none."""
    mountinfo, proc_cgroup = _read(root / "proc/self/mountinfo"), _read(root / "proc/self/cgroup")
    if mountinfo is None or proc_cgroup is None:
        return None
    paths = own_cgroups(proc_cgroup)
    limits = []
    for mount in cpu_mounts(mountinfo):
        if mount.version not in paths:
            continue
        top = root / mount.point.lstrip("/")
        directory = cgroup_directory(mount, paths[mount.version], root)
        while True:
            limit = quota_cpus(directory, mount.version)
            if limit is not None:
                limits.append(limit)
            if directory == top or top not in directory.parents:
                break
            directory = directory.parent
    return min(limits, default=None)


def affinity_cpus() -> int:
    """CPUs this process may be scheduled on (the affinity mask), else the machine's cores, at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def usable_cpus(root: Path = Path("/")) -> int:
    """CPUs this process may use: the cgroup quota, bounded by the affinity mask (or the cores)."""
    quota = cgroup_cpus(root)
    available = affinity_cpus()
    return min(quota, available) if quota is not None else available
