"""Tokens as identities end to end (issue 17): two users of the live stack (uvicorn, RQ workers, Redis)
through the Python client, on the API with tokens (``protected_api``)."""

import numpy as np
import pytest

from tests.integration.conftest import TOKENS
from tests.requests import live_curve
from tlprobe import Client
from tlprobe.contract.jobs import JobStatus
from tlprobe.errors import Forbidden, NotFound
from tlprobe.results import LearningCurve

pytestmark = pytest.mark.e2e


def test_one_users_cancel_and_delete_never_take_another_users_job_or_dataset(live, protected_api):
    alice, bob = Client(protected_api.url, TOKENS[0]), Client(protected_api.url, TOKENS[1])
    # a curve whose network trains for a few seconds: still running when both have submitted it
    request = live_curve(7301, {"hidden_units": 40, "n_samples": 2000, "epochs": 1500})
    first = alice.submit("learning_curve", request, wait=False)
    assert bob.submit("learning_curve", request, wait=False).job_id == first.job_id  # one job, two submitters

    detached = alice.cancel(first.job_id)
    assert detached.status in (JobStatus.queued, JobStatus.started)  # Bob still wants it: it goes on
    with pytest.raises(Forbidden) as refused:
        alice.cancel(first.job_id)  # no longer hers
    assert refused.value.status_code == 403 and "not submitted with this token" in str(refused.value)
    curve = bob.result(bob.wait(first.job_id, timeout=300).job_id)
    assert isinstance(curve, LearningCurve) and curve.meta["job_id"] == first.job_id

    rng = np.random.default_rng(7302)
    data = {"inputs": rng.standard_normal((60, 5)), "labels": np.where(rng.standard_normal(60) > 0, 1, -1)}
    dataset_id = alice.upload_dataset(data).dataset_id
    assert bob.upload_dataset(data).dataset_id == dataset_id  # same content: one dataset, two holders
    bob.delete_dataset(dataset_id)  # detaches Bob only
    assert alice.dataset(dataset_id).dataset_id == dataset_id
    with pytest.raises(Forbidden):
        bob.delete_dataset(dataset_id)
    alice.delete_dataset(dataset_id)
    with pytest.raises(NotFound):
        alice.dataset(dataset_id)
    alice.close()
    bob.close()
