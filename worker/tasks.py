"""The RQ entry point of every job: payload -> contract -> the kind's computation -> validated result in
the result store.

``run(kind, request)`` validates the request again with the contract (a job payload is never
trusted), runs the kind's computation (``worker.computations``, named by the kind's extension in
``tlprobe_server.kinds``) with a throttled progress reporter, validates the result against the kind's
result schema, and stores it under the job id; its meta names the numerical libraries it ran on
(``worker.libraries``) and the host that ran it (``worker``). A
timeout or an invalid spec is recorded in the job's meta as the failure reason, and such a job is
not retried (retries are for workers that die under a job). Nothing partial is cached: artifacts
are saved only once complete, results only on success.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from redis import Redis
from rq import get_current_job

from tlprobe_server import keys, result_store
from tlprobe_server.cancel import JobCanceled, stop_if_canceled
from tlprobe_server.kinds import SERVER_KINDS, ServerKind, resolve
from tlprobe_server.settings import get_settings
from worker.computations import JobContext
from worker.job_results import exception_reason, stamped

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes
Compute = Callable[[Any, JobContext], Any]


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


def run(kind: str, request: dict[str, Any]) -> dict[str, str]:
    """Run a job of ``kind`` (a kind's name) on ``request`` (its JSON payload)."""
    server_kind = SERVER_KINDS[kind]
    return _execute(server_kind, resolve(server_kind.compute), request)


def _execute(kind: ServerKind, compute: Compute, payload: dict[str, Any]) -> dict[str, str]:
    job = get_current_job()
    settings = get_settings()
    redis: Redis = job.connection
    stop_if_canceled(job)  # canceled while its worker was taking it off the queue
    redis.hincrby(keys.executions_counter(), kind.name, 1)
    request = kind.request.model_validate(payload)
    started = time.perf_counter()
    try:
        result = compute(request, JobContext(redis, settings, ProgressReporter(job), job.meta))
    except JobCanceled:
        raise
    except Exception as exc:
        # Retries are for a worker dying under a job (RQ re-queues abandoned jobs); an exception
        # raised by the computation itself would only be raised again.
        job.retries_left = 0
        job.meta["error"] = exception_reason(exc, job.timeout)
        job.save_meta()
        raise
    validated = stamped(kind, request, result, job.id, time.perf_counter() - started)
    stop_if_canceled(job)  # a canceled job ends canceled, even when the cancel came during its last step
    result_store.put(redis, job.id, validated.model_dump_json(), settings.result_ttl)
    if kind.on_stored is not None:
        kind.on_stored(job.id, request, validated, redis, settings)
    log.info("%s finished in %.1fs", job.id, validated.meta["elapsed_seconds"])
    return {"result_key": keys.result(job.id)}
