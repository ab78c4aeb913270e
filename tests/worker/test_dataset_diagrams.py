"""A phase diagram on datasets run by a real RQ worker in this process (burst mode) on the test Redis:
each cell equals the learning curve of that cell computed by the engine alone, the catalogue finds
the diagram by its datasets, its picture and table are drawn, and a diagram whose dataset expired
while it waited reports its cells failed with a reason naming the dataset."""

import csv
import io

import pytest

from tests.datasets import arrays, upload
from tests.service.routes.test_dataset_diagrams import diagram_on
from tests.worker.test_dataset_jobs import run_queued
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server import keys, result_store
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data import Dataset
from worker.science.dataset_source import DatasetSplitSource


def test_each_cell_is_the_learning_curve_of_that_cell(client, redis):
    source_arrays, target_arrays = arrays(samples=60), arrays(samples=50, seed=1)
    source = upload(client, *source_arrays)["dataset_id"]
    target = upload(client, *target_arrays)["dataset_id"]
    body = diagram_on(source, target, protocols=["linear", "finetune"])
    diagram_id = client.post("/v1/phase-diagrams", json=body).json()["job_id"]
    run_queued(redis)
    assert client.get(f"/v1/jobs/{diagram_id}").json()["status"] == "finished"
    result = client.get(f"/v1/phase-diagrams/{diagram_id}").json()
    assert result["complete"] and result["gain_basis"] == "simulation" and result["theory"] is None
    assert set(result["gaussian_equivalent"]) == {"tf", "rf", "linear"}
    for yi, n_s in enumerate(body["y_axis"]["values"]):
        for xi, alpha in enumerate(body["x_axis"]["values"]):
            single = {**body, "network": {**body["network"], "n_samples": n_s}, "alphas": [alpha],
                      "protocols": ["tf", "rf", "linear", "finetune"]}
            for key in ("x_axis", "y_axis"):
                single.pop(key)
            curve = run_learning_curve(DatasetSplitSource(LearningCurveRequest.model_validate(single),
                                                          Dataset(*source_arrays), Dataset(*target_arrays))
                                       ).model_dump(mode="json")
            assert result["source_test_errors"][yi][xi] == curve["source_test_error"]
            for protocol, expected in curve["curves"].items():
                assert result["simulation"][protocol][yi][xi] == expected["simulation"]["test_error_mean"][0]
                if expected["gaussian_equivalent"] is not None:
                    assert result["gaussian_equivalent"][protocol][yi][xi] == pytest.approx(
                        expected["gaussian_equivalent"]["test_error"][0], abs=1e-8)
            sims = {p: c["simulation"]["test_error_mean"][0] for p, c in curve["curves"].items()}
            assert result["gain"][yi][xi] == pytest.approx(sims["rf"] - sims["tf"], abs=1e-15)

    listed = client.get("/v1/phase-diagrams", params={"dataset": target}).json()
    assert [item["diagram_id"] for item in listed["items"]] == [diagram_id]
    assert listed["items"][0]["parameters"]["source.dataset"] == source
    assert client.get("/v1/phase-diagrams", params={"dataset": "ds-" + "0" * 40}).json()["total"] == 0
    png = client.get(f"/v1/phase-diagrams/{diagram_id}.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert source[:11].encode() in client.get(f"/v1/phase-diagrams/{diagram_id}.svg").content
    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/phase-diagrams/{diagram_id}",
                                                      params={"format": "csv"}).text)))
    assert len(rows) == 4 * 4 and all(row["theory_test_error"] == "" for row in rows)
    assert {row["protocol"] for row in rows if row["gaussian_equivalent_test_error"]} == {"tf", "rf", "linear"}
    # the jobs have ended: the datasets can go, and the diagram stays cached
    assert client.delete(f"/v1/datasets/{source}").status_code == 204
    again = client.post("/v1/phase-diagrams", json=body)
    assert again.status_code == 200 and again.json()["result"] == result


def test_a_diagram_whose_dataset_expired_reports_its_cells_failed_naming_it(client, redis):
    source = upload(client, *arrays(samples=60))["dataset_id"]
    target = upload(client, *arrays(samples=50, seed=1))["dataset_id"]
    diagram_id = client.post("/v1/phase-diagrams", json=diagram_on(source, target, theory=None)).json()["job_id"]
    redis.pexpire(keys.dataset(target), 1)  # it expires while the jobs wait in the queue
    while redis.exists(keys.dataset(target)):
        pass
    run_queued(redis)
    result = result_store.get(redis, diagram_id)
    assert not result["complete"] and len(result["failures"]) == 4
    assert all(f"missing dataset: dataset {target} does not exist" in f["reason"] for f in result["failures"])
    assert client.post("/v1/phase-diagrams", json=diagram_on(source, target, theory=None)).status_code == 422
