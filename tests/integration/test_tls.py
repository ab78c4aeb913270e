"""TLS in front of the API as docker-compose.public.yml deploys it: the repository's Caddyfile run by
Debian's caddy (``make test`` installs it: devtools/need-program) with its own internal CA, proxying to
a real uvicorn with tokens on the live stack. The Python client, trusting only that CA, submits and
reads a result over https; plain http only redirects; the token never reaches Caddy's log."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from devtools.localredis import free_port
from devtools.stack import wait_for
from tests.integration.conftest import TOKENS
from tests.requests import SPECTRUM
from tlprobe import Client
from tlprobe.errors import Unauthorized
from tlprobe.results import GCMCurve

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent.parent
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"


@pytest.fixture
def caddy(protected_api, tmp_path):
    binary = shutil.which("caddy")
    if binary is None:
        pytest.fail("Debian's caddy is missing: apt-get install caddy (make test and .ci/run install it)")
    http_port, https_port = free_port(), free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "TLPROBE_DOMAIN": "localhost",
           "TLPROBE_HTTP_PORT": str(http_port), "TLPROBE_HTTPS_PORT": str(https_port), "TLPROBE_CADDY_ADMIN": "off",
           "TLPROBE_UPSTREAM": f"127.0.0.1:{protected_api.port}"}
    log = tmp_path / "caddy.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    try:
        wait_for(lambda: root.exists() and httpx.get(f"https://localhost:{https_port}/healthz", verify=_trusting(root),
                                                     timeout=2).status_code == 200, 30, "caddy")
        yield {"url": f"https://localhost:{https_port}", "http": f"http://localhost:{http_port}", "root": root,
               "log": log}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _trusting(root: Path):
    import ssl

    return ssl.create_default_context(cafile=str(root))


def test_the_client_submits_over_https_through_caddy_and_tokens_stay_off_the_wire_in_clear(caddy):
    url, root = caddy["url"], caddy["root"]
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/healthz", timeout=5)  # not a certificate the system trusts: only Caddy's CA
    with Client(url, TOKENS[0], verify=str(root)) as client:
        curve = client.gcm({"spectrum": {**SPECTRUM["spectrum"], "rho": 1.7}})  # submitted, waited for, read
        assert isinstance(curve, GCMCurve) and len(curve.test_error) == len(curve.sample_complexity) > 0
        assert client.job(curve.meta["job_id"]).status.value == "finished"
    with Client(url, verify=str(root)) as anonymous, pytest.raises(Unauthorized):
        anonymous.datasets()  # the API's own refusals come through the proxy unchanged

    redirect = httpx.get(f"{caddy['http']}/v1/datasets", headers={"Authorization": "Bearer x"}, timeout=5)
    # to https (Caddy 2.6 names no port in it: in the compose deployment, 443)
    assert redirect.status_code in (301, 308) and redirect.headers["location"].startswith("https://localhost")
    assert redirect.headers["location"].endswith("/v1/datasets") and not redirect.content

    time.sleep(0.5)  # the access log is written as each request ends
    lines = [json.loads(line) for line in caddy["log"].read_text().splitlines() if line.startswith("{")]
    proxied = [line for line in lines if line.get("logger", "").startswith("http.log.access")]
    submitted = [line for line in proxied if line["request"]["uri"].startswith("/v1/gcm")]
    assert submitted and submitted[0]["request"]["proto"].startswith("HTTP/") and submitted[0]["request"]["tls"]
    assert submitted[0]["request"]["headers"]["Authorization"] == []  # the header is logged, its value left out
    assert TOKENS[0] not in caddy["log"].read_text()
