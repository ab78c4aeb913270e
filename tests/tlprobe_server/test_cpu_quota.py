"""The CPUs a process may use (tlprobe_server/cpu_quota.py): fake cgroup trees in tmp_path, laid out as the
kernel and container runtimes lay them out, and real cgroups made for a child process when this
machine lets us (root, a writable hierarchy with the cpu controller)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tlprobe_server.cpu_quota import cgroup_cpus, cgroup_directory, cpu_mounts, own_cgroups, usable_cpus

ROOT = Path(__file__).resolve().parents[2]
AFFINITY = len(os.sched_getaffinity(0))

# what a cgroup v2 host shows (Kubernetes with the systemd driver), a v1 host, and a hybrid one (v1
# controllers, an empty v2 hierarchy at /sys/fs/cgroup/unified)
V2_MOUNTINFO = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTINFO = ("25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
                "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
                "rw,cpu,cpuacct\n"
                "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory\n")
HYBRID_MOUNTINFO = V1_MOUNTINFO + ("41 25 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
POD = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice/cri-containerd-3c4d.scope"


def fake_tree(tmp_path: Path, mountinfo: str, proc_cgroup: str, files: dict[str, str]) -> Path:
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mountinfo").write_text(mountinfo)
    (tmp_path / "proc/self/cgroup").write_text(proc_cgroup)
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return tmp_path


def v2_pod(tmp_path: Path, cpu_max: str | None) -> Path:
    files = {f"sys/fs/cgroup{POD}/cpu.weight": "100\n", f"sys/fs/cgroup{POD}/cgroup.procs": "1\n"}
    if cpu_max is not None:
        files[f"sys/fs/cgroup{POD}/cpu.max"] = cpu_max + "\n"
    return fake_tree(tmp_path, V2_MOUNTINFO, f"0::{POD}\n", files)


@pytest.mark.parametrize(("cpu_max", "cpus"), [("max 100000", None), ("50000 100000", 1), ("100000 100000", 1),
                                               ("150000 100000", 2), ("200000 100000", 2), ("400000 100000", 4),
                                               ("1 100000", 1), ("250000 250000", 1)])
def test_cgroup_v2_cpu_max_is_quota_over_period_rounded_up(tmp_path, cpu_max, cpus):
    root = v2_pod(tmp_path, cpu_max)
    assert cgroup_cpus(root) == cpus
    assert usable_cpus(root) == (AFFINITY if cpus is None else min(cpus, AFFINITY))


def test_cgroup_v2_without_cpu_max_falls_back_to_the_affinity_mask(tmp_path):
    root = v2_pod(tmp_path, None)  # the cpu controller not enabled for this cgroup: no file
    assert cgroup_cpus(root) is None and usable_cpus(root) == AFFINITY


def test_a_limit_on_an_ancestor_binds_its_children(tmp_path):
    """A pod-level (or systemd slice) limit tighter than the container's own, and the other way round."""
    pod = POD.rsplit("/", 1)[0]
    root = v2_pod(tmp_path, "300000 100000")
    (tmp_path / f"sys/fs/cgroup{pod}/cpu.max").write_text("100000 100000\n")
    assert cgroup_cpus(root) == 1
    (tmp_path / f"sys/fs/cgroup{pod}/cpu.max").write_text("max 100000\n")
    assert cgroup_cpus(root) == 3


def test_a_container_with_its_own_cgroup_namespace(tmp_path):
    """containerd and docker on v2 give the container a cgroup namespace: /proc/self/cgroup says "/"
    and its own cgroup is mounted at /sys/fs/cgroup."""
    root = fake_tree(tmp_path, V2_MOUNTINFO, "0::/\n", {"sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert cgroup_cpus(root) == 2


def test_cgroup_v1_quota_and_period(tmp_path):
    docker = "/docker/0123abcd"
    files = {f"sys/fs/cgroup/cpu,cpuacct{docker}/cpu.cfs_quota_us": "150000\n",
             f"sys/fs/cgroup/cpu,cpuacct{docker}/cpu.cfs_period_us": "100000\n",
             "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}
    root = fake_tree(tmp_path, V1_MOUNTINFO, f"12:memory:{docker}\n4:cpu,cpuacct:{docker}\n1:name=systemd:{docker}\n", files)
    assert cgroup_cpus(root) == 2
    (tmp_path / f"sys/fs/cgroup/cpu,cpuacct{docker}/cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpus(root) is None and usable_cpus(root) == AFFINITY


def test_cgroup_v1_seen_from_inside_a_container_without_a_cgroup_namespace(tmp_path):
    """Docker on v1: /proc/self/cgroup names the host's path, but only that subtree is mounted (the
    mount's root field), at the mount point itself."""
    docker = "/docker/0123abcd"
    mountinfo = V1_MOUNTINFO.replace("30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct", f"30 25 0:27 {docker} /sys/fs/cgroup/cpu,cpuacct")
    files = {"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}
    root = fake_tree(tmp_path, mountinfo, f"4:cpu,cpuacct:{docker}\n", files)
    assert cgroup_directory(cpu_mounts(mountinfo)[0], docker, root) == root / "sys/fs/cgroup/cpu,cpuacct"
    assert cgroup_cpus(root) == 1


def test_hybrid_hierarchy_reads_the_cpu_controller_where_it_is(tmp_path):
    """v1 controllers with an (empty) v2 hierarchy beside them, as on this machine: the quota is in v1."""
    files = {"sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us": "100000\n",
             "sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us": "100000\n",
             "sys/fs/cgroup/unified/batch/cgroup.procs": "1\n"}
    root = fake_tree(tmp_path, HYBRID_MOUNTINFO, "4:cpu,cpuacct:/batch\n0::/batch\n", files)
    assert [mount.version for mount in cpu_mounts(HYBRID_MOUNTINFO)] == [1, 2]
    assert own_cgroups("4:cpu,cpuacct:/batch\n3:memory:/m\n0::/batch\n") == {1: "/batch", 2: "/batch"}
    assert cgroup_cpus(root) == 1


def test_nothing_readable_falls_back_to_the_affinity_mask(tmp_path):
    assert cgroup_cpus(tmp_path) is None and usable_cpus(tmp_path) == AFFINITY  # no /proc at all
    root = fake_tree(tmp_path, V1_MOUNTINFO, "4:cpu,cpuacct:/\n", {})  # v1 only, no quota files
    assert cgroup_cpus(root) is None and usable_cpus(root) == AFFINITY
    garbled = fake_tree(tmp_path / "garbled", V2_MOUNTINFO, "0::/\n", {"sys/fs/cgroup/cpu.max": "lots\n"})
    assert cgroup_cpus(garbled) is None


def test_mount_points_with_escaped_characters():
    mountinfo = r"30 25 0:27 / /sys/fs/cgroup/my\040cpu rw - cgroup cgroup rw,cpu" + "\n"
    assert cpu_mounts(mountinfo)[0].point == "/sys/fs/cgroup/my cpu"


def test_the_affinity_mask_bounds_a_larger_quota(tmp_path):
    """A process restricted to one CPU (taskset) under a quota of four uses one."""
    root = v2_pod(tmp_path, "400000 100000")
    code = ("import sys; from pathlib import Path; from tlprobe_server.cpu_quota import usable_cpus; "
            "print(usable_cpus(Path(sys.argv[1])))")
    first = min(os.sched_getaffinity(0))
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=ROOT, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {first})).stdout
    assert out.split() == ["1"]


# --- real cgroups -------------------------------------------------------------------------------------

def limit_to_one_cpu(cgroup: Path, version: int) -> None:
    """Kubernetes' limit of one CPU on the cgroup at ``cgroup``: cpu.max "100000 100000" (v2), a quota of
    100000 us per 100000 us (v1)."""
    if version == 2:
        (cgroup / "cpu.max").write_text("100000 100000")
    else:
        (cgroup / "cpu.cfs_period_us").write_text("100000")
        (cgroup / "cpu.cfs_quota_us").write_text("100000")


def _writable_hierarchy(version: int) -> tuple[Path, str]:
    """Where to make a child cgroup with a CPU quota in this machine's hierarchy of ``version``, or the
    reason there is none (pytest.skip)."""
    mounts = [mount for mount in cpu_mounts(Path("/proc/self/mountinfo").read_text()) if mount.version == version]
    if not mounts:
        pytest.skip(f"no cgroup v{version} hierarchy with the cpu controller is mounted here")
    mount = mounts[0]
    point = Path(mount.point)
    if os.geteuid() != 0 or not os.access(point, os.W_OK):
        pytest.skip(f"cgroup v{version} at {point} is not writable by this user")
    if version == 2:
        # a child's cpu.max exists only when the parent delegates the cpu controller; the test does not
        # turn it on (that would change how the whole machine's CPU time is shared), so it uses the
        # mount's root, the one cgroup allowed both processes and controllers for its children
        if "cpu" not in (point / "cgroup.subtree_control").read_text().split():
            available = (point / "cgroup.controllers").read_text().split()
            pytest.skip(f"cgroup v2 at {point} is writable but does not delegate the cpu controller to its children "
                        f"(its controllers: {' '.join(available) or 'none'}; on a hybrid host cpu is bound to cgroup v1)")
        return point, "cpu.max"
    return cgroup_directory(mount, own_cgroups(Path("/proc/self/cgroup").read_text())[1], Path("/")), "cpu.cfs_quota_us"


@pytest.mark.parametrize("version", [2, 1])
def test_a_process_in_a_real_cgroup_limited_to_one_cpu_uses_one(version):
    """Kubernetes' limit of one CPU (cpu.max "100000 100000"; v1 quota 100000 us per 100000 us) on a real
    cgroup: a child process moved into it answers 1, though this machine has more CPUs to offer."""
    parent, quota_file = _writable_hierarchy(version)
    child = parent / f"tlprobe-cpu-test-{uuid.uuid4().hex[:8]}"
    child.mkdir()
    process = None
    try:
        limit_to_one_cpu(child, version)
        code = ("import sys; sys.stdin.readline(); from tlprobe_server.cpu_quota import cgroup_cpus, usable_cpus; "
                "print(cgroup_cpus(), usable_cpus(), open('/proc/self/cgroup').read().replace(chr(10), ';'))")
        process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                   cwd=ROOT)
        (child / "cgroup.procs").write_text(str(process.pid))
        assert str(process.pid) in (child / "cgroup.procs").read_text().split()
        out, _ = process.communicate("go\n", timeout=60)
        quota, usable, membership = out.split(maxsplit=2)
        assert child.name in membership, membership
        assert (quota, usable) == ("1", "1"), f"{out} (affinity here: {AFFINITY})"
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        child.rmdir()
