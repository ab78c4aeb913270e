"""Starts the RQ workers: ``python -m worker.main``.

One supervising process runs a pool (``worker.lanes.LanePool``) of ``TLPROBE_WORKERS`` worker
processes (default: one per core) taking both queues, interactive first, plus
``TLPROBE_INTERACTIVE_WORKERS`` (default 1) taking only interactive jobs (``worker.lanes``: the
layout and the rule), and restarts any that dies (e.g. when Redis goes away under a busy worker).
Each worker process gets ``TLPROBE_BLAS_THREADS`` BLAS and element-wise threads (default cores //
workers), set in the environment before numpy is ever imported, so that workers x threads <= cores;
the interactive workers' threads come on top, and bulk jobs run niced below them.
"""

from __future__ import annotations

import importlib
import logging
import os

from rq.serializers import JSONSerializer

from tlprobe_server import connections, logs, tracing
from tlprobe_server.cancel import CancelingWorker
from tlprobe_server.job_durations import RecordsDurations
from tlprobe_server.kinds import SERVER_KINDS, resolve
from tlprobe_server.settings import get_settings
from worker.handover import taken_over
from worker.lanes import LanePool, QueuePolicy, layout

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


#: RQ's "dequeued" line (``Worker name: queue: job``), written before the job's ids are in context
_DEQUEUED = ("Worker %s: %s: %s (%s)", "Worker %s: %s: %s")


def _outside_jobs_no_dequeue_line(record: logging.LogRecord) -> bool:
    """Drops RQ's dequeue line (the worker writes its own, with the job's ids: ``execute_job``); the
    same format inside a job ("Job OK") is kept."""
    return logs.job_id.get() is not None or record.msg not in _DEQUEUED


class TlprobeWorker(RecordsDurations, QueuePolicy, CancelingWorker):
    """An RQ worker with tlprobe's liveness settings, that honours cancels (``tlprobe_server.cancel``)
    and takes the queues by ``worker.lanes``' rule.

    A busy worker renews its job's entry in the started-job registry every
    ``job_monitoring_interval`` seconds, for ``job_monitoring_interval + heartbeat_margin`` seconds
    (RQ hard-codes a 60 s margin). Workers clean the registries every ``maintenance_interval``
    seconds, and idle ones wake every ``worker_ttl - 15`` seconds to do so. A job whose worker died
    (SIGKILL, machine lost) is therefore seen as abandoned, and re-queued while it has retries
    left, within about interval + margin + max(maintenance interval, worker_ttl - 15) seconds:
    35 s with the defaults.

    A worker cut off from Redis while its job is handed over records nothing about that job when the
    link comes back (``worker.handover``).

    Asked to stop (SIGTERM or SIGINT: ``docker stop``, Ctrl-C, the pool shutting down), a busy worker
    does not finish its job first (that could take hours): it stops the work horse and hands the job
    back, to the front of the queue, without using one of its retries, then exits. Artifacts already
    complete stay cached, so whoever takes the job up resumes from them. Handing back takes about a
    second; ``stop_grace_period`` in docker-compose.yml leaves room for it.

    Every log line written while a job runs (by the worker, its work horse, RQ and the engine)
    carries the job's id and the id of the request that enqueued it (``tlprobe_server.logs``). Each job
    run that ends for good is counted in the job-duration histogram (``tlprobe_server.job_durations``).
    """

    _handing_back: str | None = None

    def __init__(self, *args, **kwargs) -> None:
        settings = get_settings()
        tracing.configure("worker", settings.otlp_endpoint)  # off unless TLPROBE_OTLP_ENDPOINT is set
        kwargs.setdefault("worker_ttl", settings.worker_ttl)
        kwargs.setdefault("job_monitoring_interval", settings.job_monitoring_interval)
        kwargs.setdefault("maintenance_interval", settings.maintenance_interval)
        super().__init__(*args, **kwargs)
        self.heartbeat_margin = settings.heartbeat_margin
        # import the engine once per worker process: every work horse forked for a job inherits it
        # instead of importing numpy, scipy and the engine again (most of a small job's time); the same
        # for the description of the numerical libraries that every result's meta carries, and for the
        # compiled Adam step and logistic proximal point (loaded from numba's disk cache, or compiled
        # once, here rather than in a job)
        importlib.import_module("worker.tasks")
        for kind in SERVER_KINDS.values():
            resolve(kind.compute)
        importlib.import_module("worker.libraries").libraries()
        importlib.import_module("worker.science.adam_kernel").warm()
        importlib.import_module("worker.science.gcm.prox_kernel").warm()
        if _outside_jobs_no_dequeue_line not in self.log.filters:
            self.log.addFilter(_outside_jobs_no_dequeue_line)

    def execute_job(self, job, queue):
        with logs.context(request=job.meta.get("request_id"), job=job.id):
            return super().execute_job(job, queue)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        job = self.get_current_job()
        if job is not None and self.horse_pid:
            self._handing_back = job.id
            self.log.info("stopping: handing job %s back to the queue", job.id)
            self.kill_horse()  # monitor_work_horse sees it end and calls handle_job_failure

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        # only a job this worker started can have been taken over from it: RQ's intermediate-queue cleanup
        # also calls this method, of whichever worker cleans, for a job nobody started, to hand it back
        if job.worker_name == self.name and taken_over(self.connection, job.key, self.name):
            # cut off from Redis long enough for the job to be handed over: it is another worker's now
            self.log.warning("not recording the failure of %s: it was handed over to another worker (or Redis is "
                             "unreachable) while this one was cut off", job.id)
            return
        if self.canceled_failure(job):  # ends "stopped" (canceled), never retried: nothing to hand back
            self._handing_back = None
        elif job.id == self._handing_back:  # not a failure: requeue at the front, retries untouched
            self._handing_back = None
            job.retries_left = (job.retries_left or 0) + 1  # job.retry() takes one back off
            job.retry_intervals = None  # at once
            job.enqueue_at_front_on_retry = True
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string,
                                   execution=execution)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(job.timeout - working_time, interval)
        return int(interval) + self.heartbeat_margin


def main() -> None:
    settings = get_settings()
    threads = str(settings.threads_per_worker())
    for name in THREAD_VARIABLES:
        os.environ[name] = threads
    logs.configure("worker")
    queues = layout(settings)
    logging.getLogger(__name__).info("starting %d workers x %s threads: %s", len(queues), threads,
                                     "; ".join(", ".join(names) for names in queues))
    connection = connections.connect(settings)  # RQ re-creates it in each worker process: see connections.py
    pool = LanePool(queues, connection=connection, serializer=JSONSerializer, worker_class=TlprobeWorker)
    pool.start(burst=False)


if __name__ == "__main__":
    main()
