"""End to end on datasets: a real uvicorn, real RQ workers, a real Redis. Upload (twice: one id, one
copy), a learning curve with all five protocols on the digits, the engine's own numbers, a cached
second request, and results that outlive their dataset."""

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest

from tests.integration.test_live import executions, wait_finished
from tlprobe import Client
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server import keys
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data import Dataset
from worker.science.dataset_source import DatasetSplitSource

pytestmark = pytest.mark.e2e
DIGITS = Path(__file__).resolve().parents[2] / "examples" / "data" / "digits.npz"


def digit_tasks() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Source: digit < 5 on one half of the images; target: even digit on the other half."""
    with np.load(DIGITS, allow_pickle=False) as data:
        images, digits = data["images"], data["digits"]
    order = np.random.default_rng(0).permutation(len(images))
    source, target = order[:899], order[899:]
    return ((images[source], np.where(digits[source] < 5, 1, 0)),
            (images[target].astype(np.float64), np.where(digits[target] % 2 == 0, 1, -1)))


#: what moves with the chosen lambda: the optimal-lambda search stops within its tolerance (1e-3 decades,
#: gcm/optimal.py) at an iterate that spectra rounded differently (BLAS on one thread or two) may change, by
#: about 1e-8 relative in lambda; the test errors barely move (E is flat at its minimum), these follow lambda (the
#: Monte Carlo error through the halves, solved at the full spectrum's lambda, where they are not flat)
BY_LAMBDA = ("regularisation", "overlaps", "train_loss", "residual", "mc_error")
LAMBDA_DEPENDENT = 1e-6


def assert_same_numbers(got, expected, path="result"):
    """Equal up to the last bits of floating point (the workers run BLAS on one thread, this process may not)."""
    if isinstance(expected, dict):
        assert got.keys() == expected.keys(), path
        for key in expected:
            assert_same_numbers(got[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), path
        for index, (a, b) in enumerate(zip(got, expected)):
            assert_same_numbers(a, b, f"{path}[{index}]")
    elif isinstance(expected, float) and not isinstance(got, bool):
        assert math.isclose(got, expected, rel_tol=LAMBDA_DEPENDENT if any(name in path for name in BY_LAMBDA) else 1e-8,
                            abs_tol=1e-12), (path, got, expected)
    elif not path.endswith("iterations") and ".iterations[" not in path:  # the last plain iterations: 1 or 2
        assert got == expected, path


def test_upload_then_a_learning_curve_with_all_protocols_then_a_cached_second_request(live):
    api, redis = live["api"].url, live["redis"]
    (source_x, source_y), (target_x, target_y) = digit_tasks()
    buffer = io.BytesIO()
    np.savez(buffer, inputs=source_x, labels=source_y)
    sent = [httpx.post(f"{api}/v1/datasets", content=buffer.getvalue(),
                       headers={"content-type": "application/octet-stream"}, timeout=30) for _ in range(2)]
    assert [r.status_code for r in sent] == [201, 200] and sent[0].json()["dataset_id"] == sent[1].json()["dataset_id"]
    source = sent[0].json()
    constant = int(np.sum(source_x.max(axis=0) == source_x.min(axis=0)))  # blank corner pixels
    assert (source["samples"], source["input_dim"], source["constant_features"]) == (899, 64, constant) and constant
    target = httpx.post(f"{api}/v1/datasets", json={"inputs": target_x.tolist(), "labels": target_y.tolist()},
                        timeout=30).json()
    stored = [k for k in redis.keys(keys.dataset("ds-*")) if k.decode().split(":")[-1] in
              (source["dataset_id"], target["dataset_id"])]
    assert len(stored) == 2  # one copy each

    request = {"source": {"dataset": source["dataset_id"]}, "target": {"dataset": target["dataset_id"]},
               "network": {"hidden_units": 20, "n_samples": 300, "epochs": 60}, "alphas": [0.5, 2.0],
               "protocols": ["tf", "rf", "linear", "scratch", "finetune"], "simulation": {"seeds": 2}}
    response = httpx.post(f"{api}/v1/learning-curves", json=request)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert wait_finished(api, job_id)["status"] == "finished"
    result = httpx.get(f"{api}/v1/jobs/{job_id}/result").json()

    for protocol, curve in result["curves"].items():
        assert curve["theory"] is None and len(curve["simulation"]["test_errors"]) == 2
        assert all(0.0 <= e <= 1.0 for e in curve["simulation"]["test_error_mean"])
        equivalent = curve["gaussian_equivalent"]
        assert (equivalent is not None) == (protocol in ("tf", "rf", "linear"))
        if equivalent is not None:
            assert all(equivalent["converged"])
            assert equivalent["gap_to_simulation"] == pytest.approx(
                [g - s for g, s in zip(equivalent["test_error"], curve["simulation"]["test_error_mean"])], abs=1e-15)
    assert result["data"]["target"] == {"dataset": target["dataset_id"], "samples": 898, "training_split": 718,
                                        "held_out": 180, "test_samples": 180}
    expected = run_learning_curve(DatasetSplitSource(LearningCurveRequest.model_validate(request),
                                                     Dataset(source_x.astype(float), np.where(source_y > 0, 1.0, -1.0)),
                                                     Dataset(target_x, target_y.astype(float)))).model_dump(mode="json")
    assert_same_numbers({k: v for k, v in result.items() if k != "meta"},
                        {k: v for k, v in expected.items() if k != "meta"})
    assert result["meta"]["cache_key"][:40] == job_id[3:]

    before = executions(redis, "learning_curve")
    again = httpx.post(f"{api}/v1/learning-curves", json=request)
    assert again.status_code == 200 and again.json()["cached"] and again.json()["result"] == result
    assert executions(redis, "learning_curve") == before
    png = httpx.get(f"{api}/v1/jobs/{job_id}/plot.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"

    # the job has ended: the datasets can go, and the result stays cached (it is keyed by their content)
    assert httpx.delete(f"{api}/v1/datasets/{source['dataset_id']}").status_code == 204
    assert httpx.post(f"{api}/v1/learning-curves", json=request).status_code == 200
    other = {**request, "alphas": [1.0]}
    refused = httpx.post(f"{api}/v1/learning-curves", json=other)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "source", "dataset"]


def upload_digit_tasks(api: str) -> tuple[str, str]:
    (source_x, source_y), (target_x, target_y) = digit_tasks()
    ids = []
    for inputs, labels in ((source_x, source_y), (target_x, target_y)):
        buffer = io.BytesIO()
        np.savez(buffer, inputs=inputs, labels=labels)
        response = httpx.post(f"{api}/v1/datasets", content=buffer.getvalue(),
                              headers={"content-type": "application/octet-stream"}, timeout=30)
        assert response.status_code in (200, 201)
        ids.append(response.json()["dataset_id"])
    return ids[0], ids[1]


def test_a_diagram_on_the_digits_equals_the_learning_curves_of_its_cells(live):
    api = live["api"].url
    source, target = upload_digit_tasks(api)
    body = {"source": {"dataset": source}, "target": {"dataset": target},
            "network": {"hidden_units": 20, "epochs": 60}, "protocols": ["tf", "scratch"],
            "x_axis": {"name": "alpha", "values": [0.5, 2.0]}, "y_axis": {"name": "n_samples", "values": [150, 300]},
            "simulation": {"seeds": 2}}
    submitted = httpx.post(f"{api}/v1/phase-diagrams", json=body)
    assert submitted.status_code == 202, submitted.text
    diagram_id = submitted.json()["job_id"]
    refused = httpx.delete(f"{api}/v1/datasets/{target}")  # the diagram waits for its parts: it cannot have ended
    assert refused.status_code == 409 and diagram_id in refused.json()["detail"]
    assert wait_finished(api, diagram_id, timeout=300)["status"] == "finished"
    result = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    assert result["complete"] and result["gain_basis"] == "simulation" and result["theory"] is None
    for yi, n_s in enumerate([150, 300]):
        for xi, alpha in enumerate([0.5, 2.0]):
            single = {"source": body["source"], "target": body["target"],
                      "network": {**body["network"], "n_samples": n_s}, "alphas": [alpha],
                      "protocols": ["tf", "rf", "scratch"], "simulation": {"seeds": 2}}
            response = httpx.post(f"{api}/v1/learning-curves", json=single)
            assert response.status_code == 202  # not a part of the diagram (those hold both alphas): computed anew
            lc_id = response.json()["job_id"]
            assert wait_finished(api, lc_id, timeout=300)["status"] == "finished"
            curve = httpx.get(f"{api}/v1/jobs/{lc_id}/result").json()
            assert result["source_test_errors"][yi][xi] == curve["source_test_error"]
            for protocol in ("tf", "rf", "scratch"):
                # the same seeds: the same samples, fits and trainings, bit for bit
                assert result["simulation"][protocol][yi][xi] == curve["curves"][protocol]["simulation"][
                    "test_error_mean"][0]
            for protocol in ("tf", "rf"):
                # the same Gaussian-equivalent fixed point, reached from another warm start
                assert result["gaussian_equivalent"][protocol][yi][xi] == pytest.approx(
                    curve["curves"][protocol]["gaussian_equivalent"]["test_error"][0], abs=1e-8)
            simulated = {p: curve["curves"][p]["simulation"]["test_error_mean"][0] for p in ("tf", "rf")}
            assert result["gain"][yi][xi] == pytest.approx(simulated["rf"] - simulated["tf"], abs=1e-15)
    listed = httpx.get(f"{api}/v1/phase-diagrams", params={"dataset": source}).json()
    assert diagram_id in [item["diagram_id"] for item in listed["items"]]
    with Client(api) as client:  # the catalogue filter from the client and the command line
        assert diagram_id in [entry.diagram_id for entry in client.diagrams(dataset=target)]
    command = subprocess.run([str(Path(sys.executable).with_name("tlprobe")), "diagrams", "--dataset", source,
                              "--format", "json"], env={**os.environ, "TLPROBE_URL": api}, capture_output=True,
                             text=True, timeout=60)
    assert command.returncode == 0 and diagram_id in [entry["diagram_id"] for entry in json.loads(command.stdout)]
    png = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
