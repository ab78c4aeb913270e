"""Batches: many submissions at once, remembered under one id so that they can be followed together.

Each item goes through the one submission pipeline (``submission.submit``); the batch itself is the
list of its job ids, kept as long as the jobs' records (``job_ttl``), so every job in it can always
be reported.
"""

from __future__ import annotations

import json
import secrets
from typing import Sequence

from pydantic import BaseModel
from redis import Redis

from tlprobe.contract.batches import BatchJob, BatchView
from tlprobe.contract.jobs import JobStatus, Submission
from tlprobe.kinds import kind_of_job

from . import keys, replication
from .kinds import ServerKind
from .settings import Settings
from .submission import UnknownJob, job_view, submit

BATCH_ID_DIGITS = 32


def submit_batch(redis: Redis, settings: Settings,
                 items: Sequence[tuple[ServerKind, BaseModel, object]]) -> tuple[str, list[Submission]]:
    """``items``: (kind, request, plan) each, as prepared for submission (``plan``: None but for kinds that fan out)."""
    submissions = [submit(redis, settings, kind, request, plan=plan) for kind, request, plan in items]
    batch_id = secrets.token_hex(BATCH_ID_DIGITS // 2)
    redis.set(keys.batch(batch_id), json.dumps([s.job_id for s in submissions]), ex=settings.job_ttl)
    # a batch's id is drawn at random: unlike a job's (its content's address), sending it again gives a
    # new one, so the record is not answered before replicas hold it (NotReplicated otherwise)
    replication.confirm(redis, settings)
    return batch_id, submissions


def batch_view(redis: Redis, batch_id: str) -> BatchView:
    raw = redis.get(keys.batch(batch_id)) if len(batch_id) == BATCH_ID_DIGITS else None
    if raw is None:
        raise UnknownJob(batch_id)
    jobs = []
    for job_id in json.loads(raw):
        try:
            view = job_view(redis, job_id)
            jobs.append(BatchJob(job_id=job_id, kind=view.kind, status=view.status))
        except UnknownJob:  # only if Redis lost data: report it as failed rather than hide it
            jobs.append(BatchJob(job_id=job_id, kind=kind_of_job(job_id).name, status=JobStatus.failed))
    return batch_of(batch_id, jobs)


def batch_of(batch_id: str, jobs: list[BatchJob]) -> BatchView:
    counts = {status: sum(1 for j in jobs if j.status is status) for status in JobStatus}
    return BatchView(batch_id=batch_id, counts=counts, jobs=jobs)
