"""Finished results served as stored: the same bytes, ETag and 304, Cache-Control, gzip, the hot cache,
and cached submissions built around the stored bytes (no worker runs: results are written directly)."""

import gzip
import hashlib
import json
import time

import pytest
from fastapi.testclient import TestClient

from devtools.localredis import free_port
from service import stored as stored_module
from service.main import create_app
from service.stored import LRU, accepts_gzip, matches
from tests.requests import SPECTRUM
from tlprobe.kinds import KINDS
from tlprobe_server import keys, result_store
from tlprobe_server.settings import Settings

# stored as a worker stores it: pydantic's compact JSON, with enough numbers to be worth compressing
RESULT = {"kind": "gcm", "alphas": [0.5 * i for i in range(1, 60)], "test_error": [1 / i for i in range(1, 60)],
          "meta": {"note": "é ∞"}}


def store(redis, job_id: str, result: dict, ttl: int = 600) -> bytes:
    body = json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()
    result_store.put(redis, job_id, body.decode(), ttl)
    return body


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def get(client, path: str, **headers: str):
    """GET without compression unless asked (httpx asks for gzip by default, and decodes it)."""
    return client.get(path, headers={"Accept-Encoding": "identity", **{k.replace("_", "-"): v for k, v in headers.items()}})


def gcm_id(client) -> str:
    return client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]


def test_a_result_is_served_as_the_bytes_stored_with_an_etag_and_a_long_cache_control(client, redis, settings):
    job_id = gcm_id(client)
    body = store(redis, job_id, RESULT)
    response = get(client, f"/v1/jobs/{job_id}/result")
    assert response.status_code == 200 and response.content == body  # byte for byte, not re-serialised
    assert response.headers["content-type"] == "application/json" and response.json() == RESULT
    assert response.headers["etag"] == etag_of(body)
    assert response.headers["cache-control"] == f"public, max-age={settings.result_ttl}, immutable"
    assert response.headers["vary"] == "Accept-Encoding" and "content-encoding" not in response.headers


def test_if_none_match_with_the_current_etag_is_304_without_a_body(client, redis):
    job_id = gcm_id(client)
    body = store(redis, job_id, RESULT)
    etag = etag_of(body)
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = get(client, f"/v1/jobs/{job_id}/result", If_None_Match=header)
        assert response.status_code == 304 and response.content == b"", header
        assert response.headers["etag"] == etag and "immutable" in response.headers["cache-control"]
    stale = get(client, f"/v1/jobs/{job_id}/result", If_None_Match='"0123"')
    assert stale.status_code == 200 and stale.content == body


def test_gzip_when_accepted_decompresses_to_the_stored_bytes(client, redis):
    job_id = gcm_id(client)
    body = store(redis, job_id, RESULT)
    assert len(body) >= stored_module.GZIP_MIN_BYTES
    with client.stream("GET", f"/v1/jobs/{job_id}/result", headers={"Accept-Encoding": "gzip, deflate"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip" and response.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(raw) == body and len(raw) < len(body) / 2
    assert response.headers["etag"] == etag_of(body)[:-1] + '-gzip"'  # another representation, another tag
    again = client.get(f"/v1/jobs/{job_id}/result",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    for refused in ("identity", "gzip;q=0", "br", "*;q=0"):
        plain = get(client, f"/v1/jobs/{job_id}/result", Accept_Encoding=refused)
        assert "content-encoding" not in plain.headers and plain.content == body, refused


def test_small_bodies_are_not_compressed(client, redis):
    job_id = gcm_id(client)
    body = store(redis, job_id, {"kind": "gcm", "answer": 42})
    response = client.get(f"/v1/jobs/{job_id}/result", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers and response.content == body


def test_a_phase_diagram_is_served_as_stored_and_revalidated_while_incomplete(client, redis):
    diagram_id = client.post("/v1/phase-diagrams", json={}).json()["job_id"]
    # failed cells: a resubmission replaces the diagram under the same id, so clients must revalidate
    incomplete = {"kind": "phase_diagram", "complete": False, "gain": [[0.1, None]]}
    body = json.dumps(incomplete, indent=1).encode()  # whitespace does not hide it
    result_store.put(redis, diagram_id, body.decode(), 600)
    response = get(client, f"/v1/phase-diagrams/{diagram_id}")
    assert response.content == body and response.headers["cache-control"] == "public, no-cache"
    assert get(client, f"/v1/phase-diagrams/{diagram_id}", If_None_Match=etag_of(body)).status_code == 304
    # recomputed: the new bytes have a new tag, and are for good
    complete = store(redis, diagram_id, {"kind": "phase_diagram", "complete": True, "gain": [[0.1, -0.2]]})
    response = get(client, f"/v1/phase-diagrams/{diagram_id}", If_None_Match=etag_of(body))
    assert response.status_code == 200 and response.content == complete and "immutable" in response.headers["cache-control"]
    assert get(client, f"/v1/phase-diagrams/{diagram_id}", If_None_Match=etag_of(complete)).status_code == 304


def test_reads_protected_by_tokens_are_privately_cacheable(settings, redis):
    protected = Settings(redis_url=settings.redis_url, api_tokens="s3cret", protect_reads=True)
    with TestClient(create_app(protected)) as client:
        auth = {"Authorization": "Bearer s3cret"}
        job_id = client.post("/v1/gcm", json=SPECTRUM, headers=auth).json()["job_id"]
        store(redis, job_id, RESULT)
        assert get(client, f"/v1/jobs/{job_id}/result").status_code == 401
        response = client.get(f"/v1/jobs/{job_id}/result", headers=auth)
        assert response.status_code == 200 and response.headers["cache-control"].startswith("private, ")


def test_a_cached_submission_carries_the_stored_bytes_in_the_submission(client, redis):
    first = client.post("/v1/gcm", json=SPECTRUM)
    job_id = first.json()["job_id"]
    body = store(redis, job_id, RESULT)
    cached = client.post("/v1/gcm", json=SPECTRUM, headers={"Accept-Encoding": "identity"})
    assert cached.status_code == 200 and body in cached.content  # spliced in as stored
    expected = {**first.json(), "status": "finished", "cached": True, "result": RESULT,
                "created_at": None, "started_at": None, "ended_at": None, "progress": None, "error": None}
    assert cached.json() == expected
    with client.stream("POST", "/v1/gcm", json=SPECTRUM, headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip" and json.loads(gzip.decompress(raw)) == expected


def test_an_incomplete_diagram_is_not_a_cache_hit(client, redis):
    diagram_id = client.post("/v1/phase-diagrams", json={}).json()["job_id"]
    store(redis, diagram_id, {"kind": "phase_diagram", "complete": False})
    again = client.post("/v1/phase-diagrams", json={})
    assert again.status_code == 202 and not again.json()["cached"]  # its failed cells are retried


def test_the_hot_cache_keeps_final_results_for_seconds_and_nothing_else(settings, redis, monkeypatch):
    job_id = KINDS["gcm"].prefix + "-" + "a" * 40
    diagram_id = "pd-" + "b" * 40
    with TestClient(create_app(settings)) as client:
        store(redis, job_id, RESULT)
        store(redis, diagram_id, {"kind": "phase_diagram", "complete": False})
        assert get(client, f"/v1/jobs/{job_id}/result").status_code == 200
        assert get(client, f"/v1/phase-diagrams/{diagram_id}").status_code == 200
        redis.delete(keys.result(job_id), keys.result(diagram_id))
        assert get(client, f"/v1/jobs/{job_id}/result").json() == RESULT  # final: served from memory
        assert get(client, f"/v1/phase-diagrams/{diagram_id}").status_code == 404  # not final: never kept
        later = time.monotonic() + stored_module.HOT_SECONDS + 1
        monkeypatch.setattr(stored_module.time, "monotonic", lambda: later)
        assert get(client, f"/v1/jobs/{job_id}/result").status_code == 404  # expired: read from Redis again
    off = Settings(redis_url=settings.redis_url, hot_results_bytes=0)
    with TestClient(create_app(off)) as client:
        store(redis, job_id, RESULT)
        assert get(client, f"/v1/jobs/{job_id}/result").status_code == 200
        redis.delete(keys.result(job_id))
        assert get(client, f"/v1/jobs/{job_id}/result").status_code == 404


def test_reads_with_redis_down_are_503():
    nobody = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout=0.5)
    with TestClient(create_app(nobody), raise_server_exceptions=False) as client:
        for path in ("/v1/jobs/lc-" + "0" * 40 + "/result", "/v1/phase-diagrams/pd-" + "0" * 40):
            response = client.get(path)
            assert response.status_code == 503 and "Redis is unreachable" in response.json()["detail"], path


def test_lru_drops_the_least_recently_used_beyond_its_bytes():
    lru = LRU(10)
    lru.put("a", b"1234", "A")
    lru.put("b", b"1234", "B")
    assert lru.get("a") == "A"  # now b is the least recently used
    lru.put("c", b"1234", "C")
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == ("A", None, "C") and lru.size == 8
    lru.put("big", b"x" * 11, "too big")
    assert lru.get("big") is None and lru.size == 8
    assert LRU(0).get("a") is None


@pytest.mark.parametrize("header, wanted", [
    (None, False), ("", False), ("gzip", True), ("GZIP", True), ("deflate, gzip;q=0.5", True), ("gzip;q=0", False),
    ("*", True), ("*;q=0", False), ("br, *", True), ("gzip;q=0, *", False), ("identity", False), ("gzip;q=abc", False),
])
def test_accept_encoding(header, wanted):
    assert accepts_gzip(header) is wanted


def test_if_none_match_comparison():
    assert matches('"a"', '"a"') and matches('W/"a"', '"a"') and matches('"b", "a"', '"x"', '"a"') and matches("*", '"a"')
    assert not matches(None, '"a"') and not matches('"b"', '"a"') and not matches('"a', '"a"')
