"""The README's two commands on a fresh machine: `make run` and `make test` install redis-server (and
`make test` Debian's chromium, for the dashboard's browser test) when missing (apt-get as root, or
through sudo), otherwise stop with one sentence saying what to run.

devtools/need-program runs here with a PATH made of stand-ins (id, sudo, apt-get, redis-server)
that record how they were called, so every branch is taken without installing or removing anything.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "devtools" / "need-program"
REDIS = ["redis-server", "redis-server", "macOS: `brew install redis`"]
BASH = shutil.which("bash")


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def machine(tmp_path: Path, uid: int, apt: str | None = "ok", sudo: str | None = None, redis: bool = False) -> Path:
    """A PATH directory: `id -u` prints uid; apt-get succeeds ("ok", and an install brings
    redis-server) or fails ("fails"); sudo runs its command ("nopasswd") or refuses -n ("password")."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("env", "cat"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    stand_in(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}')
    if redis:
        stand_in(bin_dir, "redis-server", "exit 0")
    if apt is not None:
        # an install brings a program named like the package (the last argument)
        install = (f'for p; do :; done; printf "#!{BASH}\\nexit 0\\n" > "{bin_dir}/$p"; '
                   f'{shutil.which("chmod")} +x "{bin_dir}/$p"')
        stand_in(bin_dir, "apt-get", f'echo "apt-get $*" >> "{log}"\n'
                 + ('exit 100' if apt == "fails" else f'case "$*" in *install*) {install};; esac'))
    if sudo is not None:
        stand_in(bin_dir, "sudo", f'''if [ "$1" = -n ]; then shift; {'exit 1' if sudo == 'password' else ''}
fi
[ "$1" = true ] && exit 0
echo "sudo $1" >> "{log}"
"$@"''')
    return bin_dir


def run(bin_dir: Path, args: list[str] = REDIS) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, str(SCRIPT), *args], env={"PATH": str(bin_dir)}, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_present_redis_server_is_left_alone(tmp_path):
    bin_dir = machine(tmp_path, uid=1000, redis=True)
    done = run(bin_dir)
    assert done.returncode == 0 and calls(tmp_path) == [] and done.stderr == ""


def test_root_installs_it_with_apt_get(tmp_path):
    bin_dir = machine(tmp_path, uid=0)
    done = run(bin_dir)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["apt-get update -qq", "apt-get install -y -qq redis-server"]
    assert (bin_dir / "redis-server").exists() and "installing redis-server with apt-get" in done.stderr


def test_the_browser_is_installed_the_same_way(tmp_path):
    bin_dir = machine(tmp_path, uid=0)
    done = run(bin_dir, ["chromium"])
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert (bin_dir / "chromium").exists()


def test_a_user_with_sudo_installs_it_through_sudo(tmp_path):
    bin_dir = machine(tmp_path, uid=1000, sudo="nopasswd")
    done = run(bin_dir)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["sudo apt-get", "apt-get update -qq", "sudo env", "apt-get install -y -qq redis-server"]
    assert "with sudo apt-get" in done.stderr


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) >= 1 and lines[-1].count(". ") == 0 and lines[-1].endswith("and try again.")
    return lines[-1]


@pytest.mark.parametrize("case", [
    {"uid": 1000},  # no sudo at all
    {"uid": 1000, "sudo": "password"},  # sudo needs a password and nobody is at a terminal
    {"uid": 0, "apt": None},  # not Debian or Ubuntu
    {"uid": 0, "apt": "fails"},  # apt-get refused (no network, a broken list, ...)
])
def test_otherwise_it_stops_with_one_sentence_saying_what_to_run(tmp_path, case):
    bin_dir = machine(tmp_path, **case)
    done = run(bin_dir)
    assert done.returncode == 1
    sentence = one_sentence(done.stderr)
    assert "`sudo apt-get install redis-server` (macOS: `brew install redis`)" in sentence
    assert "redis-server is not installed" in sentence
    assert not (bin_dir / "redis-server").exists()
    if case.get("sudo") == "password":
        assert not any(call.startswith("sudo apt-get") for call in calls(tmp_path))


def make_plan(target: str, **env: str) -> list[str]:
    """The commands `make -n target` would run (as from a shell: not as a sub-make of `make test`)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, env={**clean, **env}).stdout
    return [line for line in out.splitlines() if not line.startswith("make")]


def test_make_run_and_make_test_call_it_first():
    for target in ("run", "test"):
        plan = make_plan(target, TLPROBE_REDIS_URL="", REDIS_URL="")
        assert "devtools/need-program redis-server" in plan[0], (target, plan)
    assert "devtools/need-program chromium chromium" in make_plan("test")[1]
    assert "devtools/need-program kubectl kubectl" in make_plan("test")[2]  # tests/deploy/test_kubernetes.py
    with_url = "\n".join(make_plan("run", TLPROBE_REDIS_URL="redis://elsewhere:6379/0"))
    # skipped with a Redis URL or sentinels: make run starts no Redis then
    assert '[ -n "$TLPROBE_REDIS_URL$REDIS_URL$TLPROBE_REDIS_SENTINELS" ] || devtools/need-program redis-server' in with_url
    assert os.access(SCRIPT, os.X_OK)
