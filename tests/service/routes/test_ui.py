"""The dashboard's files: served from the package with a policy that forbids anything from elsewhere,
referring to nothing outside the service, and shipped in the wheel."""

import re
import tomllib
from pathlib import Path

import pytest

from service.routes.ui import POLICY

ROOT = Path(__file__).resolve().parents[3]
ASSETS = sorted(p.name for p in (ROOT / "service" / "ui").iterdir())


def test_the_page_and_its_assets_are_served_with_a_strict_policy(client):
    page = client.get("/ui")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == POLICY and "default-src 'none'" in POLICY
    referenced = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert set(referenced) == {"/ui/favicon.svg", "/ui/style.css", "/ui/app.js", "/docs"}
    for path in referenced[:-1] if referenced[-1] == "/docs" else referenced:
        if path.startswith("/ui/"):
            assert client.get(path).status_code == 200, path
    script = client.get("/ui/app.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/ui/style.css").headers["content-type"] == "text/css; charset=utf-8"


def test_nothing_is_loaded_from_another_machine():
    for name in ASSETS:
        text = re.sub(r'xmlns="[^"]*"', "", (ROOT / "service" / "ui" / name).read_text())  # a namespace, not a fetch
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name  # no CDN, no font service


@pytest.mark.parametrize("path", ["/ui/nope.js", "/ui/app.py", "/ui/..%2Fmain.py", "/ui/%2E%2E/routes/ui.py"])
def test_only_the_dashboard_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_the_root_leads_to_the_dashboard_and_the_api_schema_is_unchanged(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/ui"
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/ui")]


def test_the_package_ships_the_dashboard_and_the_console_script():
    # what setuptools reads to build the wheel (which then holds exactly these files)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["service"]
    assert {path.name for pattern in patterns for path in (ROOT / "service").glob(pattern)} == set(ASSETS)
    client = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())  # the command line comes with the client
    assert client["project"]["scripts"] == {"tlprobe": "tlprobe.cli:main"} and "scripts" not in config["project"]
