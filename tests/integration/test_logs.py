"""Logs on the live stack (real uvicorn, real RQ workers): one JSON-lines format for the API and
the workers, and a request id that follows a request from the API into its job's meta and every
worker line of the job."""

import json
import re
import secrets

import httpx2 as httpx
import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from devtools.stack import wait_for

pytestmark = pytest.mark.e2e


def lines(path) -> list[dict]:
    """Every line of a log file, each of which must be a JSON object in the one format."""
    parsed = []
    for text in path.read_text().splitlines():
        line = json.loads(text)  # a line that is not JSON fails the test here
        assert {"time", "level", "logger", "message", "process", "component"} <= line.keys(), line
        parsed.append(line)
    return parsed


def spectrum(salt: int) -> dict:
    """A GCM request no other test sends (a fresh job, not a cache hit)."""
    return {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0 + salt * 1e-9, "gamma": 1.0},
            "sample_complexities": [1.0], "solver": {"max_iterations": 200}}


def test_a_request_id_follows_the_request_into_its_job_and_every_worker_line(live):
    api, logs = live["api"].url, live["logs"]
    request_id = f"client-{secrets.token_hex(6)}"
    response = httpx.post(f"{api}/v1/gcm", json=spectrum(secrets.randbelow(10**6)),
                          headers={"X-Request-ID": request_id}, timeout=30)
    assert response.status_code == 202 and response.headers["x-request-id"] == request_id
    job_id = response.json()["job_id"]
    view = httpx.get(f"{api}/v1/jobs/{job_id}?wait=60", timeout=90).json()
    assert view["status"] == "finished"
    assert Job.fetch(job_id, connection=live["redis"], serializer=JSONSerializer).meta["request_id"] == request_id

    # the API's own line about the job ("enqueued ..."), in the format, under the request's id
    enqueued = wait_for(lambda: [line for line in lines(logs / "api.log")
                                 if line["message"] == f"enqueued {job_id}"], 10, "the API's enqueued line")
    assert enqueued[0]["request_id"] == request_id and enqueued[0]["component"] == "api"
    assert enqueued[0]["logger"] == "tlprobe_server.submission"

    # every worker line of the job carries both ids: the dequeue, RQ's own lines, the task's
    def job_lines():
        found = [line for line in lines(logs / "workers.log") if job_id in line["message"] or
                 line.get("job_id") == job_id]
        return found if any("finished in" in line["message"] for line in found) else None

    found = wait_for(job_lines, 10, "the worker's lines of the job")
    assert all(line["job_id"] == job_id and line["request_id"] == request_id for line in found), found
    assert all(line["component"] == "worker" for line in found)
    messages = " | ".join(line["message"] for line in found)
    assert "dequeued" in messages and "finished in" in messages and "Job OK" in messages, messages


def test_a_request_without_a_sensible_id_gets_one(live):
    api = live["api"].url
    generated = httpx.get(f"{api}/healthz", timeout=10).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    odd = httpx.get(f"{api}/healthz", headers={"X-Request-ID": "x" * 500}, timeout=10).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)  # too long: replaced, not echoed
    # errors carry it too: a 404, a 422
    assert "x-request-id" in httpx.get(f"{api}/v1/jobs/nonsense", timeout=10).headers
    refused = httpx.post(f"{api}/v1/gcm", json={}, headers={"X-Request-ID": "mine-1"}, timeout=10)
    assert refused.status_code == 422 and refused.headers["x-request-id"] == "mine-1"
