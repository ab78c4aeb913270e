"""The files that run tlprobe elsewhere: docker-compose.yml, Dockerfile, .ci/run, README, Makefile.

No Docker engine runs here, so the compose file is checked for what matters: the services, that
Redis persists and is not exposed, and that every variable given to api and worker is a setting the
code reads and every command names code that exists.
"""

import importlib
import os
from pathlib import Path

import yaml

from tlprobe.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _setting_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"TLPROBE_{name.upper()}")
        alias = field.validation_alias
        if alias is not None:
            names.update(str(choice) for choice in getattr(alias, "choices", [alias]))
    return names


def test_compose_services_and_redis_persistence():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "api", "worker"}
    redis = services["redis"]
    assert "ports" not in redis, "Redis must not be reachable from outside the compose network"
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redis-data" in compose["volumes"]


def test_compose_environment_is_made_of_real_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    known = _setting_variables()
    for name in ("api", "worker"):
        env = compose["services"][name]["environment"]
        assert set(env) <= known, set(env) - known
        assert env["TLPROBE_REDIS_URL"] == "redis://redis:6379/0"
        settings = Settings(**{k[len("TLPROBE_"):].lower(): v for k, v in env.items()})
        assert settings.redis_url.startswith("redis://redis")


def test_compose_commands_name_existing_code():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    api = compose["services"]["api"]["command"]
    assert api[:2] == ["uvicorn", "--factory"]
    module, _, factory = api[2].partition(":")
    assert callable(getattr(importlib.import_module(module), factory))
    worker = compose["services"]["worker"]["command"]
    assert worker == ["python", "-m", "worker.main"] and callable(importlib.import_module("worker.main").main)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "service.main:app" in dockerfile and "USER tlprobe" in dockerfile


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and os.access(ROOT / ".ci" / "run", os.X_OK)
    assert "make run" in readme and "make test" in readme
    assert "redis-server" in ci and "apt-get install" in ci
    assert "install -y -qq chromium" in ci  # the dashboard test's browser, from Debian


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [f"TLPROBE_{name.upper()}" for name in Settings.model_fields if f"TLPROBE_{name.upper()}" not in readme]
    assert not missing, f"README does not document {missing}"
