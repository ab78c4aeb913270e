"""The one submission pipeline, on the unit Redis with jobs run by an in-process worker: cache hits,
de-duplication, replacement of stale jobs, capacity for every job a submission adds, and a phase
diagram's fan-out through the same path."""

import json

import pytest

from tests.requests import SMALL, SPECTRUM
from tlprobe.contract.jobs import JobStatus
from tlprobe_server import dataset_store, keys, result_store
from tlprobe_server.capacity import QueueFull, waiting_jobs
from tlprobe_server.job_views import fetch_job
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.submission import submit

LC, GCM, PD = SERVER_KINDS["learning_curve"], SERVER_KINDS["gcm"], SERVER_KINDS["phase_diagram"]
DIAGRAM = {"source": {"latent_dim": 5, "input_dim": 20}, "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2},
           "theory": {"mc_samples": 500}, "x_axis": {"name": "alpha", "values": [0.5, 1.0]},
           "y_axis": {"name": "teacher_noise", "values": [0.0, 0.5]}}


def request(kind, body):
    return kind.request.model_validate(body)


def test_identical_submissions_make_one_job_and_a_result_is_a_cache_hit(redis, settings, run_jobs):
    first = submit(redis, settings, GCM, request(GCM, SPECTRUM))
    second = submit(redis, settings, GCM, request(GCM, SPECTRUM))
    assert first.job_id == second.job_id and not first.cached and not second.cached and waiting_jobs(redis, settings) == 1
    run_jobs()
    hit = submit(redis, settings, GCM, request(GCM, SPECTRUM))
    assert hit.cached and hit.status is JobStatus.finished and hit.result == result_store.get(redis, first.job_id)


def test_a_failed_or_canceled_job_is_replaced_by_a_fresh_one(redis, settings):
    job_id = submit(redis, settings, GCM, request(GCM, SPECTRUM)).job_id
    fetch_job(redis, job_id).cancel()
    again = submit(redis, settings, GCM, request(GCM, SPECTRUM))
    assert again.job_id == job_id and again.status is JobStatus.queued and waiting_jobs(redis, settings) == 1


def test_capacity_is_checked_before_anything_is_enqueued(redis, settings):
    tight = settings.model_copy(update={"max_queued_jobs": 1})
    submit(redis, tight, LC, request(LC, SMALL))
    with pytest.raises(QueueFull):
        submit(redis, tight, GCM, request(GCM, SPECTRUM))
    assert waiting_jobs(redis, tight) == 1


def test_a_diagram_fans_out_through_the_same_pipeline_and_counts_all_its_jobs(redis, settings, run_jobs):
    diagram = request(PD, DIAGRAM)
    layout = PD.make_plan(diagram, settings)
    jobs = 1 + PD.part_count(layout)
    assert PD.part_count(layout) == len(layout.parts) + len(layout.networks) == 2 + 1  # two targets, one network
    with pytest.raises(QueueFull):  # one job short: nothing is enqueued, not even a part
        submit(redis, settings.model_copy(update={"max_queued_jobs": jobs - 1}), PD, diagram, plan=layout)
    assert waiting_jobs(redis, settings) == 0
    submitted = submit(redis, settings, PD, diagram, plan=layout)
    job = fetch_job(redis, submitted.job_id)
    record = job.meta["plan"]
    assert [part["role"] for part in record["parts"]] == ["theory", "theory"] and len(record["networks"]) == 1
    # each part is the learning curve the endpoint would run: submitting one joins the queued part
    part = submit(redis, settings, LC, layout.parts[0].request)
    assert part.job_id == record["parts"][0]["job_id"] and not part.cached
    run_jobs()
    finished = submit(redis, settings, PD, diagram, plan=layout)
    assert finished.cached and finished.result["complete"] and len(finished.result["gain"]) == 2


def test_a_diagram_with_failed_cells_is_not_for_good_and_is_replaced(redis, settings):
    diagram = request(PD, DIAGRAM)
    layout = PD.make_plan(diagram, settings)
    diagram_id = PD.job_id(diagram)
    result_store.put(redis, diagram_id, json.dumps({"kind": "phase_diagram", "complete": False}), ttl=60)
    resubmitted = submit(redis, settings, PD, diagram, plan=layout)
    assert not resubmitted.cached and resubmitted.status is JobStatus.queued and not result_store.exists(redis, diagram_id)


def test_a_job_reading_a_missing_dataset_is_refused_and_a_stored_one_is_reserved(redis, settings):
    on_data = {"source": {"dataset": "ds-" + "a" * 40}, "target": {"dataset": "ds-" + "b" * 40}, "alphas": [0.1],
               "theory": None, "network": {"n_samples": 10, "epochs": 2, "hidden_units": 4}}
    with pytest.raises(dataset_store.DatasetMissing):
        submit(redis, settings, LC, request(LC, on_data))
    assert waiting_jobs(redis, settings) == 0
    for dataset_id in ("ds-" + "a" * 40, "ds-" + "b" * 40):  # stored (their content does not matter here)
        redis.hset(keys.dataset(dataset_id), "description", "{}")
    job_id = submit(redis, settings, LC, request(LC, on_data)).job_id
    assert redis.sismember(keys.dataset_users("ds-" + "a" * 40), job_id)
    assert redis.ttl(keys.dataset("ds-" + "b" * 40)) > 0  # its lifetime renewed by the use
