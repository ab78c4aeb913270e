"""POST /v1/gcm against a real Redis with no worker: models the contract can judge are refused
with the field named before anything is queued."""

import pytest
from rq import Queue

from tests.requests import SPECTRUM

COVARIANCES = {"omega": [[1.0, 0.2], [0.2, 1.0]], "phi": [[0.1], [0.1]], "theta": [1.0]}


def test_a_valid_model_is_queued(client, redis):
    assert client.post("/v1/gcm", json={"covariances": COVARIANCES}).status_code == 202
    assert client.post("/v1/gcm", json=SPECTRUM).status_code == 202
    assert Queue("tlprobe", connection=redis).count == 2


@pytest.mark.parametrize("change, location, reason", [
    ({"omega": [[1.0]]}, ["body", "covariances", "phi"], "p = 1 rows"),
    ({"theta": [1.0, 1.0]}, ["body", "covariances", "theta"], "k = 1 entries"),
    ({"psi": [[1.0, 0.0], [0.0, 1.0]]}, ["body", "covariances", "psi"], "k x k"),
    ({"omega": [[1.0, 0.5], [0.2, 1.0]]}, ["body", "covariances", "omega"], "symmetric"),
    ({"theta": [0.0]}, ["body", "covariances", "theta"], "theta^T psi theta must be > 0"),
    ({"omega": [[1.0, 3.0], [3.0, 1.0]]}, ["body", "covariances", "omega"], "positive semi-definite"),
])
def test_issue_12_inputs_the_worker_refused_are_422_before_queueing(client, redis, change, location, reason):
    # issue 12: these were 202, then the job failed with "invalid input"
    response = client.post("/v1/gcm", json={"covariances": {**COVARIANCES, **change}})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == location and reason in error["msg"]
    assert Queue("tlprobe", connection=redis).count == 0
