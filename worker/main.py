"""Starts the RQ workers: ``python -m worker.main``.

One supervising process runs an RQ WorkerPool of ``TLPROBE_WORKERS`` worker processes (default: one
per core) and restarts any that dies (e.g. when Redis goes away under a busy worker). Each worker
process gets ``TLPROBE_BLAS_THREADS`` BLAS and element-wise threads (default cores // workers), set
in the environment before numpy is ever imported, so that workers x threads <= cores.
"""

from __future__ import annotations

import logging
import os

from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer
from rq.worker_pool import WorkerPool

from service.settings import get_settings

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class TlprobeWorker(Worker):
    """An RQ worker with tlprobe's liveness settings (heartbeat, TTL, registry maintenance)."""

    def __init__(self, *args, **kwargs) -> None:
        settings = get_settings()
        kwargs.setdefault("worker_ttl", settings.worker_ttl)
        kwargs.setdefault("job_monitoring_interval", settings.job_monitoring_interval)
        kwargs.setdefault("maintenance_interval", settings.maintenance_interval)
        super().__init__(*args, **kwargs)


def main() -> None:
    settings = get_settings()
    threads = str(settings.threads_per_worker())
    for name in THREAD_VARIABLES:
        os.environ[name] = threads
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    logging.getLogger(__name__).info("starting %d workers x %s threads on queue %r", settings.workers, threads,
                                     settings.queue_name)
    connection = Redis.from_url(settings.redis_url)
    pool = WorkerPool([settings.queue_name], connection=connection, num_workers=settings.workers,
                      serializer=JSONSerializer, worker_class=TlprobeWorker)
    pool.start(burst=False)


if __name__ == "__main__":
    main()
