"""The documentation names things that exist: every file path and module it cites in backticks is in
the tree, and the README's example answer carries today's versions."""

import json
import re
from pathlib import Path

import pytest

from tlprobe.versions import SCIENCE_VERSION, __version__

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
#: where a cited path starts; the client's package lives in client/
TOPS = ("tlprobe/", "tlprobe_server/", "service/", "worker/", "devtools/", "tests/", "bench/", "examples/", "docs/",
        "client/", "deploy/", "openapi/", "requirements/")
PATH = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|md|yml|yaml|toml|ipynb|json|txt|cff|html|js|css))(?::[A-Za-z_]+)?`")
HOSTS = (".org", ".com", ".net", ".io", ".svc", ".local")  # host names such as tlprobe.example.org
MODULE = re.compile(r"`((?:tlprobe|tlprobe_server|service|worker|devtools|bench)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def located(path: str) -> Path:
    return ROOT / ("client/" + path if path.startswith("tlprobe/") else path)


def module_exists(dotted: str) -> bool:
    """The module a dotted name starts with exists (the rest may be an attribute of it)."""
    parts = dotted.split(".")
    base = ROOT / "client" if parts[0] == "tlprobe" else ROOT
    for end in range(len(parts), 1, -1):
        candidate = base.joinpath(*parts[:end])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_cited_files_and_modules_exist(doc):
    text = doc.read_text()
    missing = [path for path in PATH.findall(text) if path.startswith(TOPS) and not located(path).exists()]
    missing += [name for name in MODULE.findall(text) if not module_exists(name) and not name.endswith(HOSTS)]
    assert missing == []


def test_the_rule_catches_a_stale_citation():
    assert not module_exists("tlprobe.submit") and not located("tlprobe/submit.py").exists()
    assert module_exists("tlprobe_server.submission.submit") and module_exists("tlprobe.kinds.KINDS")


def test_the_readme_example_answer_has_todays_versions():
    meta = re.search(r'"meta": (\{"package_version": "[^"]+", "science_version": "[^"]+")', (ROOT / "README.md").read_text())
    assert meta is not None
    assert json.loads(meta.group(1) + "}") == {"package_version": __version__, "science_version": SCIENCE_VERSION}


def test_the_citation_file_cites_this_version_and_the_seed_paper():
    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["version"] == __version__
    paper = citation["preferred-citation"]
    assert paper["doi"] == "10.1088/2632-2153/ac4f3f" and paper["authors"][0]["family-names"] == "Gerace"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License") and citation["license"] == "MIT"
