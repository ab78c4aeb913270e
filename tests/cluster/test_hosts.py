"""tlprobe on four hosts (Linux network namespaces on a bridge: devtools.hosts, devtools.cluster): Redis on
one, the API on another, one worker on each of two more, each host with its own hostname and /tmp.
This process is the client, on the bridge, and talks to the API only (and reads RQ's records in Redis).

(a) a simulated phase diagram's parts run on both worker hosts; (b) a worker host cut off mid-job: its
job is finished by the other host within a bound derived from the liveness settings, with the result
the engine computes alone; (c) Redis's host cut off for about ten seconds: every answer of the API
comes within its Redis timeout (a result read in the last seconds, or a 503), and the service
recovers by itself once the link is back.

Part of ``make test`` (about a minute here: under the two minutes that would call for a target of its
own) and of CI, which runs as root; skipped without root (namespaces, links). ``make cluster-test``
runs it alone. Every answer's numbers are printed: ``[hosts]`` lines.
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from devtools.cluster import Stack, handover_bound, wait_for
from service.stored import HOT_SECONDS
from tests.integration.test_live import engine_alone, without_meta

pytestmark = [pytest.mark.cluster, pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="namespace hosts need root (make cluster-test, CI)")]

REDIS_TIMEOUT = 2.0
#: how long Redis's host is cut off in (c): past the API's memory of a result read just before (HOT_SECONDS)
CUT_SECONDS = 12.0
#: a response may take the Redis timeout plus this much (the request's own handling, the bridge) (s)
RESPONSE_MARGIN = 1.0
SMALL = {"source": {"latent_dim": 10, "input_dim": 40}, "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60},
         "theory": {"mc_samples": 4000}}
#: about 10 s on one thread here: scratch training of 12 seeds at four alphas dominates
LONG_CURVE = {"source": {"latent_dim": 20, "input_dim": 100, "seed": 4},
              "network": {"hidden_units": 100, "n_samples": 1000, "epochs": 200},
              "alphas": [0.5, 1.0, 2.0, 4.0], "theory": {"mc_samples": 10000},
              "simulation": {"seeds": 12, "test_samples": 2000}, "protocols": ["tf", "rf", "scratch"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("cluster-logs")
    with Stack(logs, redis_timeout=REDIS_TIMEOUT) as built:
        print(built.cluster.describe())
        yield built
        print(f"host logs in {logs}")


def finished(client, job_id: str, timeout: float = 120) -> dict:
    return wait_for(lambda: (view := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("finished", "failed")
                    and view, timeout, f"job {job_id}")


def rq_job(stack: Stack, job_id: str) -> Job:
    return Job.fetch(job_id, connection=stack.redis(), serializer=JSONSerializer)


def hostname_running(stack: Stack, job_id: str) -> str | None:
    """The hostname of the worker that runs ``job_id`` now (None when it is not running)."""
    job = rq_job(stack, job_id)
    if job.get_status() != "started" or not job.worker_name:
        return None
    found = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=stack.redis())
    return found.hostname if found is not None else None


def runs(rows: list[tuple]) -> list[tuple[int, list[float], list[float]]]:
    """Consecutive answers of one status: (status, times sent, latencies)."""
    grouped: list[tuple[int, list[float], list[float]]] = []
    for at, _, status, latency, _ in rows:
        if not grouped or grouped[-1][0] != status:
            grouped.append((status, [], []))
        grouped[-1][1].append(at)
        grouped[-1][2].append(latency)
    return grouped


def summary(times: list[float], status: int, latencies: list[float]) -> str:
    return (f"{status} x{len(times)} sent {times[0]:.1f}-{times[-1]:.1f} s after the cut, answered in "
            f"{min(latencies):.2f}-{max(latencies):.2f} s")


def test_a_diagrams_parts_run_on_both_worker_hosts(stack, capsys):
    body = {**SMALL, "source": {**SMALL["source"], "seed": 21},
            "x_axis": {"name": "alpha", "values": [0.5, 1.0, 2.0, 3.0]},
            "y_axis": {"name": "feature_noise", "values": [0.0, 0.5]},
            "simulation": {"seeds": 2, "test_samples": 1000}}
    with stack.client() as client:
        submitted = client.post("/v1/phase-diagrams", json=body)
        assert submitted.status_code == 202, submitted.text
        diagram_id = submitted.json()["job_id"]
        assert finished(client, diagram_id, timeout=240)["status"] == "finished"
        diagram = client.get(f"/v1/phase-diagrams/{diagram_id}").json()
        assert diagram["complete"] and not diagram["failures"]
        plan = rq_job(stack, diagram_id).meta["plan"]
        parts = [(part["role"], part["job_id"]) for part in plan["parts"]] + [("network", job_id)
                                                                             for job_id in plan["networks"]]
        ran_on = {job_id: client.get(f"/v1/jobs/{job_id}/result").json()["meta"]["worker"] for _, job_id in parts}
    # 2 targets x (1 theory part + 2 simulation parts of 2 alphas) + the source network
    assert len(parts) == 7
    hosts = {stack.host_of_hostname(name) for name in ran_on.values()}
    with capsys.disabled():
        print(f"\n[hosts] (a) diagram {diagram_id[:11]}, {len(parts)} parts: " + ", ".join(
            f"{role} {job_id[:11]} on {stack.host_of_hostname(ran_on[job_id])}" for role, job_id in parts))
    assert hosts == {"w1", "w2"}
    assert stack.host_of_hostname(diagram["meta"]["worker"]) in {"w1", "w2"}


def test_b_a_job_whose_host_is_cut_off_is_finished_by_the_other_host(stack, capsys):
    bound = handover_bound(stack.settings)
    with stack.client() as client:
        stack.wait_workers(["w1", "w2"])
        submitted = client.post("/v1/learning-curves", json=LONG_CURVE)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        first = wait_for(lambda: hostname_running(stack, job_id), 60, "the job to start")
        cut_host = stack.cluster[stack.host_of_hostname(first)]
        other = next(host for host in stack.workers if host is not cut_host)
        time.sleep(2.0)  # mid-job: it has run for a while
        assert rq_job(stack, job_id).get_status() == "started"
        cut_host.cut()
        cut_at = time.monotonic()
        try:
            taken_up = wait_for(lambda: hostname_running(stack, job_id) == other.hostname and time.monotonic(),
                                bound + 30, f"{other.name} to take the job up", interval=0.1)
            view = finished(client, job_id, timeout=300)
            finished_at = time.monotonic()
            assert view["status"] == "finished", view
            result = client.get(f"/v1/jobs/{job_id}/result")
        finally:
            cut_host.heal()
        healed_at, healed_utc = time.monotonic(), datetime.now(timezone.utc)
        # the cut host comes back by itself, and what its worker left running records nothing over the
        # job the other host finished (worker.handover)
        stack.wait_workers([cut_host.name], timeout=120, since=healed_utc)
        rejoined = time.monotonic() - healed_at
        time.sleep(3.0)
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "finished"
        assert client.get(f"/v1/jobs/{job_id}/result").content == result.content
    result = result.json()
    took, handed_over = finished_at - cut_at, taken_up - cut_at
    elapsed = result["meta"]["elapsed_seconds"]
    with capsys.disabled():
        print(f"\n[hosts] (b) {job_id[:11]} started on {cut_host.name}, its link cut 2 s in; taken up by {other.name} "
              f"{handed_over:.1f} s after the cut (bound {bound:.0f} s), finished {took:.1f} s after the cut (it ran "
              f"{elapsed:.1f} s there; bound {bound:.0f} + {elapsed:.1f} + 3 s); {cut_host.name} back {rejoined:.1f} s "
              "after its link")
    assert result["meta"]["worker"] == other.hostname
    assert handed_over <= bound
    # the run on the other host: its own elapsed time, plus forking the work horse and storing the result
    assert took <= bound + elapsed + 3.0
    # the right result: the engine alone, with the workers' one BLAS thread, gives the same numbers, bit for bit
    assert without_meta(result) == without_meta(engine_alone(LONG_CURVE))


def test_c_with_redis_cut_off_the_api_answers_within_its_timeout_and_recovers(stack, capsys):
    curve = {**SMALL, "source": {**SMALL["source"], "seed": 31}, "alphas": [0.5, 2.0], "protocols": ["tf", "rf"]}
    seeds = itertools.count(1000)
    timeline: list[tuple[float, str, int, float, bytes]] = []
    with stack.client() as client:
        job_id = client.post("/v1/learning-curves", json=curve).json()["job_id"]
        assert finished(client, job_id)["status"] == "finished"
        requests = {
            "GET result": lambda: client.get(f"/v1/jobs/{job_id}/result"),
            "GET job": lambda: client.get(f"/v1/jobs/{job_id}"),
            "POST curve": lambda: client.post("/v1/learning-curves",
                                              json={**curve, "source": {**curve["source"], "seed": next(seeds)}}),
            "GET readyz": lambda: client.get("/readyz"),
        }

        def probe(what: str) -> None:  # one client per kind of request, side by side
            while time.monotonic() - cut_at < CUT_SECONDS:
                sent = time.monotonic()
                answer = requests[what]()
                timeline.append((sent - cut_at, what, answer.status_code, time.monotonic() - sent, answer.content))
                time.sleep(0.2)

        stored = client.get(f"/v1/jobs/{job_id}/result")  # read now: the API holds it for its next seconds
        assert stored.status_code == 200
        stack.redis_host.cut()
        cut_at = time.monotonic()
        try:
            with ThreadPoolExecutor(len(requests)) as pool:
                list(pool.map(probe, requests))
        finally:
            stack.redis_host.heal()
        healed_at = time.monotonic()
        ready = wait_for(lambda: client.get("/readyz").status_code == 200 and time.monotonic(), 30,
                         "the API to be ready again", interval=0.1)
        fresh = client.post("/v1/learning-curves", json={**curve, "source": {**curve["source"], "seed": 2000}})
        assert fresh.status_code == 202, fresh.text
        assert finished(client, fresh.json()["job_id"], timeout=120)["status"] == "finished"
        done_at = time.monotonic()
    timeline.sort()
    with capsys.disabled():
        print(f"\n[hosts] (c) Redis's link cut for {healed_at - cut_at:.1f} s (the API's Redis timeout: {REDIS_TIMEOUT:g} s)")
        for what in requests:
            print(f"[hosts] (c)   {what:10}: " + "; ".join(summary(at, status, latency) for status, at, latency in
                                                          runs([row for row in timeline if row[1] == what])))
        print(f"[hosts] (c) ready {ready - healed_at:.1f} s after the link was back; a new submission finished "
              f"{done_at - healed_at:.1f} s after it")
    for at, what, status, latency, body in timeline:
        assert latency <= REDIS_TIMEOUT + RESPONSE_MARGIN, (at, what, latency)
        if status == 200:  # only a result read in the last seconds, from the API's memory
            assert what == "GET result" and body == stored.content and at < HOT_SECONDS, (at, what)
        else:
            assert status == 503, (at, what, status, body)
    statuses = {what: [status for _, name, status, _, _ in timeline if name == what] for what in requests}
    assert statuses["GET result"][0] == 200 and statuses["GET result"][-1] == 503  # hot, then no longer
    assert all(set(codes) == {503} for what, codes in statuses.items() if what != "GET result")
