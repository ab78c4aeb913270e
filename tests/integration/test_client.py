"""The Python client end to end: a real uvicorn, real RQ workers, a real Redis.

What the client returns is compared with what the API itself answers (the raw JSON fetched with
httpx2), field for field: the client must add types and views, never change a number."""

import asyncio
import threading
import time

import httpx2 as httpx
import pytest

from devtools.stack import Api, wait_for
from tests.integration.conftest import TOKENS
from tests.requests import live_curve
from tlprobe import AsyncClient, Client
from tlprobe.contract.batches import BatchView
from tlprobe.contract.jobs import JobStatus, JobView, Submission
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe.errors import Busy, InvalidRequest, JobFailed, NotFinished, NotFound, Unauthorized
from tlprobe.kinds import KINDS
from tlprobe.results import GCMCurve, LearningCurve, PhaseDiagram
from tlprobe.tidy import LEARNING_CURVE_COLUMNS

pytestmark = pytest.mark.e2e


def small(seed: int, **changes) -> dict:
    return live_curve(seed, {"hidden_units": 30, "n_samples": 1000, "epochs": 200}, **changes)


def diagram(seed: int) -> dict:
    return {"source": {"latent_dim": 10, "input_dim": 40, "seed": seed},
            "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60}, "theory": {"mc_samples": 4000},
            "x_axis": {"name": "alpha", "values": [0.5, 2.0]}, "y_axis": {"name": "teacher_noise", "values": [0.0, 1.0]}}


class Counting(httpx.HTTPTransport):
    """The real transport, counting the requests sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request):
        self.sent.append((request.method, request.url.path))
        return super().handle_request(request)


def test_learning_curve_waits_with_progress_and_returns_the_api_result_typed(live):
    url = live["api"].url
    seen: list[JobView] = []
    transport = Counting()
    with Client(url, transport=transport) as client:
        # a source network training long enough (about 6 s on an idle core; 400 epochs took 0.8 s once the
        # trainer got faster) for the one-second polls to catch it midway
        curve = client.learning_curve(small(701, network={"hidden_units": 60, "n_samples": 2000, "epochs": 3000}),
                                      progress=seen.append)
    assert isinstance(curve, LearningCurve)
    job_id = seen[-1].job_id
    raw = httpx.get(f"{url}/v1/jobs/{job_id}/result").json()
    assert curve.model_dump(mode="json") == raw  # every field, every number, as the API sent it
    assert curve.curves["tf"].theory.test_error == raw["curves"]["tf"]["theory"]["test_error"]
    # progress: seen at once (queued or started), live stages while running, then the end
    assert seen[-1].status is JobStatus.finished
    running = [v.progress for v in seen if v.status is JobStatus.started and v.progress]
    assert any(p.stage == "source_network" and 0 < p.done < p.total for p in running), seen
    # waiting is long-polling: about one request a second while a listener wants progress, not a busy loop
    polls = [path for method, path in transport.sent if path == f"/v1/jobs/{job_id}"]
    elapsed = (seen[-1].ended_at - seen[0].created_at).total_seconds()
    assert 1 <= len(polls) <= elapsed / 1.0 + 3

    rows = curve.rows()
    assert len(rows) == 3 * 2 * 2  # protocols x alphas x (theory, simulation)
    assert all(list(row) == LEARNING_CURVE_COLUMNS for row in rows)
    for row in rows:
        i = raw["alphas"].index(row["alpha"])
        part = raw["curves"][row["protocol"]][row["method"]]
        if row["method"] == "theory":
            assert row["test_error"] == part["test_error"][i] and row["converged"] == part["converged"][i]
        else:
            assert row["test_error"] == part["test_error_mean"][i]
            assert row["test_error_uncertainty"] == part["test_error_sem"][i]
            assert row["n_samples"] == round(row["alpha"] * 40)


def test_a_cached_request_comes_back_at_once_and_models_are_accepted(live):
    with Client(live["api"].url) as client:
        first = client.learning_curve(small(702, simulation=None))
        request = LearningCurveRequest.model_validate(small(702, simulation=None))
        submission = client.learning_curve(request, wait=False)
        assert isinstance(submission, Submission) and submission.cached and submission.status is JobStatus.finished
        again = client.learning_curve(request)
    assert again == first
    assert again.rows() == first.rows() and {row["method"] for row in again.rows()} == {"theory"}


def test_waiting_without_a_listener_is_one_long_poll(live):
    transport = Counting()
    with Client(live["api"].url, transport=transport) as client:
        submission = client.learning_curve(small(703, simulation=None), wait=False)
        view = client.wait(submission.job_id)
    assert view.status is JobStatus.finished
    assert [path for _, path in transport.sent].count(f"/v1/jobs/{submission.job_id}") == 1  # a job of ~2 s


def test_phase_diagram_catalogue_all_pages_plots(live, tmp_path, monkeypatch):
    url = live["api"].url
    with Client(url) as client:
        ids = []
        for seed in (711, 712):
            submission = client.phase_diagram(diagram(seed), wait=False)
            ids.append(submission.job_id)
            assert client.wait(submission.job_id).status is JobStatus.finished
        result = client.result(ids[0])
        assert isinstance(result, PhaseDiagram)
        assert result.model_dump(mode="json") == httpx.get(f"{url}/v1/phase-diagrams/{ids[0]}").json()
        csv_lines = httpx.get(f"{url}/v1/phase-diagrams/{ids[0]}", params={"format": "csv"}).text.splitlines()
        assert len(result.rows()) == len(csv_lines) - 1 == 2 * 2 * 2
        assert [str(v) for v in result.rows()[0].values()][:5] == csv_lines[1].split(",")[:5]

        monkeypatch.setattr("tlprobe.operations.CATALOGUE_PAGE", 1)  # every page is fetched
        listed = client.diagrams(y_axis="teacher_noise", range={"source.seed": (711, 712)})
        assert [entry.diagram_id for entry in listed] == ids[::-1]  # newest first
        assert [e.diagram_id for e in client.diagrams(range="source.seed:712:712")] == [ids[1]]
        assert client.diagrams(baseline="linear", range=["source.seed:711:712"]) == []

        png = client.plot(ids[0], tmp_path / "diagram.png")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "diagram.png").read_bytes() == png
        assert b"<svg" in client.plot(ids[0], tmp_path / "diagram.svg")
        curve_id = client.learning_curve(small(713, simulation=None), wait=False).job_id
        client.wait(curve_id)
        assert client.plot(curve_id) == httpx.get(f"{url}/v1/jobs/{curve_id}/plot.png").content


def test_gcm_and_a_batch_with_progress(live):
    spectrum = {"spectrum": {"omega": [0.5, 1.0, 2.0], "t": [0.1, 0.2, 0.3], "rho": 1.0, "gamma": 1.0},
                "sample_complexities": [1.0, 3.0]}
    with Client(live["api"].url) as client:
        gcm = client.gcm(spectrum)
        assert isinstance(gcm, GCMCurve) and [r["sample_complexity"] for r in gcm.rows()] == gcm.sample_complexity
        seen: list[BatchView] = []
        batch = client.batch([{"kind": "learning_curve", "request": small(721, simulation=None)},
                              ("gcm", {**spectrum, "sample_complexities": [0.5]}),
                              LearningCurveRequest.model_validate(small(722, simulation=None)),
                              PhaseDiagramRequest.model_validate(diagram(723))],
                             wait=True, progress=seen.append)
        assert batch.counts[JobStatus.finished] == 4 and seen[-1] == batch
        assert [job.kind for job in batch.jobs] == ["learning_curve", "gcm", "learning_curve", "phase_diagram"]
        assert client.batch_status(batch.batch_id) == batch
        results = [client.result(job.job_id) for job in batch.jobs]
        assert results[1].test_error == client.gcm({**spectrum, "sample_complexities": [0.5]}).test_error
        assert isinstance(results[3], PhaseDiagram) and results[3].complete
        raw = httpx.get(f"{live['api'].url}/v1/jobs/{batch.jobs[3].job_id}/result").json()
        assert results[3].model_dump(mode="json") == raw


def test_errors_carry_the_servers_reasons(live):
    url = live["api"].url
    # the contract is checked before sending: no service is needed to be told which field is wrong
    with Client("http://127.0.0.1:9") as offline, pytest.raises(InvalidRequest) as refused:
        offline.learning_curve({"source": {"input_dim": 0}, "alphas": [1.0, "x"], "typo": 1})
    assert refused.value.local and refused.value.fields == {
        "body.source.input_dim": "Input should be greater than or equal to 1",
        "body.alphas.1": "Input should be a valid number", "body.typo": "Extra inputs are not permitted"}
    with Client(url) as client:
        huge = {"source": {"input_dim": 4000}, "network": {"hidden_units": 4000, "n_samples": 200000, "epochs": 5000}}
        with pytest.raises(InvalidRequest) as budget:  # only the service knows the budgets
            client.learning_curve(huge)
        assert not budget.value.local and budget.value.status_code == 422
        assert budget.value.errors[0]["type"] == "budget" and "exceeds the limit" in budget.value.errors[0]["msg"]
        assert "422 from POST /v1/learning-curves" in str(budget.value)
        with pytest.raises(NotFound) as missing:
            client.job("lc-0000")
        assert missing.value.status_code == 404 and "lc-0000" in str(missing.value)
        slow = client.learning_curve(small(731, network={"hidden_units": 200, "n_samples": 4000, "epochs": 5000}),
                                     wait=False)
        with pytest.raises(NotFinished) as early:
            client.result(slow.job_id)
        assert early.value.job.job_id == slow.job_id and early.value.job.status in (JobStatus.queued, JobStatus.started)
        threading.Timer(1.0, lambda: httpx.delete(f"{url}/v1/jobs/{slow.job_id}")).start()
        with pytest.raises(JobFailed) as ended:  # the same request joins the same job, which gets canceled
            client.learning_curve(small(731, network={"hidden_units": 200, "n_samples": 4000, "epochs": 5000}))
        assert ended.value.job.job_id == slow.job_id and ended.value.job.status is JobStatus.canceled
        assert f"job {slow.job_id} canceled" in str(ended.value)


def test_tokens_from_the_environment_and_unauthorized(live, protected_api, monkeypatch):
    monkeypatch.setenv("TLPROBE_URL", protected_api.url)
    with Client() as anonymous, pytest.raises(Unauthorized) as refused:
        anonymous.diagrams()
    assert refused.value.status_code == 401 and "token" in str(refused.value)
    monkeypatch.setenv("TLPROBE_TOKEN", TOKENS[0])
    with Client() as client:
        assert client.url == protected_api.url
        assert client.learning_curve(small(702, simulation=None)).source_test_error > 0  # cached by an earlier test or now


def test_503_and_429_are_retried_after_retry_after_a_bounded_number_of_times(live, tmp_path):
    # a queue no worker listens to, capped at one waiting job: the second submission gets 503 (Retry-After: 30)
    api = Api(live["api"].env["TLPROBE_REDIS_URL"], log_path=tmp_path / "api.log", TLPROBE_QUEUE_NAME="client-retry",
              TLPROBE_MAX_QUEUED_JOBS="1", TLPROBE_API_TOKENS=",".join(TOKENS), TLPROBE_RATE_LIMIT_PER_MINUTE="20").start()
    try:
        headers = {"authorization": f"Bearer {TOKENS[0]}"}
        first = httpx.post(f"{api.url}/v1/learning-curves", json=small(741), headers=headers).json()["job_id"]
        transport = Counting()
        with Client(api.url, TOKENS[0], retries=2, max_retry_wait=0.3, transport=transport) as client:
            started = time.monotonic()
            with pytest.raises(Busy) as busy:
                client.learning_curve(small(742), wait=False)
            assert busy.value.status_code == 503 and "retry later" in str(busy.value)
            assert transport.sent.count(("POST", "/v1/learning-curves")) == 3  # the first try and two retries
            assert 0.6 <= time.monotonic() - started < 5  # each pause capped at max_retry_wait, not 30 s
            # the queue frees up during the retries: the submission goes through
            threading.Timer(0.5, lambda: httpx.delete(f"{api.url}/v1/jobs/{first}", headers=headers)).start()
            with Client(api.url, TOKENS[0], retries=20, max_retry_wait=0.3) as patient:
                second = patient.learning_curve(small(742), wait=False)
                assert second.status is JobStatus.queued
                patient.cancel(second.job_id)
        # the other token spends its 20 submissions of this minute (a 503 counts too); then 429, retried, Busy
        if time.time() % 60 > 50:  # not across a minute boundary, where the count starts again
            time.sleep(61 - time.time() % 60)
        other = {"authorization": f"Bearer {TOKENS[1]}"}
        codes = {httpx.post(f"{api.url}/v1/learning-curves", json=small(744), headers=other).status_code
                 for _ in range(20)}
        assert codes <= {202, 503}
        transport = Counting()
        with Client(api.url, TOKENS[1], retries=2, max_retry_wait=0.1, transport=transport) as client:
            with pytest.raises(Busy) as limited:
                client.learning_curve(small(745), wait=False)
            assert limited.value.status_code == 429 and "more than 20 submissions in a minute" in str(limited.value)
            assert len(transport.sent) == 3
        # leave nothing waiting in the queue no worker reads
        httpx.delete(f"{api.url}/v1/jobs/{KINDS['learning_curve'].job_id(LearningCurveRequest(**small(744)))}",
                     headers=headers)
    finally:
        api.stop()


def test_the_async_client_has_the_same_methods(live):
    async def run():
        async with AsyncClient(live["api"].url) as client:
            seen = []
            curve = await client.learning_curve(small(751, simulation=None), progress=seen.append)
            job_id = seen[-1].job_id
            fetched, view = await asyncio.gather(client.result(job_id), client.job(job_id))
            diagrams = await client.diagrams()
            return curve, fetched, view, diagrams

    curve, fetched, view, diagrams = asyncio.run(run())
    assert isinstance(curve, LearningCurve) and curve == fetched and view.status is JobStatus.finished
    with Client(live["api"].url) as client:
        assert client.result(view.job_id) == curve and client.diagrams() == diagrams


def test_datasets_upload_from_a_path_arrays_or_lists_then_list_show_use_and_delete(live, tmp_path, monkeypatch):
    import numpy as np

    from tests.datasets import arrays
    from tlprobe import operations
    from tlprobe.contract.datasets import DatasetDescription
    from tlprobe.errors import Conflict

    url = live["api"].url
    inputs, labels = arrays(samples=60, input_dim=5, seed=901)
    path = tmp_path / "source.npz"
    np.savez(path, inputs=inputs, labels=labels)
    with Client(url) as client:
        uploaded = client.upload_dataset(path)
        assert isinstance(uploaded, DatasetDescription) and (uploaded.samples, uploaded.input_dim) == (60, 5)
        raw = httpx.get(f"{url}/v1/datasets/{uploaded.dataset_id}").json()
        shown = client.dataset(uploaded.dataset_id).model_dump(mode="json")
        assert {k: v for k, v in shown.items() if k != "expires_in"} == {k: v for k, v in raw.items() if k != "expires_in"}
        # the same content, however given, is the same dataset: a str path, arrays, 0/1 labels, lists (JSON)
        same = [client.upload_dataset(str(path)), client.upload_dataset({"inputs": inputs, "labels": labels}),
                client.upload_dataset((inputs, (labels > 0).astype(np.int8))),
                client.upload_dataset((inputs.tolist(), labels.tolist())), client.upload_dataset(path.read_bytes())]
        assert {d.dataset_id for d in same} == {uploaded.dataset_id}
        monkeypatch.setattr(operations, "DATASETS_PAGE", 1)  # every page is read
        others = [client.upload_dataset(arrays(samples=30, input_dim=5, seed=seed)) for seed in (902, 903)]
        listed = [d.dataset_id for d in client.datasets()]
        assert listed.index(others[1].dataset_id) < listed.index(others[0].dataset_id) < listed.index(uploaded.dataset_id)
        assert len(listed) == len(set(listed)) == httpx.get(f"{url}/v1/datasets").json()["total"]

        # refusals carry the service's reasons; what cannot be sent is refused before sending
        with pytest.raises(InvalidRequest) as one_class:
            client.upload_dataset((inputs, np.ones(60)))
        assert one_class.value.status_code == 422 and "single class" in str(one_class.value)
        with pytest.raises(TypeError, match="object arrays"):
            client.upload_dataset((np.array([[1, "a"]], dtype=object), np.array([1])))
        with pytest.raises(FileNotFoundError):
            client.upload_dataset(tmp_path / "missing.npz")

        # in use by a queued or running job: deletion is a Conflict naming it
        big = client.upload_dataset(arrays(samples=2000, input_dim=40, seed=904))
        slow = client.learning_curve({"source": {"dataset": big.dataset_id}, "target": {"dataset": big.dataset_id},
                                      "network": {"hidden_units": 200, "n_samples": 1500, "epochs": 5000},
                                      "alphas": [1.0], "protocols": ["tf"], "simulation": {"seeds": 1}}, wait=False)
        with pytest.raises(Conflict) as in_use:
            client.delete_dataset(big.dataset_id)
        assert in_use.value.status_code == 409 and slow.job_id in str(in_use.value)
        # cancel it once running (canceling a job in the instant a worker takes it is a known race, see
        # docs/operations.md): the worker stops it a moment later, and deletion waits for that
        wait_for(lambda: client.job(slow.job_id).status is JobStatus.started, 60, "the slow job to start")
        client.cancel(slow.job_id)
        assert client.wait(slow.job_id, timeout=60).status is JobStatus.canceled
        assert client.delete_dataset(big.dataset_id) is None
        with pytest.raises(NotFound):
            client.dataset(big.dataset_id)
        with pytest.raises(NotFound):
            client.delete_dataset(big.dataset_id)


def test_the_async_client_uploads_too(live, tmp_path):
    from tests.datasets import arrays

    async def main():
        async with AsyncClient(live["api"].url) as client:
            uploaded = await client.upload_dataset(arrays(samples=40, input_dim=3, seed=905))
            return uploaded, await client.dataset(uploaded.dataset_id)

    uploaded, shown = asyncio.run(main())
    assert shown.dataset_id == uploaded.dataset_id and shown.samples == 40
