"""RQ entry points: dict -> schema -> engine -> validated result in the cache.

Every task validates its request again with the shared schemas (a job payload is never trusted),
runs the engine with a Redis artifact store and a throttled progress reporter, validates the result
against the result schema, and writes it under its cache key. A timeout or an invalid spec is
recorded in the job's meta as the failure reason, and such a job is not retried (retries are for
workers that die under a job). Nothing partial is cached: artifacts are saved only once complete,
results only on success.
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

from service import __version__, redis_keys
from service.cache_key import cache_key, job_id
from service.job_views import failure_reason
from service.kinds import KINDS, JobKind
from service.phase_diagrams import add_to_catalogue, catalogue_entry
from service.phase_plan import plan
from service.queueing import cached_result, fetch_job
from service.schemas import SCHEMA_VERSION
from service.schemas.gcm import GCMRequest
from service.schemas.learning_curve import LearningCurveRequest
from service.schemas.phase_diagram import PhaseDiagramRequest, PhaseDiagramResult, SourceNetworkRequest
from service.settings import Settings, get_settings
from worker.diagrams import assemble
from worker.science.errors import InvalidSpec
from worker.science.gcm.custom import solve_custom
from worker.science.learning_curve import ensure_source_network
from worker.science.learning_curve import run_learning_curve as engine_learning_curve
from worker.science.specs import LearningCurveSpec, NetworkSpec, SolverSettings, SourceSpec
from worker.store import RedisArtifactStore

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes


class ProgressReporter:
    """Writes {stage, done, total} into the job's meta, at most every PROGRESS_INTERVAL seconds
    (always on a stage change and at the end of a stage)."""

    def __init__(self, job) -> None:
        self.job, self.stage, self.last = job, None, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last < PROGRESS_INTERVAL:
            return
        self.stage, self.last = stage, now
        self.job.meta["progress"] = {"stage": stage, "done": int(done), "total": int(total)}
        self.job.save_meta()


def exception_reason(exc: Exception, timeout: int | None) -> str:
    if isinstance(exc, JobTimeoutException):
        return f"timeout: the job ran longer than its limit of {timeout} s"
    if isinstance(exc, InvalidSpec):
        return f"invalid input: {exc}"
    return f"error: {type(exc).__name__}: {exc}"[:500]


def _learning_curve(request: LearningCurveRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    spec = LearningCurveSpec.from_dict(request.model_dump(mode="json"))
    return engine_learning_curve(spec, RedisArtifactStore(redis, settings.artifact_ttl), progress)


def _gcm(request: GCMRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    progress("solve", 0, 1)
    result = solve_custom(
        spectrum=None if request.spectrum is None else request.spectrum.model_dump(),
        covariances=None if request.covariances is None else request.covariances.model_dump(),
        loss=request.loss.value, regularisation=request.regularisation,
        sample_complexities=request.sample_complexities, solver=SolverSettings(**request.solver.model_dump()))
    progress("solve", 1, 1)
    return result


def _source_network(request: SourceNetworkRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    source = SourceSpec(**request.source.model_dump(mode="json"))
    network = NetworkSpec(**request.network.model_dump(mode="json"))
    return ensure_source_network(source, network, RedisArtifactStore(redis, settings.artifact_ttl), progress)


def _phase_diagram(request: PhaseDiagramRequest, redis: Redis, settings: Settings, progress) -> dict[str, Any]:
    layout = plan(request, settings.diagram_chunk_alphas)
    results, errors = [], []
    for index, part in enumerate(layout.parts):
        progress("assemble", index, len(layout.parts))
        part_id = job_id(KINDS["learning_curve"], part.request)
        result = cached_result(redis, part_id)
        results.append(result)
        job = None if result is not None else fetch_job(redis, part_id)
        errors.append(None if result is not None else (failure_reason(job) if job is not None else "result missing"))
    progress("assemble", len(layout.parts), len(layout.parts))
    network = cached_result(redis, job_id(KINDS["source_network"], layout.network))
    return assemble(request, layout, results, errors, None if network is None else network["source_test_error"])


def _catalogue(diagram_id: str, request: PhaseDiagramRequest, result: PhaseDiagramResult, redis: Redis,
               settings: Settings) -> None:
    entry = catalogue_entry(diagram_id, request, result.complete, result.meta["computed_at"])
    add_to_catalogue(redis, entry, settings.result_ttl, time.time())


def _execute(kind: JobKind, compute: Callable, payload: dict[str, Any], on_stored: Callable | None = None
             ) -> dict[str, str]:
    job = get_current_job()
    settings = get_settings()
    redis: Redis = job.connection
    redis.hincrby(redis_keys.executions_counter(), kind.name, 1)
    request = kind.request.model_validate(payload)
    started = time.perf_counter()
    try:
        result = compute(request, redis, settings, ProgressReporter(job))
    except Exception as exc:
        # Retries are for a worker dying under a job (RQ re-queues abandoned jobs); an exception
        # raised by the computation itself would only be raised again.
        job.retries_left = 0
        job.meta["error"] = exception_reason(exc, job.timeout)
        job.save_meta()
        raise
    meta = result.get("meta", {})
    meta.update(package_version=__version__, schema_version=SCHEMA_VERSION, cache_key=cache_key(kind, request),
                job_id=job.id, computed_at=datetime.now(timezone.utc).isoformat(), worker=socket.gethostname(),
                elapsed_seconds=round(time.perf_counter() - started, 3))
    validated = kind.result.model_validate({**result, "meta": meta})
    redis.set(redis_keys.result(job.id), validated.model_dump_json(), ex=settings.result_ttl)
    if on_stored is not None:
        on_stored(job.id, request, validated, redis, settings)
    log.info("%s finished in %.1fs", job.id, meta["elapsed_seconds"])
    return {"result_key": redis_keys.result(job.id)}


def run_learning_curve(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["learning_curve"], _learning_curve, request)


def run_gcm(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["gcm"], _gcm, request)


def run_source_network(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["source_network"], _source_network, request)


def run_phase_diagram(request: dict[str, Any]) -> dict[str, str]:
    return _execute(KINDS["phase_diagram"], _phase_diagram, request, on_stored=_catalogue)
