"""The layers: ``service`` and ``worker`` never import each other, both build on ``tlprobe``; the
shared layer stays free of HTTP and numerics; the engine stays free of Redis, settings and queues;
the service loads nothing numerical at start-up; the client and the command line speak HTTP only."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: package (a folder of the tree) -> top-level or dotted modules it must never import, anywhere in it
FORBIDDEN = {
    "service": ["worker", "numba"],
    "worker": ["service"],
    "tlprobe": ["service", "worker", "devtools", "fastapi", "starlette", "numpy", "scipy", "matplotlib", "numba"],
    "worker/science": ["redis", "rq", "service", "tlprobe.settings", "tlprobe.submit", "tlprobe.results",
                       "tlprobe.kinds", "tlprobe.keys", "worker.tasks", "worker.artifacts", "worker.main"],
}
#: the Python client and the command line run where no Redis is: they speak HTTP only
CLIENT = ["tlprobe/__init__.py", "tlprobe/client.py", "tlprobe/operations.py", "tlprobe/client_results.py", "tlprobe/npz.py",
          "tlprobe/errors.py", "tlprobe/tidy.py", "tlprobe/cli.py", "tlprobe/terminal.py", "tlprobe/versions.py",
          "tlprobe/contract"]
CLIENT_FORBIDDEN = ["redis", "rq", "tlprobe.settings", "tlprobe.submit", "tlprobe.results", "tlprobe.kinds",
                    "tlprobe.keys", "tlprobe.views", "tlprobe.budget", "tlprobe.diagrams"]


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved), at any depth."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _violations(folder: str, forbidden: list[str]) -> list[str]:
    found = []
    top = ROOT / folder
    for path in [top] if top.is_file() else sorted(top.rglob("*.py")):
        for name in imported_modules(path):
            for bad in forbidden:
                if name == bad or name.startswith(bad + "."):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("folder", FORBIDDEN)
def test_no_forbidden_imports(folder):
    assert _violations(folder, FORBIDDEN[folder]) == []


@pytest.mark.parametrize("module", CLIENT)
def test_the_client_speaks_http_only(module):
    assert _violations(module, CLIENT_FORBIDDEN) == []


def test_importing_the_client_loads_no_redis_queue_server_or_numerics():
    code = ("import sys; from tlprobe import Client, AsyncClient; import tlprobe.cli; Client('http://127.0.0.1:9'); "
            "print(sorted(m for m in ('redis', 'rq', 'fastapi', 'starlette', 'uvicorn', 'numpy', 'scipy', 'matplotlib', "
            "'service', 'worker', 'tlprobe.settings', 'tlprobe.submit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    light = subprocess.run([sys.executable, "-c", "import sys, tlprobe; print('tlprobe.client' in sys.modules)"],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    assert light.stdout.strip() == "False"  # loaded on first use of tlprobe.Client (PEP 562)


def test_the_rule_catches_a_violation(tmp_path, monkeypatch):
    # the checker itself: a relative import that climbs into another package is resolved and caught
    module = ROOT / "worker" / "science" / "_layer_probe.py"
    module.write_text("from ...service import main\nfrom ..tasks import run_gcm\n")
    try:
        assert set(_violations("worker/science", FORBIDDEN["worker/science"])) == {
            "worker/science/_layer_probe.py imports service", "worker/science/_layer_probe.py imports service.main",
            "worker/science/_layer_probe.py imports worker.tasks", "worker/science/_layer_probe.py imports worker.tasks.run_gcm"}
    finally:
        module.unlink()


def test_the_service_starts_without_numerics():
    code = ("import sys, service.main; service.main.create_app(); "
            "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'numba', 'worker') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
