"""The files that run tlprobe elsewhere: docker-compose.yml (and its public variant), Dockerfile,
.ci/run, README, Makefile, the lock files.

No Docker engine runs here, so the compose files are checked for what matters: the services, that
Redis persists, is not exposed and evicts only keys with a TTL, that the API is published on
loopback unless tokens are required, the health checks and the stop grace period, and that every
variable given to api and worker is a setting the code reads and every command names code that
exists. The lock files pin every package with hashes, and this environment was installed from them.
"""

import importlib
import os
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from devtools.localredis import LocalRedis
from tlprobe_server.settings import Settings, environment_variables

ROOT = Path(__file__).resolve().parent.parent


class ComposeLoader(yaml.SafeLoader):
    """YAML as docker compose reads it: the merge tags !override and !reset are plain values here."""


ComposeLoader.add_constructor("!override", lambda loader, node: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else
    loader.construct_mapping(node) if isinstance(node, yaml.MappingNode) else loader.construct_scalar(node)))
ComposeLoader.add_constructor("!reset", lambda loader, node: None)


def compose(name: str = "docker-compose.yml") -> dict:
    return yaml.load((ROOT / name).read_text(), Loader=ComposeLoader)


def interpolated(value: str, env: dict[str, str] | None = None) -> str:
    """A compose value with ${VAR}, ${VAR:-default} and ${VAR:?error} replaced as compose does
    (KeyError for a required variable that is missing)."""
    env = env or {}

    def one(match: re.Match) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise KeyError(f"{name}: {word}")
        return word if operator == ":-" else ""

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", one, str(value))


def seconds(duration: str) -> float:
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in re.findall(r"([0-9.]+)(h|m|s)", duration))


def test_compose_services_and_redis_persistence():
    services = compose()["services"]
    assert set(services) == {"redis", "api", "worker"}
    redis = services["redis"]
    assert "ports" not in redis, "Redis must not be reachable from outside the compose network"
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redis-data" in compose()["volumes"]


def test_every_shipped_redis_evicts_nothing_at_a_documented_size(tmp_path):
    """noeviction in docker-compose.yml, make run's Redis and the Kubernetes base: uploads cannot be
    recomputed (tlprobe_server/redis_memory.py makes room among the cached entries instead)."""
    command = compose()["services"]["redis"]["command"]
    size = command[command.index("--maxmemory") + 1]
    assert re.fullmatch(r"[0-9]+(mb|gb)", size)
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    local = LocalRedis(tmp_path).command()
    assert local[local.index("--maxmemory-policy") + 1] == "noeviction"
    kubernetes = (ROOT / "deploy" / "kubernetes" / "base" / "redis.conf").read_text()
    assert re.search(r"^maxmemory-policy noeviction$", kubernetes, re.MULTILINE)
    assert f"maxmemory {size}" in kubernetes
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert f"maxmemory {size}" in operations and "noeviction" in operations
    assert "volatile-lru" not in operations and "recomputed when asked for again" not in operations


def test_the_api_is_published_on_loopback_unless_tokens_are_required():
    api = compose()["services"]["api"]
    assert api["ports"] and all(port.startswith("127.0.0.1:") for port in api["ports"])
    public = compose("docker-compose.public.yml")["services"]["api"]
    assert any(not port.startswith("127.") for port in public["ports"])
    tokens = public["environment"]["TLPROBE_API_TOKENS"]
    try:
        interpolated(tokens)
        raise AssertionError("the public variant starts without tokens")
    except KeyError:
        pass
    assert interpolated(tokens, {"TLPROBE_API_TOKENS": "a,b"}) == "a,b"
    assert "!override" in (ROOT / "docker-compose.public.yml").read_text()  # replaces the loopback port, not added


def test_health_checks_and_the_stop_grace_period():
    services = compose()["services"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check and api_check.startswith("CMD python -c")
    compile(services["api"]["healthcheck"]["test"][-1], "healthcheck", "exec")
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check == ["CMD", "python", "-m", "worker.health"]
    assert callable(importlib.import_module("worker.health").main)
    # a stopped busy worker hands its job back in ~2 s (tests/integration/test_faults.py bounds it at 10 s)
    assert seconds(services["worker"]["stop_grace_period"]) >= 20


def test_compose_environment_is_made_of_real_settings():
    known = environment_variables()
    for name in ("api", "worker"):
        env = {k: interpolated(v) for k, v in compose()["services"][name]["environment"].items()}
        assert set(env) <= known, set(env) - known
        assert env["TLPROBE_REDIS_URL"] == "redis://redis:6379/0"
        settings = Settings(**{k[len("TLPROBE_"):].lower(): v for k, v in env.items()})
        assert settings.redis_url.startswith("redis://redis") and not settings.tokens()


def test_compose_commands_name_existing_code():
    api = compose()["services"]["api"]["command"]
    assert api[:2] == ["uvicorn", "--factory"]
    module, _, factory = api[2].partition(":")
    assert callable(getattr(importlib.import_module(module), factory))
    worker = compose()["services"]["worker"]["command"]
    assert worker == ["python", "-m", "worker.main"] and callable(importlib.import_module("worker.main").main)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "service.main:app" in dockerfile and "USER tlprobe" in dockerfile
    for package in ("tlprobe", "service", "worker"):  # everything the API and the workers import
        assert f"COPY {package} ./{package}" in dockerfile


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and os.access(ROOT / ".ci" / "run", os.X_OK)
    assert "make run" in readme and "make test" in readme
    # make test installs redis-server and chromium itself (tests/test_readme_commands.py)
    assert "apt-get install" in (ROOT / "devtools" / "need-program").read_text()


def locked(name: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """package -> (version, marker, hashes) of a lock file."""
    entries = {}
    for block in re.split(r"\n(?=[a-z0-9])", (ROOT / "requirements" / name).read_text()):
        first = block.split(" \\")[0].split("\n")[0]
        if "==" not in first or first.startswith("#"):
            continue
        requirement = Requirement(first)
        entries[requirement.name.lower()] = (str(requirement.specifier).removeprefix("=="),
                                              str(requirement.marker) if requirement.marker else None,
                                              re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_every_dependency_is_locked_with_hashes():
    runtime, test = locked("lock.txt"), locked("lock-test.txt")
    assert len(runtime) > 20 and set(runtime) < set(test)
    for name, (pinned, _, hashes) in test.items():
        assert hashes, f"{name} has no hash"
        if name in runtime:
            assert runtime[name][0] == pinned, f"{name}: the image and the tests would run different versions"
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        direct = Requirement(line)
        assert test[direct.name.lower()][0] == str(direct.specifier).removeprefix("=="), f"{line}: lock is stale"
        if line in project["dependencies"]:
            assert direct.name.lower() in runtime


def test_this_environment_was_installed_from_the_lock():
    for name, (pinned, marker, _) in locked("lock-test.txt").items():
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            raise AssertionError(f"{name}=={pinned} is locked but not installed") from None
        assert installed == pinned, f"{name}: {installed} installed, {pinned} locked"


def test_make_ci_and_the_image_install_from_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements/lock-test.txt" in makefile and "--require-hashes --no-deps -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile and "-e '.[test]'" not in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements/lock.txt" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [f"TLPROBE_{name.upper()}" for name in Settings.model_fields if f"TLPROBE_{name.upper()}" not in readme]
    assert not missing, f"README does not document {missing}"
