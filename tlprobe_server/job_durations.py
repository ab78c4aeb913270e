"""How long jobs ran, per kind and outcome: a histogram that the workers keep in Redis and the API's
``/metrics`` reads (``tlprobe_job_duration_seconds``).

A worker records each run of a job that ends it for good: ``finished``, ``failed`` (an exception, a
timeout, or a work horse killed with no retry left) or ``canceled`` (stopped by a cancel). The
duration is the run's, from the moment the worker started it to its end (RQ's ``started_at`` and
``ended_at`` of that run): time spent waiting in the queue is not in it. A run that is retried (its
horse died with retries left, or its worker handed it back on SIGTERM) is not counted, nor a job
canceled before any worker took it, nor one whose worker died (found abandoned by another worker).

Storage: one Redis hash (``keys.job_durations``, no TTL: its size is kinds x outcomes x buckets)
holding per (kind, outcome) the count in each bucket (not cumulative) and the sum of the durations,
both incremented in one transaction so that a scrape never sees a count without its sum. Each
worker process writes to it; the API turns it into a Prometheus histogram at each scrape, so every
API process reports the same numbers.
"""

from __future__ import annotations

import bisect
import math

from redis import Redis
from rq.utils import now

from . import keys

#: upper bounds of the buckets, in seconds: from a cached-network GCM solve to a three-hour curve
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 10800.0, math.inf)
OUTCOMES = ("finished", "failed", "canceled")


def bucket_label(bound: float) -> str:
    """A bucket's bound as Prometheus writes it (``0.5``, ``+Inf``)."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def record(redis: Redis, kind: str, outcome: str, seconds: float) -> None:
    """Count one run of ``seconds`` of a job of ``kind`` that ended ``outcome``."""
    bound = BUCKETS[bisect.bisect_left(BUCKETS, seconds)]
    with redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(keys.job_durations(), f"{kind}|{outcome}|{bucket_label(bound)}", 1)
        pipe.hincrbyfloat(keys.job_durations(), f"{kind}|{outcome}|sum", seconds)
        pipe.execute()


def read(redis: Redis) -> dict[tuple[str, str], tuple[list[tuple[str, int]], float]]:
    """(kind, outcome) -> (cumulative count per bucket, as (bound label, count) up to ``+Inf``; the sum)."""
    fields = {name.decode(): value for name, value in redis.hgetall(keys.job_durations()).items()}
    series: dict[tuple[str, str], tuple[list[tuple[str, int]], float]] = {}
    for kind, outcome in sorted({tuple(name.split("|")[:2]) for name in fields}):
        total, buckets = 0, []
        for bound in BUCKETS:
            total += int(fields.get(f"{kind}|{outcome}|{bucket_label(bound)}", 0))
            buckets.append((bucket_label(bound), total))
        series[(kind, outcome)] = (buckets, float(fields.get(f"{kind}|{outcome}|sum", 0.0)))
    return series


class RecordsDurations:
    """A mixin for the worker class (before RQ's ``Worker`` in its bases): records each job run that ends
    for good. ``handle_job_success`` runs in the work horse; ``handle_job_failure`` there too after an
    exception, and in the worker when its horse was killed or stopped (a cancel's stop command)."""

    def handle_job_success(self, job, queue, started_job_registry, execution):
        super().handle_job_success(job, queue, started_job_registry, execution)
        self._record_duration(job, "finished")

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        stopped = self._stopped_job_id == job.id  # RQ's "stopped": a cancel (tlprobe_server.cancel)
        final = stopped or not job.should_retry  # read before RQ's handling clears and retries them
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string,
                                   execution=execution)
        if final:
            self._record_duration(job, "canceled" if stopped else "failed")

    def _record_duration(self, job, outcome: str) -> None:
        if job.started_at is None:
            return
        seconds = max(0.0, ((job.ended_at or now()) - job.started_at).total_seconds())
        kind = job.meta.get("kind") or job.func_name
        try:
            record(self.connection, kind, outcome, seconds)
        except Exception:  # a metric must never fail a job's bookkeeping
            self.log.exception("could not record the duration of %s", job.id)
