"""The client installs alone: the README's client install command in a fresh virtualenv brings the
client and the command line, their few dependencies (version ranges), and nothing of the server; the
installed client then computes a learning curve on the live stack."""

import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
#: what the client must never bring: the numerics, the queue, the web server
SERVER_PACKAGES = {"numpy", "scipy", "numba", "llvmlite", "matplotlib", "fastapi", "starlette", "uvicorn", "redis", "rq",
                   "tlprobe-server"}
SERVER_MODULES = {"service", "worker", "devtools", "tlprobe_server"}


def readme_install_command() -> list[str]:
    """The README's one command that installs the client from a checkout."""
    found = re.findall(r"^\s*(pip install \./client)\s*(?:#.*)?$", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(found) == 1, "the README gives one client install command"
    return found[0].split()


def test_the_readme_command_installs_the_client_alone_and_it_works(live, tmp_path):
    env_dir = tmp_path / "notebook-env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    command = readme_install_command()
    checkout = tmp_path / "checkout"  # the command as given, from a copy: pip builds in the folder it installs
    shutil.copytree(ROOT / "client", checkout / "client", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    install = subprocess.run([str(python), "-m", *command, "--quiet", "--disable-pip-version-check"], cwd=checkout,
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]

    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                            check=True)
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert "tlprobe" in installed and {"pydantic", "httpx2", "tqdm"} <= installed
    assert not installed & SERVER_PACKAGES, installed & SERVER_PACKAGES
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    assert not {path.name for path in site.iterdir()} & SERVER_MODULES

    help_text = subprocess.run([str(env_dir / "bin" / "tlprobe"), "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "submit" in help_text.stdout and "exit codes:" in help_text.stdout

    # a learning curve round trip with the installed client (its own interpreter: nothing of this checkout)
    code = ("import json, sys; from tlprobe import Client; "
            "curve = Client(sys.argv[1]).learning_curve({'source': {'latent_dim': 5, 'input_dim': 20}, "
            "'network': {'hidden_units': 10, 'n_samples': 100, 'epochs': 20}, 'alphas': [1.0, 2.0], "
            "'theory': {'mc_samples': 1000}, 'simulation': None}); "
            "print(json.dumps({'type': type(curve).__name__, 'rows': len(curve.rows()), "
            "'tf': curve.curves['tf'].theory.test_error, 'file': __import__('tlprobe').__file__}))")
    run = subprocess.run([str(python), "-c", code, live["api"].url], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    answer = json.loads(run.stdout)
    assert answer["type"] == "LearningCurve" and answer["rows"] == 3 * 2
    assert answer["file"].startswith(str(site)) and all(0.0 < error < 0.5 for error in answer["tf"])
    assert sys.prefix != str(env_dir)
