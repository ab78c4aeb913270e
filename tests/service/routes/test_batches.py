"""/v1/batches: mixed kinds, one job per distinct request, refusals name the item."""


from rq import Queue

from tests.requests import SMALL, SPECTRUM


def test_batch_of_mixed_kinds(client, redis):
    batch = {"requests": [{"kind": "learning_curve", "request": SMALL}, {"kind": "gcm", "request": SPECTRUM},
                          {"kind": "gcm", "request": SPECTRUM}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 202
    body = response.json()
    assert [j["kind"] for j in body["jobs"]] == ["learning_curve", "gcm", "gcm"]
    assert body["jobs"][1]["job_id"] == body["jobs"][2]["job_id"]  # identical requests: one job
    assert body["counts"]["queued"] == 3 and body["counts"]["finished"] == 0
    assert Queue("tlprobe", connection=redis).count == 2
    view = client.get(f"/v1/batches/{body['batch_id']}").json()
    assert view["counts"]["queued"] == 3 and len(view["jobs"]) == 3


def test_invalid_batch_item_names_its_index(client, redis):
    batch = {"requests": [{"kind": "gcm", "request": SPECTRUM}, {"kind": "gcm", "request": {"loss": "hinge", **SPECTRUM}}]}
    response = client.post("/v1/batches", json=batch)
    assert response.status_code == 422
    assert any(e["loc"][:4] == ["body", "requests", 1, "gcm"] for e in response.json()["detail"])
    assert Queue("tlprobe", connection=redis).count == 0  # nothing queued from a rejected batch
    too_many = {"requests": [{"kind": "gcm", "request": SPECTRUM}] * 101}
    assert client.post("/v1/batches", json=too_many).status_code == 422
