"""The RQ entry point of every job: payload -> contract -> the kind's computation -> validated result in
the result store.

``run(kind, request)`` validates the request again with the contract (a job payload is never
trusted), runs the kind's computation (``worker.computations``, named by the kind's extension in
``tlprobe_server.kinds``) with a throttled progress reporter, validates the result against the kind's
result schema, and stores it under the job id; its meta names the numerical libraries it ran on
(``worker.libraries``) and the host that ran it (``worker``). A
timeout or an invalid spec is recorded in the job's meta as the failure reason, and such a job is
not retried (retries are for workers that die under a job, and for a Redis that could not be
reached from the job: ``worker.handover``). Nothing partial is cached: artifacts are saved only once
complete, results only on success. With tracing on, the job runs in a span that continues the trace
of the request that queued it, with a child span per reported stage.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any, Callable

from redis import Redis
from redis.exceptions import OutOfMemoryError
from rq import get_current_job

from tlprobe_server import keys, result_store, tracing
from tlprobe_server.cancel import JobCanceled, stop_if_canceled
from tlprobe_server.kinds import SERVER_KINDS, ServerKind, resolve
from tlprobe_server.redis_memory import RedisFull
from tlprobe_server.settings import get_settings
from worker.computations import JobContext
from worker.handover import is_redis_outage
from worker.job_results import exception_reason, stamped

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
Compute = Callable[[Any, JobContext], Any]


class ProgressReporter:
    """Writes {stage, done, total} into the job's meta, at most every PROGRESS_INTERVAL seconds
    (always on a stage change and at the end of a stage), and stops the job if it was canceled."""

    def __init__(self, job, stages: tracing.Stages | None = None) -> None:
        self.job, self.stage, self.last = job, None, 0.0
        self.stages = stages or tracing.Stages()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last < PROGRESS_INTERVAL:
            return
        if stage != self.stage:
            self.stages.enter(stage)  # with tracing on, a span per stage
        self.stage, self.last = stage, now
        stop_if_canceled(self.job)
        self.job.meta["progress"] = {"stage": stage, "done": int(done), "total": int(total)}
        self.job.save_meta()


def run(kind: str, request: dict[str, Any]) -> dict[str, str]:
    """Run a job of ``kind`` (a kind's name) on ``request`` (its JSON payload)."""
    server_kind = SERVER_KINDS[kind]
    return _execute(server_kind, resolve(server_kind.compute), request)


def _execute(kind: ServerKind, compute: Compute, payload: dict[str, Any]) -> dict[str, str]:
    job = get_current_job()
    if not tracing.enabled():
        return _run_job(job, kind, compute, payload)
    # continue the trace of the request that queued the job (tlprobe_server/tracing.py)
    attributes = {"tlprobe.job_id": job.id, "tlprobe.kind": kind.name, "tlprobe.worker": socket.gethostname(),
                  "tlprobe.request_id": job.meta.get("request_id") or ""}
    try:
        with tracing.span(f"job {kind.name}", parent=job.meta.get("trace"), kind="consumer", attributes=attributes):
            return _run_job(job, kind, compute, payload)
    finally:
        tracing.flush()  # the work horse exits with os._exit: send the spans first


def _run_job(job, kind: ServerKind, compute: Compute, payload: dict[str, Any]) -> dict[str, str]:
    settings = get_settings()
    redis: Redis = job.connection
    stop_if_canceled(job)  # canceled while its worker was taking it off the queue
    redis.hincrby(keys.executions_counter(), kind.name, 1)
    request = kind.request.model_validate(payload)
    started = time.perf_counter()
    stages = tracing.Stages()
    try:
        result = compute(request, JobContext(redis, settings, ProgressReporter(job, stages), job.meta))
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
    finally:
        stages.close()
    validated = stamped(kind, request, result, job.id, time.perf_counter() - started)
    stop_if_canceled(job)  # a canceled job ends canceled, even when the cancel came during its last step
    try:
        result_store.put(redis, job.id, validated.model_dump_json(), settings.result_ttl)
    except (RedisFull, OutOfMemoryError) as exc:  # retrying would compute it all again for the same answer
        job.retries_left = 0
        job.meta["error"] = f"redis full: the result was computed but could not be stored: {exc}"[:500]
        job.save_meta()  # a small write: Redis keeps a reserve for such (tlprobe_server.redis_memory)
        raise
    if kind.on_stored is not None:
        kind.on_stored(job.id, request, validated, redis, settings)
    log.info("%s finished in %.1fs", job.id, validated.meta["elapsed_seconds"])
    return {"result_key": keys.result(job.id)}
