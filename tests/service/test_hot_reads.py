"""The hot read path answers exactly as the routes do: the same status, headers (in order) and bytes,
the same refusals, the same metrics. Compared request by request with an API whose hot cache is off
(every read goes through FastAPI to the route), on one Redis, with real results written directly."""

import gzip
import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from service.main import create_app
from service.routes import jobs, phase_diagrams
from tlprobe_server import keys, result_store
from tlprobe_server.settings import Settings

LC_ID = "lc-" + "1" * 40
PD_ID = "pd-" + "2" * 40
GCM_ID = "gcm-" + "3" * 40
RESULT = {"kind": "learning_curve", "alphas": [0.25 * i for i in range(1, 80)], "test_error": [1 / i for i in range(1, 80)]}
DIAGRAM = {"kind": "phase_diagram", "complete": True, "gain": [[0.1 * i, -0.2 * i] for i in range(60)]}
SMALL = {"kind": "gcm", "answer": 42}  # below the gzip threshold


def store(redis, job_id: str, result: dict) -> bytes:
    body = json.dumps(result, separators=(",", ":")).encode()
    result_store.put(redis, job_id, body.decode(), 600)
    return body


def counting(monkeypatch) -> list[str]:
    """Job ids the two routes were called for (a request the hot path answered never gets there)."""
    calls = []
    for module in (jobs, phase_diagrams):
        original = module.read_result

        async def read_result(request, job_id, original=original):
            calls.append(job_id)
            return await original(request, job_id)
        monkeypatch.setattr(module, "read_result", read_result)
    return calls


def answer(client: TestClient, path: str, headers: dict[str, str]):
    with client.stream("GET", path, headers={"Accept-Encoding": "identity", "X-Request-ID": "req-1", **headers}) as r:
        return r.status_code, list(r.headers.raw), b"".join(r.iter_raw())


def http_counts(client: TestClient) -> list[str]:
    lines = generate_latest(client.app.state.metrics.registry).decode().splitlines()
    return sorted(line for line in lines if line.startswith("tlprobe_http_requests_total"))


def requests_to_compare(bodies: dict[str, bytes]) -> list[tuple[str, dict[str, str]]]:
    etag = '"' + result_store.digest(bodies[LC_ID]) + '"'
    cases = []
    for path in (f"/v1/jobs/{LC_ID}/result", f"/v1/jobs/{PD_ID}/result", f"/v1/phase-diagrams/{PD_ID}",
                 f"/v1/jobs/{GCM_ID}/result"):
        cases += [(path, {}), (path, {"Accept-Encoding": "gzip, deflate"}), (path, {"Accept-Encoding": "gzip;q=0"}),
                  (path, {"Accept-Encoding": "br, *"})]
    lc = f"/v1/jobs/{LC_ID}/result"
    cases += [(lc, {"If-None-Match": etag}), (lc, {"If-None-Match": f"W/{etag}, \"x\""}),
              (lc, {"If-None-Match": etag[:-1] + '-gzip"', "Accept-Encoding": "gzip"}), (lc, {"If-None-Match": '"0"'}),
              (lc, {"If-None-Match": "*"}), (lc, {"X-Request-ID": "not a valid id!"}),
              (f"/v1/phase-diagrams/{PD_ID}", {"If-None-Match": '"' + result_store.digest(bodies[PD_ID]) + '"'})]
    return cases


def same_id(answered, made_up: bool):
    """The answer with a made-up request id (checked: 32 hex digits) replaced by a placeholder."""
    status, headers, body = answered
    if not made_up:
        return answered
    request_id = dict(headers)[b"x-request-id"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    return status, [(k, b"made-up" if k == b"x-request-id" else v) for k, v in headers], body


@pytest.mark.parametrize("tokens", [{}, {"api_tokens": "s3cret,other", "protect_reads": True},
                                    {"api_tokens": "s3cret", "protect_reads": False}])
def test_the_hot_path_answers_byte_for_byte_as_the_route(settings, redis, monkeypatch, tokens):
    bodies = {LC_ID: store(redis, LC_ID, RESULT), PD_ID: store(redis, PD_ID, DIAGRAM), GCM_ID: store(redis, GCM_ID, SMALL)}
    hot_settings = Settings(redis_url=settings.redis_url, **tokens)
    cold_settings = Settings(redis_url=settings.redis_url, hot_results_bytes=0, **tokens)  # every read by the route
    auths = [{"Authorization": "Bearer s3cret"}, {"Authorization": "bearer other"}, {}, {"Authorization": "Bearer nope"}]
    calls = counting(monkeypatch)
    statuses = set()
    with TestClient(create_app(hot_settings)) as hot, TestClient(create_app(cold_settings)) as cold:
        for job_id in bodies:  # fill the hot cache (the same requests to both, for the metrics below)
            for client in (hot, cold):
                assert answer(client, f"/v1/jobs/{job_id}/result", auths[0])[0] == 200
        calls.clear()
        for path, headers in requests_to_compare(bodies):
            for auth in auths:
                request = {**headers, **auth}
                made_up = "X-Request-ID" in headers
                before = len(calls)
                expected = same_id(answer(cold, path, request), made_up)
                refused = expected[0] == 401  # by the route, before it reads anything
                assert len(calls) == before + (not refused)  # the reference went through the route
                before = len(calls)
                got = same_id(answer(hot, path, request), made_up)
                assert got == expected, (path, request)
                assert len(calls) == before, (path, request)  # answered by the hot path (or refused)
                statuses.add(got[0])
        assert statuses == ({200, 304, 401} if tokens.get("protect_reads") else {200, 304})
        # gzip from the hot path decompresses to the stored bytes
        status, headers, raw = answer(hot, f"/v1/jobs/{LC_ID}/result", {"Accept-Encoding": "gzip", **auths[0]})
        assert dict(headers)[b"content-encoding"] == b"gzip" and gzip.decompress(raw) == bodies[LC_ID]
        answer(cold, f"/v1/jobs/{LC_ID}/result", {"Accept-Encoding": "gzip", **auths[0]})
        # the same requests, counted under the same routes and statuses
        assert http_counts(hot) == http_counts(cold)
        assert any("/v1/phase-diagrams/{diagram_id}" in line for line in http_counts(hot))


def test_what_the_hot_path_leaves_to_the_stack(settings, redis, monkeypatch):
    """Misses, other methods, query strings, bodies and other paths reach the routes as before."""
    store(redis, LC_ID, RESULT)
    store(redis, PD_ID, DIAGRAM)
    calls = counting(monkeypatch)
    with TestClient(create_app(Settings(redis_url=settings.redis_url, max_body_bytes=10))) as client:
        assert client.get(f"/v1/jobs/{LC_ID}/result").status_code == 200
        assert client.get(f"/v1/phase-diagrams/{PD_ID}").status_code == 200
        assert calls == [LC_ID, PD_ID]
        calls.clear()
        head = client.head(f"/v1/jobs/{LC_ID}/result")
        assert head.status_code == 405 and head.headers["x-request-id"]  # the routes answer GET only
        query = client.get(f"/v1/phase-diagrams/{PD_ID}?format=json")  # parsed by the route (csv, json)
        assert query.status_code == 200 and query.json() == DIAGRAM
        too_large = client.request("GET", f"/v1/jobs/{LC_ID}/result", content=b"x" * 11)
        assert too_large.status_code == 413 and too_large.headers["x-request-id"]  # the body limit still holds
        assert client.get(f"/v1/phase-diagrams/{LC_ID}").status_code == 404  # not a diagram id
        slash = client.get(f"/v1/jobs/{LC_ID}/result/", follow_redirects=False)
        assert slash.status_code == 307 and slash.headers["location"].endswith(f"/v1/jobs/{LC_ID}/result")
        assert calls == [PD_ID]  # the query only: a wrong kind is refused before reading, a body before the route
        calls.clear()
        redis.delete(keys.result(LC_ID))
        assert client.get(f"/v1/jobs/{LC_ID}/result").status_code == 200 and calls == []  # hot, as before
