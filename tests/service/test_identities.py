"""Tokens are identities (issue 17): a job is held by every token that submitted it, a diagram's parts by
the diagrams using them, a dataset by every token that uploaded it; a cancel or a delete detaches its
caller, and only the last holder (or an admin token) stops the job or deletes the dataset. In-process
app, real Redis; no worker runs, so every job stays queued until it is canceled."""

import pytest
from fastapi.testclient import TestClient
from rq import Queue

from service.main import create_app
from tests.datasets import arrays, curve_on
from tests.requests import SPECTRUM
from tlprobe_server import holders
from tlprobe_server.job_views import fetch_job
from tlprobe_server.settings import Settings

ALICE, BOB, CAROL, ADMIN = "alice-token-0123456789", "bob-token-0123456789", "carol-token-0123456789", "admin-token-01234"
UPLOAD = dict(zip(("inputs", "labels"), (array.tolist() for array in arrays(samples=60, input_dim=5))))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(settings):
    app = create_app(Settings(redis_url=settings.redis_url, api_tokens=f"{ALICE},{BOB},{CAROL}", admin_tokens=ADMIN,
                              rate_limit_per_minute=0))
    with TestClient(app) as client:
        yield client


def submit(api, path: str, body: dict, token: str) -> str:
    response = api.post(path, json=body, headers=bearer(token))
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def cancel(api, job_id: str, token: str):
    return api.delete(f"/v1/jobs/{job_id}", headers=bearer(token))


def status(api, job_id: str) -> str:
    return api.get(f"/v1/jobs/{job_id}").json()["status"]


def test_a_job_submitted_by_two_tokens_is_canceled_only_when_both_have_canceled_it(api, redis):
    job_id = submit(api, "/v1/gcm", SPECTRUM, ALICE)
    assert submit(api, "/v1/gcm", SPECTRUM, BOB) == job_id  # de-duplicated: one job, two submitters
    assert Queue("tlprobe", connection=redis).count == 1

    refused = cancel(api, job_id, CAROL)  # a valid token that never submitted it
    assert refused.status_code == 403 and "not submitted with this token" in refused.json()["detail"]
    assert status(api, job_id) == "queued"

    detached = cancel(api, job_id, ALICE)
    assert detached.status_code == 200 and detached.headers["tlprobe-outcome"] == "detached"
    assert detached.json()["status"] == "queued" and status(api, job_id) == "queued"
    assert Queue("tlprobe", connection=redis).count == 1  # Bob's job goes on
    assert cancel(api, job_id, ALICE).status_code == 403  # Alice no longer holds it

    canceled = cancel(api, job_id, BOB)
    assert canceled.status_code == 200 and canceled.headers["tlprobe-outcome"] == "canceled"
    assert canceled.json()["status"] == "canceled" and status(api, job_id) == "canceled"
    assert Queue("tlprobe", connection=redis).count == 0

    ended = cancel(api, job_id, CAROL)  # an ended job is returned unchanged, to anyone
    assert ended.status_code == 200 and ended.headers["tlprobe-outcome"] == "ended"


def test_a_resubmission_after_a_detach_holds_the_job_again(api):
    job_id = submit(api, "/v1/gcm", SPECTRUM, ALICE)
    submit(api, "/v1/gcm", SPECTRUM, BOB)
    assert cancel(api, job_id, ALICE).headers["tlprobe-outcome"] == "detached"
    submit(api, "/v1/gcm", SPECTRUM, ALICE)
    assert cancel(api, job_id, BOB).headers["tlprobe-outcome"] == "detached"
    assert cancel(api, job_id, ALICE).headers["tlprobe-outcome"] == "canceled"


def test_an_admin_token_cancels_outright_and_batches_record_their_token(api, redis):
    batch = api.post("/v1/batches", json={"requests": [{"kind": "gcm", "request": SPECTRUM}]}, headers=bearer(ALICE))
    job_id = batch.json()["jobs"][0]["job_id"]
    submit(api, "/v1/gcm", SPECTRUM, BOB)
    assert holders.of(redis, fetch_job(redis, job_id).key) == {holders.token(t) for t in (_id(ALICE), _id(BOB))}
    assert cancel(api, job_id, CAROL).status_code == 403
    outright = cancel(api, job_id, ADMIN)
    assert outright.headers["tlprobe-outcome"] == "canceled" and status(api, job_id) == "canceled"


def _id(token: str) -> str:
    from service.access import token_id

    return token_id(token)


def diagram(noise: list[float]) -> dict:
    return {"x_axis": {"name": "alpha", "values": [0.5, 1, 2]}, "y_axis": {"name": "feature_noise", "values": noise}}


def parts(redis, diagram_id: str) -> dict[str, str]:
    """part job id -> its public status, over the diagram's networks and parts."""
    plan = fetch_job(redis, diagram_id).meta["plan"]
    ids = plan["networks"] + [part["job_id"] for part in plan["parts"]]
    return {job_id: fetch_job(redis, job_id).get_status().value for job_id in ids}


def test_canceling_a_diagram_stops_only_the_parts_nobody_else_holds(api, redis):
    first = submit(api, "/v1/phase-diagrams", diagram([0.0, 0.5]), ALICE)
    second = submit(api, "/v1/phase-diagrams", diagram([0.0, 0.25]), BOB)
    first_parts, second_parts = parts(redis, first), parts(redis, second)
    shared = set(first_parts) & set(second_parts)
    assert len(shared) == 2 and len(first_parts) == len(second_parts) == 3  # the network and the theory at noise 0
    (own,) = set(first_parts) - shared
    curve = next(p for p in shared if p.startswith("lc-"))
    learning_curve = fetch_job(redis, curve).kwargs["request"]
    assert submit(api, "/v1/learning-curves", learning_curve, CAROL) == curve  # the shared theory part, asked directly

    assert cancel(api, first, BOB).status_code == 403  # Bob did not submit Alice's diagram
    assert cancel(api, own, ALICE).status_code == 403  # a part is held by its diagram, not by the diagram's submitter
    assert cancel(api, first, ALICE).headers["tlprobe-outcome"] == "canceled"
    after = parts(redis, first)
    assert after[own] == "canceled" and all(after[p] == "deferred" or after[p] == "queued" for p in shared), after
    assert status(api, second) == "queued"  # Bob's diagram goes on, with every part it needs

    assert cancel(api, second, BOB).headers["tlprobe-outcome"] == "canceled"
    after = parts(redis, second)
    network = next(p for p in shared if p != curve)
    # Carol still holds the curve, which waits for the network: both go on; Bob's own part is stopped
    assert after[curve] == "deferred" and after[network] == "queued", after
    assert after[next(iter(set(second_parts) - shared))] == "canceled"
    assert cancel(api, curve, CAROL).headers["tlprobe-outcome"] == "canceled"
    assert set(parts(redis, second).values()) == {"canceled"}  # the network went with the last job waiting for it


def test_with_tokens_off_a_cancel_is_outright_and_a_diagram_keeps_parts_submitted_directly(client, redis):
    # two curves (one per noise), so the network they share is a job of its own
    diagram_id = client.post("/v1/phase-diagrams", json=diagram([0.0, 0.5])).json()["job_id"]
    before = parts(redis, diagram_id)
    curve, other = (p for p in before if p.startswith("lc-"))
    network = next(p for p in before if p.startswith("net-"))
    assert client.post("/v1/learning-curves", json=fetch_job(redis, curve).kwargs["request"]).json()["job_id"] == curve
    canceled = client.delete(f"/v1/jobs/{diagram_id}")
    assert canceled.status_code == 200 and canceled.headers["tlprobe-outcome"] == "canceled"
    after = parts(redis, diagram_id)
    # the curve was asked for on its own: it goes on, and so does the network it waits for; the other goes
    assert after[network] == "queued" and after[curve] == "deferred" and after[other] == "canceled", after
    job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    client.post("/v1/gcm", json=SPECTRUM)  # a second anonymous submission: still one cancel stops it
    assert client.delete(f"/v1/jobs/{job_id}").headers["tlprobe-outcome"] == "canceled"


def upload(api, token: str, expected: int) -> str:
    response = api.post("/v1/datasets", json=UPLOAD, headers=bearer(token))
    assert response.status_code == expected, response.text
    return response.json()["dataset_id"]


def delete(api, dataset_id: str, token: str):
    return api.delete(f"/v1/datasets/{dataset_id}", headers=bearer(token))


def test_a_dataset_uploaded_by_two_tokens_stays_until_both_have_deleted_it(api):
    dataset_id = upload(api, ALICE, 201)
    assert upload(api, BOB, 200) == dataset_id  # same content, same dataset: Bob holds it too

    refused = delete(api, dataset_id, CAROL)
    assert refused.status_code == 403 and "not uploaded with this token" in refused.json()["detail"]
    detached = delete(api, dataset_id, ALICE)
    assert detached.status_code == 204 and detached.headers["tlprobe-outcome"] == "detached"
    assert api.get(f"/v1/datasets/{dataset_id}").status_code == 200  # Bob's copy stays
    assert delete(api, dataset_id, ALICE).status_code == 403
    deleted = delete(api, dataset_id, BOB)
    assert deleted.status_code == 204 and deleted.headers["tlprobe-outcome"] == "deleted"
    assert api.get(f"/v1/datasets/{dataset_id}").status_code == 404

    again = upload(api, CAROL, 201)
    upload(api, ALICE, 200)
    assert delete(api, again, ADMIN).headers["tlprobe-outcome"] == "deleted"  # an admin deletes outright
    assert api.get(f"/v1/datasets/{again}").status_code == 404


def test_the_last_holder_of_a_dataset_in_use_stays_its_holder(api):
    dataset_id = upload(api, ALICE, 201)
    job_id = submit(api, "/v1/learning-curves", curve_on(dataset_id, dataset_id), BOB)  # Bob reads Alice's dataset
    in_use = delete(api, dataset_id, ALICE)
    assert in_use.status_code == 409 and job_id in in_use.json()["detail"]
    assert cancel(api, job_id, BOB).status_code == 200
    assert delete(api, dataset_id, ALICE).headers["tlprobe-outcome"] == "deleted"
