"""The layers: ``service`` and ``worker`` never import each other, both build on the job layer
``tlprobe_server`` and the contract of the client distribution ``tlprobe``; the job layer stays free
of HTTP and numerics; the engine stays free of Redis, settings and queues; the service loads nothing
numerical at start-up; the client (the whole ``tlprobe`` package) speaks HTTP only and never imports
the server; neither package has an import cycle."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: package (a folder of the tree) -> top-level or dotted modules it must never import, anywhere in it
SERVER_ONLY = ["service", "worker", "devtools", "tlprobe_server"]
NUMERICS = ["numpy", "scipy", "matplotlib", "numba"]
FORBIDDEN = {
    "service": ["worker", "numba"],
    "worker": ["service"],
    "tlprobe_server": ["service", "worker", "devtools", "fastapi", "starlette", *NUMERICS],
    # the client distribution: it runs where no Redis, server or numerics are, and speaks HTTP only
    "client/tlprobe": [*SERVER_ONLY, "redis", "rq", "fastapi", "starlette", "uvicorn", *NUMERICS],
    "worker/science": ["redis", "rq", "service", "tlprobe_server", "worker.tasks", "worker.redis_arrays", "worker.main",
                       "worker.computations"],
}


def module_name(path: Path) -> str:
    """The dotted name of a module of the tree (the client distribution's ``client/`` is not part of it)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[1:] if parts[0] == "client" else parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved), at any depth."""
    package = ".".join(module_name(path).split(".")[:-1])
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


def test_importing_the_client_loads_no_redis_queue_server_or_numerics():
    code = ("import sys; from tlprobe import Client, AsyncClient; import tlprobe.cli; Client('http://127.0.0.1:9'); "
            "print(sorted(m for m in ('redis', 'rq', 'fastapi', 'starlette', 'uvicorn', 'numpy', 'scipy', 'matplotlib', "
            "'service', 'worker', 'tlprobe_server') if m in sys.modules))")
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
    # nor OpenTelemetry's tracing SDK and exporter: with tracing off (the default) tlprobe_server/tracing.py
    # imports nothing of it (FastAPI imports the API, opentelemetry-api, for its own optional telemetry, and
    # redis-py the SDK's metrics part, for its optional client metrics: docs/operations.md, "Tracing")
    code = ("import sys, service.main; service.main.create_app(); "
            "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'numba', 'worker', 'opentelemetry.sdk.trace', "
            "'opentelemetry.exporter') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def _graph(folder: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (any depth, type-checking imports included)."""
    files = {module_name(path): path for path in sorted((ROOT / folder).rglob("*.py"))}
    modules = {name.removesuffix(".__init__"): path for name, path in files.items()}
    return {name: {imported for imported in imported_modules(path) if imported in modules and imported != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("folder", ["client/tlprobe", "tlprobe_server"])
def test_no_import_cycle(folder):
    assert _cycle(_graph(folder)) is None


def test_the_cycle_rule_catches_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
