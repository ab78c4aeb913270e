"""Phase diagrams end to end: fan-out over real workers, equality with one-by-one learning curves,
failed cells and retries, pictures, the catalogue, and what the diagrams say."""

import time

import httpx2 as httpx
import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from devtools.stack import Api
from tests.integration.test_live import executions, wait_finished
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe.kinds import KINDS
from tlprobe_server.diagrams.plan import plan

pytestmark = pytest.mark.e2e
SMALL = {"source": {"latent_dim": 10, "input_dim": 40}, "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60},
         "theory": {"mc_samples": 4000}}


def diagram(seed: int, **changes) -> dict:
    body = {**SMALL, "source": {**SMALL["source"], "seed": seed},
            "x_axis": {"name": "alpha", "values": [0.5, 2.0]}, "y_axis": {"name": "feature_noise", "values": [0.0, 0.5]}}
    body.update(changes)
    return body


def test_diagram_cells_equal_learning_curves_one_by_one(live):
    api = live["api"].url
    body = diagram(11, simulation={"seeds": 2, "test_samples": 1000})
    submitted = httpx.post(f"{api}/v1/phase-diagrams", json=body)
    assert submitted.status_code == 202 and submitted.json()["job_id"].startswith("pd-")
    diagram_id = submitted.json()["job_id"]
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        view = httpx.get(f"{api}/v1/jobs/{diagram_id}").json()
        seen.append(view["progress"])
        if view["status"] in ("finished", "failed"):
            break
        time.sleep(0.05)
    assert view["status"] == "finished"
    assert any(p and p["stage"] == "cells" and p["done"] < p["total"] for p in seen)
    result = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    assert result["complete"] and result["gain_basis"] == "theory" and not result["failures"]
    for yi, noise in enumerate([0.0, 0.5]):
        for xi, alpha in enumerate([0.5, 2.0]):
            single = {**SMALL, "source": body["source"], "target": {"feature_noise": noise}, "alphas": [alpha],
                      "protocols": ["tf", "rf"], "simulation": {"seeds": 2, "test_samples": 1000}}
            lc_id = httpx.post(f"{api}/v1/learning-curves", json=single).json()["job_id"]
            assert wait_finished(api, lc_id)["status"] == "finished"
            curve = httpx.get(f"{api}/v1/jobs/{lc_id}/result").json()["curves"]
            for protocol in ("tf", "rf"):
                # theory: the same fixed point, reached from another warm start (tolerance 1e-10)
                assert result["theory"][protocol][yi][xi] == pytest.approx(
                    curve[protocol]["theory"]["test_error"][0], abs=1e-8)
                # simulation: the same samples and fits, bit for bit
                assert result["simulation"][protocol][yi][xi] == curve[protocol]["simulation"]["test_error_mean"][0]
            assert result["gain"][yi][xi] == pytest.approx(
                curve["rf"]["theory"]["test_error"][0] - curve["tf"]["theory"]["test_error"][0], abs=2e-8)
    again = httpx.post(f"{api}/v1/phase-diagrams", json=body)
    assert again.status_code == 200 and again.json()["cached"] and again.json()["result"] == result

    png = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}.png").content == png.content  # served from the cache
    svg = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    csv_rows = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}", params={"format": "csv"}).text.splitlines()
    assert len(csv_rows) == 1 + 4 * 2
    plot = httpx.get(f"{api}/v1/jobs/{lc_id}/plot.png")
    assert plot.status_code == 200 and plot.content[:4] == b"\x89PNG"
    listed = httpx.get(f"{api}/v1/phase-diagrams", params={"y_axis": "feature_noise",
                                                           "range": "source.seed:11:11"}).json()
    assert [item["diagram_id"] for item in listed["items"]] == [diagram_id]


def test_a_failed_cell_is_reported_and_a_retry_recomputes_only_what_is_missing(live):
    api, redis = live["api"].url, live["redis"]
    body = diagram(12)
    layout = plan(PhaseDiagramRequest.model_validate(body), chunk=2)
    poisoned = KINDS["learning_curve"].job_id(layout.parts[1].request)
    queue = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    blocker = queue.enqueue_call("time.sleep", args=(2,))
    queue.enqueue_call("worker.tasks.run_learning_curve", kwargs={"request": {"alphas": "not a list"}},
                       job_id=poisoned, depends_on=blocker)
    diagram_id = httpx.post(f"{api}/v1/phase-diagrams", json=body).json()["job_id"]
    assert wait_finished(api, diagram_id, timeout=120)["status"] == "finished"
    result = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    assert not result["complete"]
    assert {(f["x_index"], f["y_index"]) for f in result["failures"]} == {(0, 1), (1, 1)}  # feature_noise 0.5
    assert all("theory part failed" in f["reason"] for f in result["failures"])
    assert result["gain"][1] == [None, None] and None not in result["gain"][0]
    before = executions(redis, "learning_curve")
    retry = httpx.post(f"{api}/v1/phase-diagrams", json=body)
    assert retry.status_code == 202  # an incomplete diagram is not a cache hit
    assert wait_finished(api, diagram_id, timeout=120)["status"] == "finished"
    fixed = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    assert fixed["complete"] and fixed["gain"][0] == result["gain"][0]
    assert executions(redis, "learning_curve") == before + 1  # only the failed part ran again


def test_the_assembly_follows_the_plan_made_at_submission(live, tmp_path):
    # This API splits simulations into one alpha per part; the workers are configured with the
    # default two. The assembly reads the parts recorded at submission, so every cell is found.
    api = Api(live["api"].env["TLPROBE_REDIS_URL"], log_path=tmp_path / "api.log",
              TLPROBE_DIAGRAM_CHUNK_ALPHAS="1").start()
    try:
        body = diagram(13, x_axis={"name": "alpha", "values": [0.5, 1.0, 2.0]},
                       y_axis={"name": "teacher_noise", "values": [0.2]}, theory=None, baseline="scratch",
                       simulation={"seeds": 1, "test_samples": 500})
        diagram_id = httpx.post(f"{api.url}/v1/phase-diagrams", json=body).json()["job_id"]
        assert wait_finished(api.url, diagram_id, timeout=120)["status"] == "finished"
        result = httpx.get(f"{api.url}/v1/phase-diagrams/{diagram_id}").json()
    finally:
        api.stop()
    assert result["complete"] and not result["failures"] and result["meta"]["parts"] == 3
    assert all(value is not None for value in result["gain"][0])


def test_the_default_diagram_shows_where_transfer_pays(live):
    # default: alpha in {0.25, ..., 4} x teacher_noise in {0, ..., 1}, tf against rf, theory only, each
    # protocol at its oracle lambda (the theory runs at its oracle unless the lambda is a number)
    api = live["api"].url
    diagram_id = httpx.post(f"{api}/v1/phase-diagrams", json={}).json()["job_id"]
    assert wait_finished(api, diagram_id, timeout=300)["status"] == "finished"
    result = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    gain = result["gain"]  # [teacher_noise][alpha]
    assert result["complete"] and result["x_axis"]["name"] == "alpha" and result["y_axis"]["name"] == "teacher_noise"
    # small alpha, no noise: transferred features beat random ones by far (measured 0.224)
    assert gain[0][0] > 0.1
    for column in range(len(result["x_axis"]["values"])):
        rows = [gain[row][column] for row in range(len(gain))]
        # the gain shrinks as the rules decorrelate (measured 0.224 -> 0.007 at alpha 0.25, 0.041 -> 0.013 at 4)
        assert all(a > b for a, b in zip(rows, rows[1:])) and rows[-1] < rows[0] - 0.02
        # at their best lambdas tf never loses to rf here, even with an independent teacher: the source
        # network's features still describe the shared input manifold (at lambda = 0.1 they lost from
        # teacher_noise 0.25 on; docs/phase_diagrams.md)
        assert min(rows) > 0
    assert all(row["crossings"] == [] for row in result["boundary"])


def test_an_axis_over_the_network_trains_each_network_once(live):
    api, redis = live["api"].url, live["redis"]
    trainings = int(redis.hget("tlprobe:stats:computed", "network") or 0)
    body = diagram(14, y_axis={"name": "hidden_units", "values": [15, 30]})
    body["network"] = {"n_samples": 400, "epochs": 60}  # hidden_units is the axis's
    diagram_id = httpx.post(f"{api}/v1/phase-diagrams", json=body).json()["job_id"]
    assert wait_finished(api, diagram_id, timeout=180)["status"] == "finished"
    result = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}").json()
    assert result["complete"] and int(redis.hget("tlprobe:stats:computed", "network")) == trainings + 2
    assert result["source_test_error"] is None and len({e for row in result["source_test_errors"] for e in row}) == 2
    # a cell equals its learning curve asked alone (same network, same spectra: the cached parts)
    single = {**SMALL, "source": body["source"], "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60},
              "alphas": [2.0], "protocols": ["tf", "rf"], "simulation": None}
    lc_id = httpx.post(f"{api}/v1/learning-curves", json=single).json()["job_id"]
    assert wait_finished(api, lc_id)["status"] == "finished"
    curve = httpx.get(f"{api}/v1/jobs/{lc_id}/result").json()
    assert result["theory"]["tf"][1][1] == pytest.approx(curve["curves"]["tf"]["theory"]["test_error"][0], abs=1e-8)
    assert result["source_test_errors"][1][1] == curve["source_test_error"]
    png = httpx.get(f"{api}/v1/phase-diagrams/{diagram_id}.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    (live["logs"] / "hidden_units_alpha.png").write_bytes(png.content)
