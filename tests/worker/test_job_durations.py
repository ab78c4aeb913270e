"""The job-duration histogram of /metrics (issue 17): real jobs run by a real forking tlprobe worker in
this process on the test Redis, one per outcome, then the buckets read through the API's /metrics.
Each recorded duration is checked against bounds measured independently: at least the computation's
own time (the result's ``elapsed_seconds``, timed inside the work horse), at most the wall time of
the worker's whole run."""

import time

from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from tests.requests import SPECTRUM
from tests.worker.test_canceling import run_queued
from tlprobe_server import job_durations, result_store
from tlprobe_server.cancel import cancel
from worker import computations

METRIC = "tlprobe_job_duration_seconds"


def histogram(client) -> dict[tuple[str, str], dict]:
    """(kind, outcome) -> {"buckets": {le: cumulative count}, "sum", "count"} as /metrics shows them."""
    found: dict[tuple[str, str], dict] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        if family.name != METRIC:
            continue
        assert family.type == "histogram"
        for sample in family.samples:
            entry = found.setdefault((sample.labels["kind"], sample.labels["outcome"]), {"buckets": {}})
            if sample.name.endswith("_bucket"):
                entry["buckets"][sample.labels["le"]] = sample.value
            else:
                entry[sample.name.removeprefix(METRIC + "_")] = sample.value
    return found


def timed_run(redis: Redis) -> float:
    started = time.perf_counter()
    run_queued(redis)
    return time.perf_counter() - started


def one_run_between(entry: dict, low: float, high: float) -> None:
    """A histogram holding exactly one observation, of a duration in [low, high]."""
    assert entry["count"] == 1 and low <= entry["sum"] <= high, (entry, low, high)
    bounds = [float(le) for le in entry["buckets"]]
    assert bounds == sorted(bounds) and bounds[-1] == float("inf") and len(bounds) == len(job_durations.BUCKETS)
    first = next(b for b in bounds if entry["sum"] <= b)  # the bucket the one duration falls in
    assert all(entry["buckets"][le] == (1 if float(le) >= first else 0) for le in entry["buckets"]), entry


def test_the_histogram_counts_finished_failed_and_canceled_runs_with_their_durations(client, redis, settings,
                                                                                       monkeypatch):
    assert histogram(client) == {}  # nothing ran yet: no series

    finished = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    wall = timed_run(redis)
    elapsed = result_store.get(redis, finished)["meta"]["elapsed_seconds"]
    one_run_between(histogram(client)[("gcm", "finished")], elapsed, wall)

    solve = computations.gcm

    def slow_then_broken(*args):
        time.sleep(0.6)  # in the work horse: a duration above the smallest buckets
        raise ValueError("a computation that fails")

    monkeypatch.setattr(computations, "gcm", slow_then_broken)  # the work horse is forked from this process
    failed = client.post("/v1/gcm", json={"spectrum": {**SPECTRUM["spectrum"], "rho": 2.0}}).json()["job_id"]
    wall = timed_run(redis)
    assert client.get(f"/v1/jobs/{failed}").json()["status"] == "failed"
    one_run_between(histogram(client)[("gcm", "failed")], 0.6, wall)

    def solve_then_be_canceled(*args):
        result = solve(*args)
        cancel(Redis.from_url(settings.redis_url), canceled, settings)  # the horse's last check then stops it
        return result

    monkeypatch.setattr(computations, "gcm", solve_then_be_canceled)
    canceled = client.post("/v1/gcm", json={"spectrum": {**SPECTRUM["spectrum"], "rho": 3.0}}).json()["job_id"]
    wall = timed_run(redis)
    assert client.get(f"/v1/jobs/{canceled}").json()["status"] == "canceled"
    one_run_between(histogram(client)[("gcm", "canceled")], 0.0, wall)

    shown = histogram(client)
    assert set(shown) == {("gcm", outcome) for outcome in ("finished", "failed", "canceled")}
    assert shown[("gcm", "finished")]["count"] == 1  # earlier series unchanged by later runs
    # canceled before any worker took it: it never ran, so it is not a duration
    never = client.post("/v1/gcm", json={"spectrum": {**SPECTRUM["spectrum"], "rho": 4.0}}).json()["job_id"]
    assert client.delete(f"/v1/jobs/{never}").json()["status"] == "canceled"
    run_queued(redis)
    assert histogram(client)[("gcm", "canceled")]["count"] == 1


def test_buckets_are_cumulative_and_every_observation_lands_in_exactly_one(redis):
    for seconds in (0.05, 0.1, 0.3, 7.0, 7.0, 20000.0):
        job_durations.record(redis, "learning_curve", "finished", seconds)
    (buckets, total), = job_durations.read(redis).values()
    counts = dict(buckets)
    assert total == sum((0.05, 0.1, 0.3, 7.0, 7.0, 20000.0))
    assert counts["0.1"] == 2 and counts["0.25"] == 2 and counts["0.5"] == 3 and counts["5.0"] == 3
    assert counts["10.0"] == 5 and counts["10800.0"] == 5 and counts["+Inf"] == 6  # 20000 s: only in +Inf
