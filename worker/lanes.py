"""How the workers of one host share the two queues (``tlprobe_server.queues``) and its cores.

The layout (``layout``): ``TLPROBE_WORKERS`` worker processes take both queues, and
``TLPROBE_INTERACTIVE_WORKERS`` more (default 1) take only interactive jobs. The latter share the
cores with the former rather than having cores of their own: while a phase diagram keeps every
other worker busy, a learning curve submitted meanwhile is taken up at once by an interactive
worker, and runs at nearly the speed it would alone because every bulk job runs niced
(``TLPROBE_BULK_NICENESS``, default 10: its work horse lowers its own priority before it starts;
the kernel then gives the cores to the interactive job first, and to the bulk jobs whatever it
leaves). An idle host loses nothing: with no interactive job running, the bulk jobs have the cores
to themselves.

The rule of a worker that takes both queues (``QueuePolicy``): interactive first, but never more
than ``TLPROBE_MAX_INTERACTIVE_STREAK`` (default 4) interactive jobs in a row while bulk jobs wait;
then it takes the oldest bulk job. So bulk work never starves, however much interactive work
arrives: each such worker gives it at least one job in five. Within a queue, jobs are taken in the
order they were queued (first in, first out, whoever submitted them).

``LanePool`` runs the layout: RQ's WorkerPool, with a list of queues per worker process instead of
one for all, restarting any process that dies with its own list.

How a worker of both queues takes a job (``LaneQueue``): as a worker of one queue does, by moving it
into the queue's intermediate list (``LMOVE``), from which RQ hands back a job whose worker died before
it started it (``rq/intermediate_queue.py``). RQ's own dequeue of several queues pops with ``BLPOP``
instead: a job popped in the instant its worker died, or whose answer was lost on a link cut while the
worker was blocked, would be in no queue and no registry, and never run. So the worker looks at its
queues in order without blocking, and when all are empty blocks on the first for at most
``BLOCK_SECONDS``: a job arriving on a later queue of an idle worker waits at most that long.
"""

from __future__ import annotations

import os
import time
from uuid import uuid4

from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.utils import as_text
from rq.worker_pool import ForkProcess, WorkerData, WorkerPool, run_worker

from tlprobe_server.queues import PRIORITY, Lane, lane_of, queue_name
from tlprobe_server.settings import Settings, get_settings


def layout(settings: Settings) -> list[list[str]]:
    """The queue names each worker process of a host takes, in order of preference."""
    both = [queue_name(settings, lane) for lane in PRIORITY]
    return [both] * settings.workers + [[queue_name(settings, Lane.interactive)]] * settings.interactive_workers


#: how long an idle worker of several queues blocks on its first queue before it looks at the others
BLOCK_SECONDS = 1


class LaneQueue(Queue):
    """RQ's Queue whose dequeue of several queues keeps every taken job in an intermediate list."""

    @classmethod
    def dequeue_any(cls, queues, timeout, connection, job_class=None, serializer=None, death_penalty_class=None):
        """As ``Queue.dequeue_any`` (``timeout`` None: do not block; else raise ``DequeueTimeout`` after it)."""
        queues = list(queues)
        if len(queues) == 1:
            return super().dequeue_any(queues, timeout, connection=connection, job_class=job_class,
                                       serializer=serializer, death_penalty_class=death_penalty_class)
        keys = [queue.key for queue in queues]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            moved = next(filter(None, (cls.lmove(connection, key, None) for key in keys)), None)
            if moved is None and deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DequeueTimeout(timeout, keys)
                try:
                    moved = cls.lmove(connection, keys[0], max(1, min(BLOCK_SECONDS, round(left))))
                except DequeueTimeout:
                    continue
            if moved is None:
                return None
            queue_key, job_id = map(as_text, moved)
            fetched = cls._fetch_dequeued_job(connection, queue_key, job_id, job_class=job_class, serializer=serializer,
                                              death_penalty_class=death_penalty_class)
            if fetched is not None:
                return fetched  # else its hash is gone: RQ's intermediate-queue cleanup drops the id


class QueuePolicy:
    """Mixed into the RQ worker class: the interactive streak rule, bulk jobs run niced, and every job
    taken through an intermediate list (``LaneQueue``)."""

    queue_class = LaneQueue
    _interactive_streak = 0

    def reorder_queues(self, reference_queue) -> None:
        """Called by RQ after each job it takes from ``reference_queue``: the order of the next dequeue."""
        settings = get_settings()
        own = {lane_of(settings, queue.name): queue for queue in self.queues}
        if set(own) != set(PRIORITY):
            return  # a worker of one queue: nothing to order
        taken = lane_of(settings, reference_queue.name)
        self._interactive_streak = self._interactive_streak + 1 if taken is Lane.interactive else 0
        first = Lane.bulk if self._interactive_streak >= settings.max_interactive_streak else Lane.interactive
        self._ordered_queues = [own[first]] + [queue for lane, queue in own.items() if lane is not first]

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False) -> None:
        """RQ leaves the intermediate list alone for a worker of several queues (it popped with BLPOP);
        ``LaneQueue`` moved the job there, so it is taken out here whatever the number of queues."""
        super().prepare_job_execution(job, remove_from_intermediate_queue=True)

    def main_work_horse(self, job, queue) -> None:
        """The work horse (forked for each job) of a bulk job lowers its own priority first."""
        settings = get_settings()
        if settings.bulk_niceness and lane_of(settings, queue.name) is Lane.bulk:
            os.nice(settings.bulk_niceness)
        super().main_work_horse(job, queue)


class LanePool(WorkerPool):
    """RQ's WorkerPool with a list of queues per worker process (``queues_per_worker``, one list per
    process); a process that dies is restarted with its list."""

    def __init__(self, queues_per_worker: list[list[str]], *args, **kwargs) -> None:
        kwargs.setdefault("queue_class", LaneQueue)
        super().__init__(sorted({name for names in queues_per_worker for name in names}), *args,
                         num_workers=len(queues_per_worker), **kwargs)
        self.queues_per_worker = queues_per_worker
        self.slots: dict[str, int] = {}  # worker name -> index of its list

    def start_workers(self, burst: bool = True, _sleep: float = 0, logging_level: str = "INFO") -> None:
        for slot in range(len(self.queues_per_worker)):
            self.start_slot(slot, burst=burst, _sleep=_sleep, logging_level=logging_level)

    def check_workers(self, respawn: bool = True) -> None:
        self.reap_workers()
        if respawn and self.status != self.Status.STOPPED:
            for slot in set(range(len(self.queues_per_worker))) - set(self.slots.values()):
                self.start_slot(slot, burst=self._burst, _sleep=self._sleep)

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        super().handle_dead_worker(worker_data)
        self.slots.pop(worker_data.name, None)

    def start_slot(self, slot: int, burst: bool = True, _sleep: float = 0, logging_level: str = "INFO") -> None:
        name = uuid4().hex
        process = self.process_for(name, self.queues_per_worker[slot], burst, _sleep, logging_level)
        process.start()
        self.worker_dict[name] = WorkerData(name=name, pid=process.pid, process=process)
        self.slots[name] = slot
        self.log.debug("spawned worker %s (pid %d) on %s", name, process.pid, ", ".join(self.queues_per_worker[slot]))

    def process_for(self, name: str, queue_names: list[str], burst: bool, _sleep: float, logging_level: str):
        """RQ's worker process (as ``WorkerPool.get_worker_process`` makes it) on ``queue_names``."""
        return ForkProcess(
            target=run_worker,
            args=(name, queue_names, self._connection_class, self._pool_class, self._pool_kwargs),
            kwargs={"_sleep": _sleep, "burst": burst, "logging_level": logging_level, "worker_class": self.worker_class,
                    "job_class": self.job_class, "queue_class": self.queue_class, "serializer": self.serializer,
                    "exception_handlers": self.exception_handlers},
            name=f"Worker {name} (WorkerPool {self.name})")
