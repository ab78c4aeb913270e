"""End to end: a real uvicorn, real RQ worker processes, a real Redis."""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import numpy as np
import pytest
import scipy
from rq import Queue
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from devtools.stack import stack_env
from tests.requests import live_curve
from tlprobe.contract.gcm import GCMRequest
from tlprobe_server import keys
from worker.science.gcm.custom import solve_custom

pytestmark = pytest.mark.e2e


def small(seed: int, **changes) -> dict:
    return live_curve(seed, {"hidden_units": 30, "n_samples": 400, "epochs": 60}, **changes)


def engine_alone(request: dict) -> dict:
    """The engine's own answer, from its command line, with the workers' thread count (1): bit for bit
    the same numbers (LAPACK rounds differently with other thread counts, at the 1e-13 level)."""
    out = subprocess.run([sys.executable, "-m", "worker.science", "learning-curve", "-"], input=json.dumps(request),
                         capture_output=True, text=True, check=True, env=stack_env("unused", OPENBLAS_NUM_THREADS="1",
                                                                                   OMP_NUM_THREADS="1"))
    return json.loads(out.stdout)


def wait_finished(api_url: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = httpx.get(f"{api_url}/v1/jobs/{job_id}", params={"wait": 10}, timeout=30).json()
        if view["status"] in ("finished", "failed", "canceled"):
            return view
    raise TimeoutError(job_id)


def waiting_or_running(redis, job_id: str) -> list[str]:
    """Where ``job_id`` still waits or runs: the queue itself (an id may sit there twice) and RQ's
    started, deferred and scheduled registries. Empty once nothing of it is left to execute."""
    queue = Queue("tlprobe", connection=redis, serializer=JSONSerializer)
    places = ["queue"] * queue.get_job_ids().count(job_id)
    for registry in (StartedJobRegistry(queue=queue), DeferredJobRegistry(queue=queue),
                     ScheduledJobRegistry(queue=queue)):
        if job_id in registry.get_job_ids():
            places.append(registry.key)
    return places


def executions(redis, kind: str) -> int:
    return int(redis.hget(keys.executions_counter(), kind) or 0)


def computed(redis, kind: str) -> int:
    return int(redis.hget(keys.computed_counter(), kind) or 0)


def without_meta(result: dict) -> dict:
    """A result without what depends on where and when it ran (timings, host, versions)."""
    return {k: v for k, v in result.items() if k != "meta"}


def test_submit_progress_finish_and_the_engine_numbers(live):
    api, redis = live["api"].url, live["redis"]
    # long enough (about 3 s on an idle core) for several of the worker's 0.5 s progress writes
    request = small(101, network={"hidden_units": 60, "n_samples": 2000, "epochs": 1500})
    response = httpx.post(f"{api}/v1/learning-curves", json=request)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        view = httpx.get(f"{api}/v1/jobs/{job_id}").json()
        seen.append(view)
        if view["status"] == "finished":
            break
        time.sleep(0.05)
    assert seen[-1]["status"] == "finished" and seen[-1]["ended_at"] is not None
    running = [v for v in seen if v["status"] == "started" and v["progress"]]
    assert running, "progress was never visible"
    assert any(v["progress"]["stage"] == "source_network" and 0 < v["progress"]["done"] < v["progress"]["total"]
               for v in running)
    result = httpx.get(f"{api}/v1/jobs/{job_id}/result").json()
    assert without_meta(result) == without_meta(engine_alone(request))
    meta = result["meta"]
    assert meta["job_id"] == job_id and job_id[3:] == meta["cache_key"][:40] and meta["science_version"]
    assert meta["package_version"] and "numerics" in meta and meta["timings"]["source_network"] > 0
    assert meta["libraries"]["numpy"] == np.__version__ and meta["libraries"]["scipy"] == scipy.__version__
    assert {blas["used_by"] for blas in meta["libraries"]["blas"]} >= {"numpy", "scipy"}

    before = executions(redis, "learning_curve")
    again = httpx.post(f"{api}/v1/learning-curves", json=request)
    assert again.status_code == 200 and again.json()["cached"] and again.json()["result"] == result
    assert waiting_or_running(redis, job_id) == []  # nothing was queued for the cache hit
    assert executions(redis, "learning_curve") == before


def test_two_hundred_concurrent_duplicates_execute_once(live):
    api, redis = live["api"].url, live["redis"]
    request = small(202)
    before = executions(redis, "learning_curve")
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: client.post(f"{api}/v1/learning-curves", json=request), range(200)))
    assert {r.status_code for r in responses} <= {200, 202}
    job_ids = {r.json()["job_id"] for r in responses}
    assert len(job_ids) == 1
    job_id = job_ids.pop()
    assert wait_finished(api, job_id)["status"] == "finished"
    assert waiting_or_running(redis, job_id) == []  # no duplicate left waiting to run again
    assert executions(redis, "learning_curve") == before + 1


def test_network_and_spectra_are_reused_across_requests(live):
    api, redis = live["api"].url, live["redis"]
    trainings, spectra = computed(redis, "network"), computed(redis, "spectra")
    first = httpx.post(f"{api}/v1/learning-curves", json=small(303)).json()["job_id"]
    assert wait_finished(api, first)["status"] == "finished"
    assert computed(redis, "network") == trainings + 1 and computed(redis, "spectra") == spectra + 3
    other = small(303, alphas=[0.25, 1.0, 4.0], readout={"regularisation": 0.01})
    second = httpx.post(f"{api}/v1/learning-curves", json=other).json()["job_id"]
    assert second != first and wait_finished(api, second)["status"] == "finished"
    assert computed(redis, "network") == trainings + 1 and computed(redis, "spectra") == spectra + 3
    result = httpx.get(f"{api}/v1/jobs/{second}/result").json()
    assert all(a["reused"] for a in result["meta"]["artifacts"].values())
    target = small(303, target={"feature_noise": 0.5})
    third = httpx.post(f"{api}/v1/learning-curves", json=target).json()["job_id"]
    assert wait_finished(api, third)["status"] == "finished"
    assert computed(redis, "network") == trainings + 1  # a new target needs new spectra, not a new network
    assert computed(redis, "spectra") == spectra + 6


def test_gcm_with_covariances_matches_the_engine(live):
    api = live["api"].url
    rng = np.random.default_rng(3)
    a = rng.standard_normal((20, 60))
    joint = a @ a.T / 60
    k = 5
    covariances = {"psi": joint[:k, :k].tolist(), "phi": joint[k:, :k].tolist(), "omega": joint[k:, k:].tolist(),
                   "theta": rng.standard_normal(k).tolist()}
    request = {"covariances": covariances, "loss": "logistic", "regularisation": "optimal",
               "sample_complexities": [0.5, 2.0]}
    job_id = httpx.post(f"{api}/v1/gcm", json=request).json()["job_id"]
    assert wait_finished(api, job_id)["status"] == "finished"
    result = httpx.get(f"{api}/v1/jobs/{job_id}/result").json()
    expected = {"kind": "gcm", **solve_custom(GCMRequest.model_validate(request))}
    assert without_meta(result) == expected
    assert all(result["converged"]) and result["p"] == 15


def test_a_batch_of_mixed_kinds_finishes(live):
    api = live["api"].url
    spectrum = {"spectrum": {"omega": [0.5, 1.0, 2.0], "t": [0.1, 0.2, 0.3], "rho": 1.0, "gamma": 1.0},
                "sample_complexities": [1.0, 3.0]}
    batch = {"requests": [{"kind": "learning_curve", "request": small(404)}, {"kind": "gcm", "request": spectrum},
                          {"kind": "learning_curve", "request": small(405, simulation=None)}]}
    response = httpx.post(f"{api}/v1/batches", json=batch)
    assert response.status_code == 202
    batch_id = response.json()["batch_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        view = httpx.get(f"{api}/v1/batches/{batch_id}").json()
        if view["counts"]["finished"] == 3:
            break
        time.sleep(0.2)
    assert view["counts"] == {"queued": 0, "started": 0, "finished": 3, "failed": 0, "canceled": 0}
    for job in view["jobs"]:
        assert httpx.get(f"{api}/v1/jobs/{job['job_id']}/result").json()["kind"] == job["kind"]


def test_cancel_a_running_job(live):
    api = live["api"].url
    slow = small(505, network={"hidden_units": 200, "n_samples": 4000, "epochs": 5000})
    job_id = httpx.post(f"{api}/v1/learning-curves", json=slow).json()["job_id"]
    deadline = time.monotonic() + 60
    while httpx.get(f"{api}/v1/jobs/{job_id}").json()["status"] != "started":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    canceled = httpx.delete(f"{api}/v1/jobs/{job_id}").json()
    assert canceled["status"] in ("started", "canceled")
    assert wait_finished(api, job_id, timeout=30)["status"] == "canceled"
    assert httpx.get(f"{api}/v1/jobs/{job_id}/result").status_code == 409
    # the worker is free again: a quick job still runs
    quick = httpx.post(f"{api}/v1/learning-curves", json=small(506, simulation=None)).json()["job_id"]
    assert wait_finished(api, quick)["status"] == "finished"


def test_invalid_input_over_the_wire(live):
    api = live["api"].url
    response = httpx.post(f"{api}/v1/learning-curves", json={"alphas": [0]})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "alphas", 0]
    assert httpx.get(f"{api}/readyz").json()["workers"] == 3  # two on both queues, one on the interactive queue
