"""/v1/jobs: views, results, 409 before the end, 404 for unknown ids, cancellation (no worker runs)."""

import json
import zlib

from rq import Queue
from rq.serializers import JSONSerializer

from tests.requests import SPECTRUM
from tlprobe_server import keys


def test_a_cached_result_is_answered_at_once(client, redis):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    redis.set(keys.result(job_id), json.dumps({"kind": "gcm", "answer": 42}))
    cached = client.post("/v1/gcm", json=SPECTRUM)
    assert cached.status_code == 200
    assert cached.json()["cached"] and cached.json()["status"] == "finished"
    assert cached.json()["result"] == {"kind": "gcm", "answer": 42}
    assert client.get(f"/v1/jobs/{job_id}/result").json() == {"kind": "gcm", "answer": 42}


def test_result_of_an_unfinished_job_is_409_with_the_job(client):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    response = client.get(f"/v1/jobs/{job_id}/result")
    assert response.status_code == 409 and response.json()["status"] == "queued"


def test_unknown_and_malformed_job_ids_are_404(client):
    for job_id in ("lc-" + "0" * 40, "nonsense", "gcm-" + "a" * 40):
        assert client.get(f"/v1/jobs/{job_id}").status_code == 404
        assert client.get(f"/v1/jobs/{job_id}/result").status_code == 404
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 404
    assert client.get("/v1/batches/" + "0" * 32).status_code == 404


def test_cancel_a_queued_job_and_resubmit_it(client, redis):
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    canceled = client.delete(f"/v1/jobs/{job_id}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert Queue("tlprobe", connection=redis).count == 0
    again = client.post("/v1/gcm", json=SPECTRUM)
    assert again.status_code == 202 and again.json()["status"] == "queued" and again.json()["job_id"] == job_id
    assert Queue("tlprobe", connection=redis, serializer=JSONSerializer).count == 1


def test_job_payloads_are_json_not_pickle(client, redis):

    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    data = redis.hget(f"rq:job:{job_id}", "data")
    payload = json.loads(zlib.decompress(data))
    assert payload[0] == "worker.tasks.run" and payload[3]["kind"] == "gcm" and payload[3]["request"]["spectrum"]["rho"] == 1.0
