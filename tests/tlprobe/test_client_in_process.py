"""The Python client against the app in this process (its HTTP transport), a real Redis and jobs run
by an in-process RQ worker: no uvicorn and no worker processes (the live-stack tests are in
tests/integration). What the client returns is compared with what the API answers."""

import io
import sys

import pytest

from tests.requests import SMALL, SPECTRUM
from tlprobe.contract.batches import BatchView
from tlprobe.contract.jobs import JobStatus, Submission
from tlprobe.errors import InvalidRequest, JobFailed, NotFinished, WaitTimeout
from tlprobe.progress import ProgressBar
from tlprobe.results import PANDAS_MISSING, GCMCurve, LearningCurve
from tlprobe.tidy import LEARNING_CURVE_COLUMNS


def test_submit_run_fetch_typed_rows_and_dataframe(api, run_jobs):
    submitted = api.learning_curve(SMALL, wait=False)
    assert isinstance(submitted, Submission) and submitted.status is JobStatus.queued and not submitted.cached
    with pytest.raises(NotFinished) as early:
        api.result(submitted.job_id)
    assert early.value.job.status is JobStatus.queued
    run_jobs()
    curve = api.result(submitted.job_id)
    raw = api._http.get(f"/v1/jobs/{submitted.job_id}/result").json()
    assert isinstance(curve, LearningCurve) and curve.model_dump(mode="json") == raw
    rows = curve.rows()
    assert rows and all(list(row) == LEARNING_CURVE_COLUMNS for row in rows)
    assert {(row["protocol"], row["method"]) for row in rows} == {("tf", "theory"), ("rf", "theory"), ("linear", "theory")}
    frame = curve.to_pandas()
    assert list(frame.columns) == LEARNING_CURVE_COLUMNS and len(frame) == len(rows)
    assert frame["test_error"].tolist() == [row["test_error"] for row in rows]
    # asked again: answered from the cache, with the same numbers, and a bar drawn in the meantime
    again = api.learning_curve(SMALL, progress=True)
    assert again == curve


def test_to_pandas_names_the_extra_when_pandas_is_missing(api, run_jobs, monkeypatch):
    job_id = api.gcm(SPECTRUM, wait=False).job_id
    run_jobs()
    curve = api.result(job_id)
    assert isinstance(curve, GCMCurve) and len(curve.rows()) == len(curve.sample_complexity) == 4
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError) as missing:
        curve.to_pandas()
    assert str(missing.value) == PANDAS_MISSING and "tlprobe[pandas]" in PANDAS_MISSING


def test_requests_are_checked_before_sending_and_refusals_name_the_field(api):
    with pytest.raises(InvalidRequest) as local:
        api.learning_curve({"source": {"input_dim": 0}})
    assert local.value.local and "body.source.input_dim" in local.value.fields
    with pytest.raises(InvalidRequest) as budget:  # valid field by field, too large as a whole: the server says so
        api.learning_curve({"network": {"n_samples": 200_000, "epochs": 5000, "hidden_units": 4000}})
    assert not budget.value.local and "exceeds the limit" in str(budget.value)
    with pytest.raises(ValueError, match="can be submitted"):
        api.submit("source_network", {})


def test_a_batch_of_two_kinds_and_its_progress(api, run_jobs):
    view = api.batch([("learning_curve", SMALL), ("gcm", SPECTRUM)])
    assert isinstance(view, BatchView) and view.counts[JobStatus.queued] == 2
    run_jobs()
    seen = []
    ended = api.wait_batch(view.batch_id, progress=seen.append)
    assert ended.counts[JobStatus.finished] == 2 and seen[-1] == ended
    assert {type(api.result(job.job_id)).__name__ for job in ended.jobs} == {"LearningCurve", "GCMCurve"}


def test_cancel_and_waiting_for_a_canceled_job(api):
    job_id = api.gcm(SPECTRUM, wait=False).job_id
    with pytest.raises(WaitTimeout) as waiting:
        api.wait(job_id, timeout=0.3)
    assert waiting.value.view.status is JobStatus.queued
    assert api.cancel(job_id).status is JobStatus.canceled
    assert api.wait(job_id).status is JobStatus.canceled
    with pytest.raises(JobFailed) as failed:  # what waiting for its result raises
        api._run(api._ops.wait_result(job_id, None, None))
    assert failed.value.job.status is JobStatus.canceled
    again = api.gcm(SPECTRUM, wait=False)  # resubmitting is how a user retries
    assert again.job_id == job_id and again.status is JobStatus.queued


def test_the_progress_bar_follows_the_stages(tmp_path):
    from tlprobe.contract.jobs import JobLinks, JobView, Progress

    out = io.StringIO()
    bar = ProgressBar("lc-1", file=out)
    links = JobLinks(self="/v1/jobs/x", result="/v1/jobs/x/result")
    for stage, done, total in (("source_network", 100, 300), ("source_network", 300, 300), ("simulation", 2, 8)):
        bar(JobView(job_id="x", kind="learning_curve", status=JobStatus.started, links=links,
                    progress=Progress(stage=stage, done=done, total=total)))
    bar.close()
    text = out.getvalue()
    assert "lc-1 source_network" in text and "300/300" in text and "lc-1 simulation" in text and "2/8" in text
