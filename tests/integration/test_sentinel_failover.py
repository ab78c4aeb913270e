"""Redis Sentinel: the primary SIGKILLed under a stream of submissions, batches and uploads.

A primary, one replica and three sentinels (``tests/sentinel_cluster.py``), the API (real uvicorn)
and a pool of two workers, both given only the sentinels (their Redis URL points at a port where
nothing listens). Uploads and batches are answered only once the replica holds them
(``TLPROBE_REDIS_MIN_REPLICAS=1``); submissions are not. To make the asynchronous replication lose
something for certain, the replica's link is cut for a moment before the kill (it still answers the
sentinels): what the primary accepted in that moment never reaches the replica that is promoted.
The killed primary is then started again as a replica of the new one, as a supervisor would; until
then the new primary has no replica, and uploads are refused with 503.

Checked afterwards: the service answered every request (a 2xx, or a 503 with Retry-After; never a
500, never a dropped connection); every submission that got a 2xx finished, or, where the failover
took its job (its id answers 404), runs to the end when submitted again; every upload and batch that
got a 2xx is still there; the results are the engine's numbers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field

import httpx2 as httpx
import pytest

from devtools.localredis import free_port
from devtools.stack import Api, Workers, stack_env, wait_for
from tests.datasets import arrays
from tests.integration.test_faults import FAST_LIVENESS
from tests.sentinel_cluster import SentinelCluster
from tlprobe.contract.gcm import GCMRequest
from tlprobe_server import connections, keys, live_workers
from tlprobe_server.settings import Settings
from tlprobe_server.submission import LOCK_TIMEOUT
from worker.science.gcm.custom import solve_custom

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOWHERE = "redis://127.0.0.1:9/0"  # the URL is not used when sentinels are set: nothing listens there
STREAM_BEFORE = 2.0  # s of traffic before the replication link is cut
CUT = 1.5  # s of traffic with the link cut, before the kill
STREAM_AFTER = 2.0  # s of traffic once the old primary is back as a replica
ACCOUNTING_BOUND = 120.0  # s for every acknowledged job to end


def spectrum(index: int, omega: float = 2.0) -> dict:
    """A small GCM request, a different one for each index (milliseconds of work)."""
    return {"spectrum": {"omega": [1.0, omega], "t": [0.2 + index * 1e-4, 0.4], "rho": 1.0, "gamma": 1.0}}


@dataclass
class Answer:
    at: float  # when the answer came (monotonic)
    status: int | None  # None: no HTTP answer at all
    body: dict | None
    request: object = None
    retry_after: str | None = None


@dataclass
class Stream:
    """Requests of one kind sent in a loop by a thread until ``stop``, every answer recorded."""

    name: str
    send: object
    pause: float
    answers: list[Answer] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        index = 0
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                request = None
                try:
                    request, response = self.send(client, index)
                    body = response.json() if response.headers.get("content-type", "").startswith("application/json") \
                        else None
                    answer = Answer(time.monotonic(), response.status_code, body, request,
                                    response.headers.get("retry-after"))
                except httpx.TransportError:
                    answer = Answer(time.monotonic(), None, None, request)
                self.answers.append(answer)
                index += 1
                time.sleep(self.pause)

    def accepted(self) -> list[Answer]:
        return [a for a in self.answers if a.status is not None and 200 <= a.status < 300]

    def longest_gap(self, since: float) -> float:
        """The longest time between two consecutive 2xx answers from ``since`` on (the last before it
        counts)."""
        times = [a.at for a in self.accepted()]
        before = [t for t in times if t <= since]
        after = [t for t in times if t > since]
        points = ([before[-1]] if before else [since]) + after
        return max((b - a for a, b in zip(points, points[1:])), default=float("inf"))


def test_the_service_follows_a_new_primary_and_loses_no_acknowledged_upload(tmp_path, capsys):
    cluster = SentinelCluster(tmp_path / "redis").start()
    # Redis timeout 2 s: a WAIT gives up after 1 s
    env = {**cluster.env(min_replicas=1), **FAST_LIVENESS, "TLPROBE_REDIS_TIMEOUT": "2"}
    settings = Settings(**{name[len("TLPROBE_"):].lower(): value for name, value in cluster.env(1).items()})
    redis = connections.connect(settings)
    workers = Workers(NOWHERE, count=2, log_path=tmp_path / "workers.log", **env).start(wait=False)
    api = Api(NOWHERE, log_path=tmp_path / "api.log", **env).start()
    try:
        wait_for(lambda: live_workers.count(redis, "tlprobe") >= 2, 90, "two workers")
        url = api.url

        def submit(client, index):
            request = spectrum(index)
            return request, client.post(f"{url}/v1/gcm", json=request)

        def batch(client, index):
            request = {"requests": [{"kind": "gcm", "request": spectrum(2 * index + i, omega=2.5)} for i in range(2)]}
            return request, client.post(f"{url}/v1/batches", json=request)

        def upload(client, index):
            inputs, labels = arrays(samples=30, input_dim=4, seed=index)
            request = {"inputs": inputs.tolist(), "labels": labels.tolist()}
            return request, client.post(f"{url}/v1/datasets", json=request)

        streams = [Stream("submissions", submit, 0.2), Stream("batches", batch, 0.8), Stream("uploads", upload, 0.2)]
        stop = threading.Event()
        threads = [threading.Thread(target=stream.run, args=(stop,)) for stream in streams]
        for thread in threads:
            thread.start()
        try:
            time.sleep(STREAM_BEFORE)
            cut = time.monotonic()
            replica = cluster.cut_replication()
            time.sleep(CUT)
            old = cluster.node_on(cluster.primary_port())
            old.kill()  # SIGKILL
            killed = time.monotonic()
            cluster.heal_replica(replica)  # it is promoted: no primary to authenticate to any more
            wait_for(lambda: cluster.primary_port() != old.port, 60, "the sentinels to promote the replica")
            promoted = time.monotonic() - killed
            cluster.restart_as_replica(old)  # as a supervisor would
            cluster.wait_replicated(cluster.node_on(cluster.primary_port()), 1, timeout=60)
            replica_back = time.monotonic() - killed
            time.sleep(STREAM_AFTER)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        submissions, batches, uploads = streams

        # the service always answered: a 2xx, or a 503 with Retry-After
        for stream in streams:
            refused = [a for a in stream.answers if a.status is None or not 200 <= a.status < 300]
            assert all(a.status == 503 and a.retry_after for a in refused), \
                (stream.name, [(a.status, a.body) for a in refused if a.status != 503 or not a.retry_after][:3])
            assert stream.accepted()[-1].at > killed + replica_back, f"{stream.name} did not recover"
        # with the link cut, uploads were refused rather than acknowledged on the primary alone
        assert any(a.status == 503 and "replica" in a.body["detail"] and cut < a.at < killed for a in uploads.answers)

        # every upload and batch acknowledged is still there
        uploaded = {a.body["dataset_id"]: a.body for a in uploads.accepted()}
        for dataset_id, described in uploaded.items():
            stored = httpx.get(f"{url}/v1/datasets/{dataset_id}")
            assert stored.status_code == 200, dataset_id
            assert stored.json()["size_bytes"] == described["size_bytes"]
            assert all(redis.hmget(keys.dataset(dataset_id), ["inputs", "labels"]))
        batch_ids = [a.body["batch_id"] for a in batches.accepted()]
        assert all(httpx.get(f"{url}/v1/batches/{b}").status_code == 200 for b in batch_ids)

        # every submission acknowledged finished, or runs again when sent again
        requests = {a.body["job_id"]: a.request for a in submissions.accepted()}
        for answer in batches.accepted():
            for job, item in zip(answer.body["jobs"], answer.request["requests"]):
                requests[job["job_id"]] = item["request"]
        outcomes = {"finished": 0, "lost, run again": 0, "failed, run again": 0}
        # a job taken off the queue by a worker that died in that instant (RQ's intermediate queue) is
        # given back after 60 s (RQ's rule), plus a maintenance pass
        deadline = time.monotonic() + ACCOUNTING_BOUND

        def ended(job_id: str, wait: int = 30):
            view = httpx.get(f"{url}/v1/jobs/{job_id}", params={"wait": wait}, timeout=wait + 30)
            while view.status_code == 200 and view.json()["status"] in ("queued", "started", "deferred"):
                assert time.monotonic() < deadline, f"{job_id} still {view.json()['status']}"
                view = httpx.get(f"{url}/v1/jobs/{job_id}", params={"wait": wait}, timeout=wait + 30)
            return view

        for job_id, request in requests.items():
            view = ended(job_id)
            if view.status_code == 200 and view.json()["status"] == "finished":
                outcomes["finished"] += 1
                continue
            assert view.status_code == 404 or view.json()["status"] == "failed", view.text
            outcomes["lost, run again" if view.status_code == 404 else "failed, run again"] += 1
            # a submission lock taken on the old primary and copied to the replica, its release lost with the
            # old primary, holds a resend of that request until it expires (submission.LOCK_TIMEOUT)
            again = httpx.post(f"{url}/v1/gcm", json=request, timeout=LOCK_TIMEOUT + 30)
            assert again.status_code in (200, 202) and again.json()["job_id"] == job_id
            view = ended(job_id)
            assert view.json()["status"] == "finished", view.text
        # the numbers are the engine's (a sample: one per second of the stream)
        for job_id in list(requests)[::7]:
            result = httpx.get(f"{url}/v1/jobs/{job_id}/result").json()
            expected = {"kind": "gcm", **solve_custom(GCMRequest.model_validate(requests[job_id]))}
            assert {k: v for k, v in result.items() if k != "meta"} == expected

        with capsys.disabled():
            print(f"\n[sentinel] replication cut {CUT:.1f} s before the primary's SIGKILL; replica promoted after "
                  f"{promoted:.1f} s, old primary back as a replica after {replica_back:.1f} s")
            for stream in streams:
                refused = len(stream.answers) - len(stream.accepted())
                print(f"[sentinel] {stream.name}: {len(stream.answers)} sent, {len(stream.accepted())} acknowledged, "
                      f"{refused} refused with 503; longest time without a 2xx from the cut on "
                      f"{stream.longest_gap(cut):.1f} s")
            print(f"[sentinel] jobs acknowledged: {len(requests)}, accounted for: {sum(outcomes.values())} ({outcomes}); "
                  f"uploads acknowledged: {len(uploaded)}, still there: {len(uploaded)}; batches: {len(batch_ids)}, "
                  f"all there")
        assert sum(outcomes.values()) == len(requests)
        assert outcomes["lost, run again"] > 0  # the submissions accepted while the link was cut
    finally:
        api.stop()
        workers.stop()
        cluster.stop()


def test_make_run_with_sentinels_starts_no_redis_of_its_own(tmp_path):
    """``python -m devtools.launcher`` (make run) given sentinels: no local Redis, and the API and the
    workers it starts use the primary the sentinels name."""
    cluster = SentinelCluster(tmp_path / "redis").start()
    port = free_port()
    env = stack_env(NOWHERE, **cluster.env(min_replicas=1), TLPROBE_PORT=str(port), TLPROBE_WORKERS="1",
                    TLPROBE_DATA_DIR=str(tmp_path / "data"))
    del env["TLPROBE_REDIS_URL"]
    launcher = subprocess.Popen([sys.executable, "-m", "devtools.launcher"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        banner = launcher.stdout.readline()
        assert f"Redis primary 'tlprobe' of sentinels {cluster.addresses}" in banner, banner
        # TLPROBE_WORKERS=1 and the default interactive-only worker: two processes (worker/lanes.py)
        ready = wait_for(lambda: (r := httpx.get(f"http://127.0.0.1:{port}/readyz")).json()["workers"] == 2 and r, 90,
                         "the API and its workers")
        assert ready.status_code == 200
        assert not (tmp_path / "data").exists()  # no Redis of its own
        primary = cluster.node_on(cluster.primary_port()).client()
        assert primary.keys("rq:worker:*")  # the worker registered on the sentinels' primary
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            assert launcher.wait(timeout=60) == 0
        finally:
            with suppress(ProcessLookupError):
                os.killpg(launcher.pid, signal.SIGKILL)
            cluster.stop()
