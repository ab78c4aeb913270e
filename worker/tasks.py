"""RQ entry points: payload -> contract -> engine -> validated result in the result store.

Every task validates its request again with the contract (a job payload is never trusted), runs the
engine with a Redis artifact store and a throttled progress reporter (or, for a kind gathered from
other jobs, the kind's assembly), validates the result against the kind's result schema, and stores
it under the job id; its meta names the numerical libraries it ran on (``worker.libraries``). A
timeout or an invalid spec is recorded in the job's meta as the failure reason, and such a job is
not retried (retries are for workers that die under a job, and for a Redis that could not be
reached from the job: ``worker.handover``). Nothing partial is cached: artifacts
are saved only once complete, results only on success.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import datetime, timezone
from typing import Any, Callable

from redis import Redis
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from tlprobe import SCHEMA_VERSION, __version__, keys, results
from tlprobe.cache_key import cache_key
from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest, SourceNetworkRequest
from tlprobe.datasets import DatasetMissing
from tlprobe.kinds import KINDS, JobKind
from tlprobe.settings import Settings, get_settings
from worker.artifacts import RedisArtifactStore, load_dataset
from worker.canceling import JobCanceled, stop_if_canceled
from worker.handover import is_redis_outage
from worker.libraries import libraries
from worker.science.dataset_curve import ensure_dataset_source_network, run_dataset_curve
from worker.science.errors import InvalidSpec
from worker.science.gcm.custom import solve_custom
from worker.science.learning_curve import ensure_source_network
from worker.science.learning_curve import run_learning_curve as engine_learning_curve

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
Compute = Callable[[Any, Redis, Settings, Callable[[str, int, int], None]], dict[str, Any]]


class ProgressReporter:
    """Writes {stage, done, total} into the job's meta, at most every PROGRESS_INTERVAL seconds
    (always on a stage change and at the end of a stage), and stops the job if it was canceled."""

    def __init__(self, job) -> None:
        self.job, self.stage, self.last = job, None, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last < PROGRESS_INTERVAL:
            return
        self.stage, self.last = stage, now
        stop_if_canceled(self.job)
        self.job.meta["progress"] = {"stage": stage, "done": int(done), "total": int(total)}
        self.job.save_meta()


def exception_reason(exc: Exception, timeout: int | None) -> str:
    if isinstance(exc, JobTimeoutException):
        return f"timeout: the job ran longer than its limit of {timeout} s"
    if isinstance(exc, InvalidSpec):
        return f"invalid input: {exc}"
    if isinstance(exc, DatasetMissing):
        return f"missing dataset: {exc}"
    return f"error: {type(exc).__name__}: {exc}"[:500]


def _learning_curve(request: LearningCurveRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    store = RedisArtifactStore(redis, settings.artifact_ttl)
    if request.uses_datasets:  # the engine gets arrays: read them here
        progress("load_datasets", 0, len(request.dataset_ids))
        loaded = {dataset_id: load_dataset(redis, dataset_id, settings.dataset_ttl) for dataset_id in request.dataset_ids}
        return run_dataset_curve(request, loaded[request.source.dataset], loaded[request.target.dataset], store, progress)
    return engine_learning_curve(request, store, progress)


def _gcm(request: GCMRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    progress("solve", 0, 1)
    result = solve_custom(request)
    progress("solve", 1, 1)
    return result


def _source_network(request: SourceNetworkRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    if request.dataset_fields:  # a diagram on datasets: the network trains on the source dataset
        progress("load_datasets", 0, 1)
        data = load_dataset(redis, request.source.dataset, settings.dataset_ttl)
        return ensure_dataset_source_network(request.source, request.network, data,
                                             RedisArtifactStore(redis, settings.artifact_ttl), progress)
    return ensure_source_network(request.source, request.network, RedisArtifactStore(redis, settings.artifact_ttl),
                                 progress)


def _execute(kind: JobKind, compute: Compute, payload: dict[str, Any]) -> dict[str, str]:
    job = get_current_job()
    settings = get_settings()
    redis: Redis = job.connection
    stop_if_canceled(job)  # canceled while its worker was taking it off the queue
    redis.hincrby(keys.executions_counter(), kind.name, 1)
    request = kind.request.model_validate(payload)
    started = time.perf_counter()
    try:
        result = compute(request, redis, settings, ProgressReporter(job))
    except JobCanceled:
        raise
    except Exception as exc:
        if is_redis_outage(exc):  # not the computation's failure: retried (or handed over), as if the worker died
            raise
        # Retries are for a worker dying under a job (RQ re-queues abandoned jobs); an exception
        # raised by the computation itself would only be raised again.
        job.retries_left = 0
        job.meta["error"] = exception_reason(exc, job.timeout)
        job.save_meta()
        raise
    meta = result.get("meta", {})
    meta.update(package_version=__version__, schema_version=SCHEMA_VERSION, cache_key=cache_key(kind, request),
                job_id=job.id, computed_at=datetime.now(timezone.utc).isoformat(), worker=socket.gethostname(),
                elapsed_seconds=round(time.perf_counter() - started, 3), libraries=libraries())
    validated = kind.result.model_validate({**result, "meta": meta})
    stop_if_canceled(job)  # a canceled job ends canceled, even when the cancel came during its last step
    results.put(redis, job.id, validated.model_dump_json(), settings.result_ttl)
    if kind.on_stored is not None:
        kind.on_stored(job.id, request, validated, redis, settings)
    log.info("%s finished in %.1fs", job.id, meta["elapsed_seconds"])
    return {"result_key": keys.result(job.id)}


def run_learning_curve(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["learning_curve"], _learning_curve, request)


def run_gcm(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["gcm"], _gcm, request)


def run_source_network(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["source_network"], _source_network, request)


def run_phase_diagram(request: dict[str, Any]) -> dict[str, str]:
    """The diagram's own job: its parts have ended; gather them by the plan recorded at submission."""
    kind = KINDS["phase_diagram"]
    record = get_current_job().meta["plan"]

    def gather(diagram: PhaseDiagramRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
        return kind.assemble(redis, diagram, record, progress)

    return _execute(kind, gather, request)
