"""Prometheus metrics: HTTP traffic counted in-process, queue and job state read from Redis at scrape.

The queue gauges carry a ``queue`` label, ``interactive`` or ``bulk`` (``tlprobe_server.queues``):
``sum without (queue)`` gives the totals."""

from __future__ import annotations

import logging
import time
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from tlprobe_server import keys, live_workers
from tlprobe_server.queues import queues
from tlprobe_server.settings import Settings

log = logging.getLogger(__name__)
REGISTRIES = {"started": StartedJobRegistry, "finished": FinishedJobRegistry, "failed": FailedJobRegistry,
              "canceled": CanceledJobRegistry, "deferred": DeferredJobRegistry, "scheduled": ScheduledJobRegistry}


class _RedisCollector:
    """Reads queue depths, jobs per queue and status, live workers and work counters when scraped."""

    def __init__(self, redis: Callable[[], Redis | None], settings: Settings) -> None:
        self.redis, self.settings = redis, settings

    def collect(self):
        up = GaugeMetricFamily("tlprobe_redis_up", "1 if Redis answered this scrape")
        redis = self.redis()
        try:
            if redis is None:
                raise RedisError("not connected")
            depth = GaugeMetricFamily("tlprobe_queue_depth", "Jobs waiting in each queue", labels=["queue"])
            jobs = GaugeMetricFamily("tlprobe_jobs", "Jobs in each RQ registry of each queue", labels=["queue", "status"])
            workers = GaugeMetricFamily("tlprobe_workers", "Live RQ workers taking jobs from each queue (a worker "
                                        "taking both counts in both; 0 when scaled to zero: submissions are still "
                                        "accepted and wait)", labels=["queue"])
            for lane, queue in queues(redis, self.settings).items():
                depth.add_metric([lane.value], queue.count)
                jobs.add_metric([lane.value, "queued"], queue.count)
                for status, registry in REGISTRIES.items():
                    jobs.add_metric([lane.value, status], registry(queue=queue).count)
                workers.add_metric([lane.value], live_workers.count(redis, queue.name))
            computed = GaugeMetricFamily("tlprobe_artifacts_computed", "Artifacts computed (not reused), by kind",
                                         labels=["kind"])
            for kind, count in redis.hgetall(keys.computed_counter()).items():
                computed.add_metric([kind.decode()], int(count))
            executions = GaugeMetricFamily("tlprobe_job_executions", "Jobs executed by workers, by kind",
                                           labels=["kind"])
            for kind, count in redis.hgetall(keys.executions_counter()).items():
                executions.add_metric([kind.decode()], int(count))
        except RedisError as exc:
            log.warning("metrics: Redis unreachable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, depth, jobs, workers, computed, executions)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tlprobe_http_requests", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("tlprobe_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60))
        self.submissions = Counter("tlprobe_submissions", "Submitted computations", ["kind", "outcome"],
                                   registry=self.registry)

    def watch_redis(self, redis: Callable[[], Redis | None], settings: Settings) -> None:
        self.registry.register(_RedisCollector(redis, settings))

    def watch_uploads(self, memory) -> None:
        """``memory``: the process's ``service.upload_memory.UploadMemory``."""
        gauge = Gauge("tlprobe_upload_memory_bytes", "Memory reserved by the uploads being decoded in this API process",
                      registry=self.registry)
        gauge.set_function(lambda: memory.held)
        Gauge("tlprobe_upload_memory_limit_bytes", "Most memory the uploads being decoded may hold in this API process "
              "(TLPROBE_MAX_UPLOAD_MEMORY_BYTES)", registry=self.registry).set(memory.limit)

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)
