"""The tutorial notebook (examples/tutorial.ipynb) runs from top to bottom against the live stack, in a
real Jupyter kernel of this virtualenv, and shows its pictures inline."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "tutorial.ipynb"


def execute(url: str, monkeypatch, timeout: int = 600) -> nbformat.NotebookNode:
    """The notebook run in a fresh kernel talking to ``url`` (outputs replaced by this run's)."""
    monkeypatch.setenv("TLPROBE_URL", url)  # the kernel inherits this process's environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
                   ).execute()
    return notebook


def test_the_tutorial_runs_against_the_service_and_shows_pictures(live, monkeypatch):
    notebook = execute(live["api"].url, monkeypatch)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    pictures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(pictures) == 3  # the learning curve, the phase diagram, the curve on datasets
    tables = [output for output in outputs if "text/html" in output.get("data", {})]
    assert len(tables) >= 2 and all("<table" in output["data"]["text/html"] for output in tables)
