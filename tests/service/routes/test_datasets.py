"""POST/GET/DELETE /v1/datasets against a real Redis with no worker: content-derived ids, one stored
copy, every refusal with its status and reason, and learning-curve submissions that read datasets."""

import io
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rq import Queue

from service.main import create_app
from tests.datasets import arrays, curve_on, npz, upload, uploaded_to_check_against
from tlprobe_server import keys
from tlprobe_server.settings import Settings

OCTET = {"content-type": "application/octet-stream"}


def dataset_keys(redis) -> list[bytes]:
    return redis.keys(keys.dataset("ds-*"))


def test_upload_twice_one_id_one_stored_copy(client, redis):
    inputs, labels = arrays()
    first = client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels), headers=OCTET)
    assert first.status_code == 201
    body = first.json()
    assert body["dataset_id"].startswith("ds-") and len(body["dataset_id"]) == 43
    # the description, against numpy on the uploaded arrays
    assert (body["samples"], body["input_dim"]) == (60, 5)
    assert body["positives"] == int(np.sum(labels > 0)) and body["negatives"] == int(np.sum(labels < 0))
    assert body["positive_fraction"] == pytest.approx(np.mean(labels > 0), abs=1e-15)
    means, scales = inputs.mean(axis=0), inputs.std(axis=0)
    assert body["feature_mean"] == pytest.approx({"min": means.min(), "median": np.median(means), "max": means.max()},
                                                 rel=1e-12)
    assert body["feature_scale"] == pytest.approx({"min": scales.min(), "median": np.median(scales), "max": scales.max()},
                                                  rel=1e-12)
    headers = len(b'{"dtype": "<f8", "shape": [60, 5]}\n') + len(b'{"dtype": "|i1", "shape": [60]}\n')
    assert body["constant_features"] == 0 and body["size_bytes"] == 60 * 5 * 8 + 60 + headers
    assert 0 < body["expires_in"] <= 30 * 86400 and body["links"]["self"] == f"/v1/datasets/{body['dataset_id']}"
    # the same data again, and in other encodings (float32 inputs exact in float32, 0/1 labels, JSON): one id
    again = client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels), headers=OCTET)
    assert again.status_code == 200 and again.json()["dataset_id"] == body["dataset_id"]
    assert again.json()["created_at"] == body["created_at"]
    as_json = client.post("/v1/datasets", json={"inputs": inputs.tolist(), "labels": (labels > 0).astype(int).tolist()})
    assert as_json.status_code == 200 and as_json.json()["dataset_id"] == body["dataset_id"]
    assert len(dataset_keys(redis)) == 1
    assert client.get("/v1/datasets").json()["total"] == 1
    # a different labelling is a different dataset
    other = client.post("/v1/datasets", content=npz(inputs=inputs, labels=-labels), headers=OCTET)
    assert other.status_code == 201 and other.json()["dataset_id"] != body["dataset_id"]


def test_float32_and_integer_inputs_are_the_same_data_as_float64(client):
    pixels = np.random.default_rng(1).integers(0, 17, size=(30, 4)).astype(np.uint8)
    labels = np.arange(30) % 2
    ids = {upload(client, pixels.astype(dtype), labels)["dataset_id"] for dtype in (np.uint8, np.float32, np.float64)}
    assert len(ids) == 1


def test_get_list_paginated_and_delete(client):
    ids = [upload(client, *arrays(seed=seed))["dataset_id"] for seed in range(3)]
    assert client.get(f"/v1/datasets/{ids[0]}").json()["dataset_id"] == ids[0]
    first = client.get("/v1/datasets", params={"limit": 2}).json()
    second = client.get("/v1/datasets", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 3
    assert [d["dataset_id"] for d in first["items"] + second["items"]] == ids[::-1]  # newest first
    assert client.delete(f"/v1/datasets/{ids[1]}").status_code == 204
    assert client.get(f"/v1/datasets/{ids[1]}").status_code == 404
    assert client.delete(f"/v1/datasets/{ids[1]}").status_code == 404
    assert client.get("/v1/datasets").json()["total"] == 2
    assert client.get("/v1/datasets/ds-nothex").status_code == 404
    assert client.get("/v1/datasets", params={"limit": 101}).status_code == 422


def refusal(client, content, *, content_type="application/octet-stream", status=422) -> str:
    response = client.post("/v1/datasets", content=content, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else json.dumps(detail)


def test_every_refusal_of_the_content_names_its_reason(client, redis):
    inputs, labels = arrays()
    nan = inputs.copy()
    nan[3, 2] = np.nan
    cases = [
        (npz(inputs=inputs), "missing array 'labels'"),
        (npz(labels=labels), "missing array 'inputs'"),
        (npz(inputs=inputs, labels=labels, extra=labels), "unexpected arrays ['extra']"),
        (npz(inputs=inputs[0], labels=labels), "inputs must be an n x N matrix, got shape (5,)"),
        (npz(inputs=inputs, labels=labels[:, None]), "labels must be a vector of n labels"),
        (npz(inputs=inputs, labels=labels[:50]), "50 labels for 60 input rows"),
        (npz(inputs=inputs.astype(complex), labels=labels), "dtype complex128: expected real numbers"),
        (npz(inputs=inputs.astype(str), labels=labels), "expected real numbers"),
        (npz(inputs=nan, labels=labels), "1 NaN or infinite value(s), the first at row 3, column 2"),
        (npz(inputs=inputs, labels=np.where(labels > 0, np.inf, -1.0)), "labels contain NaN or infinite values"),
        (npz(inputs=inputs, labels=np.ones(60)), "all 60 labels are +1: a single class cannot be learned"),
        (npz(inputs=inputs, labels=np.zeros(60)), "all 60 labels are -1 (or 0)"),
        (npz(inputs=inputs, labels=labels * 2), "labels must all be in {-1, +1} or all in {0, 1}; found [-2.0, 2.0]"),
        (npz(inputs=inputs, labels=np.where(labels > 0, 1, 0) - (np.arange(60) == 1)),  # {-1, 0, 1}
         "labels must all be in {-1, +1} or all in {0, 1}"),
        (npz(inputs=inputs[:1], labels=labels[:1]), "1 sample(s): at least 2 are needed"),
        (npz(inputs=np.array([[{"a": 1}]] * 4, dtype=object).reshape(2, 2), labels=np.array([0, 1])),
         "object array: refused (reading it would need unpickling"),
        (pickle.dumps({"inputs": inputs, "labels": labels}), "the body is a pickle: refused"),
        (npz(inputs=inputs, labels=labels)[:200], "malformed file"),
        (b"PK\x03\x04" + b"\x00" * 40, "malformed file"),
        (b"inputs,labels\n1,2\n", "malformed file: not an .npz archive"),
        (_npy(inputs), "single .npy array"),
    ]
    for content, reason in cases:
        assert reason in refusal(client, content), reason
    assert dataset_keys(redis) == []


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_json_uploads_are_checked_like_files(client):
    assert "rows have different lengths" in refusal(client, json.dumps({"inputs": [[1, 2], [3]], "labels": [0, 1]}),
                                                    content_type="application/json")
    assert "Field required" in refusal(client, json.dumps({"inputs": [[1.0], [2.0]]}), content_type="application/json")
    assert "Invalid JSON" in refusal(client, b"{not json", content_type="application/json")
    assert "finite" in refusal(client, '{"inputs": [[NaN], [1]], "labels": [0, 1]}', content_type="application/json")
    assert "not accepted" in refusal(client, b"1,2", content_type="text/csv", status=415)
    assert "not accepted" in refusal(client, b"1,2", content_type="", status=415)


def test_bounds_are_settings_and_refusals_name_them(unit_url, redis):
    settings = Settings(redis_url=unit_url, workers=1, max_dataset_upload_bytes=20_000, max_body_bytes=3000,
                        max_dataset_samples=100, max_dataset_input_dim=8, max_dataset_bytes=6000,
                        max_datasets_bytes=9000)
    with TestClient(create_app(settings)) as client:
        inputs, labels = arrays(samples=60, input_dim=5)
        assert "TLPROBE_MAX_DATASET_UPLOAD_BYTES" in refusal(client, b"0" * 20_001, status=413)
        big_json = json.dumps({"inputs": inputs.tolist(), "labels": labels.tolist()})
        assert "TLPROBE_MAX_BODY_BYTES" in refusal(client, big_json, content_type="application/json", status=413)
        assert "101 samples: at most 100" in refusal(client, npz(inputs=np.zeros((101, 2)), labels=np.arange(101) % 2))
        assert "N = 9: must be 1 .. 8" in refusal(client, npz(inputs=np.zeros((10, 9)), labels=np.arange(10) % 2))
        too_big = npz(inputs=np.zeros((100, 8)), labels=np.arange(100) % 2)  # 6,400 + 100 bytes stored
        assert "TLPROBE_MAX_DATASET_BYTES" in refusal(client, too_big, status=413)
        first = upload(client, inputs, labels)  # 2,527 bytes stored
        upload(client, *arrays(samples=60, input_dim=5, seed=1))
        upload(client, *arrays(samples=60, input_dim=5, seed=2))  # 7,581 of 9,000 in use
        reason = refusal(client, npz(inputs=arrays(seed=3)[0], labels=labels), status=413)
        assert "would exceed the total dataset storage of 9000 bytes (7581 in use)" in reason
        assert client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels), headers=OCTET).status_code == 200
        assert client.delete(f"/v1/datasets/{first['dataset_id']}").status_code == 204
        upload(client, arrays(seed=3)[0], labels)  # room again
        assert client.get("/v1/datasets").json()["total"] == 3


def test_an_expired_dataset_leaves_the_list_and_frees_its_storage(client, redis):
    described = upload(client, *arrays())
    assert client.get("/v1/datasets").json()["total"] == 1
    redis.delete(keys.dataset(described["dataset_id"]))  # what expiry does
    assert client.get("/v1/datasets").json() == {"total": 0, "offset": 0, "limit": 20, "items": []}
    assert redis.hlen(keys.datasets_bytes()) == 0


def test_learning_curves_on_datasets_are_checked_against_them(client, redis):
    source, target, wide, missing = uploaded_to_check_against(client)
    cases = [
        (curve_on(missing, target), ["body", "source", "dataset"], f"dataset {missing} does not exist"),
        (curve_on(source, missing), ["body", "target", "dataset"], "was never uploaded, was deleted, or expired"),
        (curve_on(source, wide), ["body", "target", "dataset"], "N = 6 inputs but source dataset"),
        (curve_on(source, target, network={"n_samples": 49}), ["body", "network", "n_samples"],
         "n_samples 49 exceeds the 48 samples of the training split"),
        (curve_on(source, target, alphas=[1.0, 9.0]), ["body", "alphas", 1], "the largest possible alpha is 8 (= 40 / N"),
        # issue 12: alpha N < 1 would mean less than one target sample (N = 5 here: the smallest alpha is 0.2)
        (curve_on(source, target, alphas=[1.0, 0.1]), ["body", "alphas", 1], "below the smallest alpha 1/N = 0.2"),
        ({**curve_on(source, target), "target": {"feature_noise": 0.1}}, ["body"], "both be datasets"),
    ]
    for body, loc, reason in cases:
        response = client.post("/v1/learning-curves", json=body)
        assert response.status_code == 422, body
        assert any(e["loc"][:len(loc)] == loc and reason in e["msg"] for e in response.json()["detail"]), response.json()
    assert Queue("tlprobe", connection=redis).count == 0
    # within bounds: queued, and the datasets' lifetimes renewed by the submission
    redis.expire(keys.dataset(source), 100)
    response = client.post("/v1/learning-curves", json=curve_on(source, target, alphas=[8.0]))
    assert response.status_code == 202 and redis.ttl(keys.dataset(source)) > 100
    # in a batch, the item's index is named
    batch = {"requests": [{"kind": "learning_curve", "request": curve_on(source, target)},
                          {"kind": "learning_curve", "request": curve_on(source, missing)}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "requests", 1, "request", "target", "dataset"]


def test_the_budget_counts_the_datasets_sizes(unit_url):
    # the small curve's estimate is about 6.7e9 (mostly its solves), the heavy one's about 3.1e10
    settings = Settings(redis_url=unit_url, workers=1, max_work=1.5e10)
    with TestClient(create_app(settings)) as client:
        source = upload(client, *arrays(samples=60, input_dim=5))["dataset_id"]
        ok = client.post("/v1/learning-curves", json=curve_on(source, source))
        assert ok.status_code == 202
        heavy = curve_on(source, source, network={"hidden_units": 500, "n_samples": 40, "epochs": 300})
        response = client.post("/v1/learning-curves", json=heavy)
        assert response.status_code == 422 and "estimated work" in response.json()["detail"][0]["msg"]


def test_delete_is_refused_while_a_queued_job_reads_the_dataset(client, redis):
    source = upload(client, *arrays())["dataset_id"]
    target = upload(client, *arrays(samples=50, seed=1))["dataset_id"]
    job_id = client.post("/v1/learning-curves", json=curve_on(source, target)).json()["job_id"]
    for dataset_id in (source, target):
        response = client.delete(f"/v1/datasets/{dataset_id}")
        assert response.status_code == 409
        assert f"used by 1 queued or running job(s): {job_id}" in response.json()["detail"]
    assert client.get(f"/v1/datasets/{source}").status_code == 200
    assert client.delete(f"/v1/jobs/{job_id}").json()["status"] == "canceled"
    assert client.delete(f"/v1/datasets/{source}").status_code == 204
    # resubmitting now is refused before anything is queued: the source is gone
    response = client.post("/v1/learning-curves", json=curve_on(source, target))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "source", "dataset"]


def test_concurrent_uploads_of_one_content_store_it_once(client, redis):
    content = npz(inputs=arrays()[0], labels=arrays()[1])
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/datasets", content=content, headers=OCTET), range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["dataset_id"] for r in responses}) == 1 and len(dataset_keys(redis)) == 1
    assert redis.hlen(keys.datasets_bytes()) == 1


def test_regression_a_huge_offset_is_422_not_a_redis_error(client):
    # found by make fuzz: offset 10675757783923881984 reached Redis (64-bit offsets) and ended in a 500
    for path in ("/v1/datasets", "/v1/phase-diagrams"):
        response = client.get(path, params={"offset": 10675757783923881984})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "offset"]
        assert client.get(path, params={"offset": 10**9}).json()["items"] == []


def test_an_alpha_below_one_target_sample_is_refused_on_datasets(client, redis):
    # issue 12: alpha N < 1 means no target sample; on datasets N is the target's (5 here: at least 0.2)
    source = upload(client, *arrays(samples=60, input_dim=5))["dataset_id"]
    target = upload(client, *arrays(samples=50, input_dim=5, seed=1))["dataset_id"]
    diagram = {"source": {"dataset": source}, "target": {"dataset": target}, "simulation": {"seeds": 1},
               "network": {"hidden_units": 4, "epochs": 5},
               "x_axis": {"name": "alpha", "values": [0.1, 1.0]}, "y_axis": {"name": "n_samples", "values": [10, 20]}}
    response = client.post("/v1/phase-diagrams", json=diagram)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "x_axis", "values", 0] and "smallest alpha 1/N = 0.2" in error["msg"], error
    assert Queue("tlprobe", connection=redis).count == 0
