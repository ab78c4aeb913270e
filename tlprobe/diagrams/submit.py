"""Submitting a phase diagram: fan-out over RQ dependencies, with the plan decided once.

The diagram's job is the *assembly*: it depends on its parts (``plan``) with ``allow_failure``, so
it runs once every part has ended and reports failed cells instead of hiding them. Parts already
cached are not queued at all; a resubmitted diagram therefore recomputes only what is missing. A
diagram with failed cells is kept (its result says ``complete: false``) but is not a cache hit:
asking again retries its failed parts. The plan made here travels in the diagram job's meta
(``"plan"``): part ids, roles and cells, which the assembly reads instead of planning again.

On datasets, every job reserves the datasets it reads (``tlprobe.datasets.reserved``): the source
networks and the parts as they are submitted, the diagram's own job around its enqueueing (after
its parts: dataset locks are not re-entrant), so a deletion is refused while any of them is queued
or running, and a dataset missing at submission raises ``DatasetMissing``.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis

from .. import datasets, results
from ..contract.jobs import Submission
from ..contract.phase_diagram import PhaseDiagramRequest
from ..kinds import KINDS
from ..settings import Settings
from ..submit import check_capacity, enqueue, fetch_job, is_stale, queue_for, submission_lock, submit
from ..views import finished_view, view_of
from .plan import Plan

log = logging.getLogger(__name__)
KIND = KINDS["phase_diagram"]


def _cached(diagram_id: str, result: dict[str, Any]) -> Submission:
    return Submission(**finished_view(diagram_id, KIND).model_dump(), cached=True, result=result)


def submit_phase_diagram(redis: Redis, settings: Settings, request: PhaseDiagramRequest, layout: Plan) -> Submission:
    """Submit ``request`` fanned out as ``layout`` (its plan, made once by the caller)."""
    diagram_id = KIND.job_id(request)
    result = results.get(redis, diagram_id)
    if result is not None and result.get("complete"):
        return _cached(diagram_id, result)
    with submission_lock(redis, diagram_id):
        existing = fetch_job(redis, diagram_id)
        result = results.get(redis, diagram_id)
        if result is not None and result.get("complete"):
            return _cached(diagram_id, result)
        if existing is not None:
            view = view_of(existing, KIND)
            if not is_stale(redis, view) and result is None:
                return Submission(**view.model_dump(), cached=False)
            existing.delete()  # failed, canceled, blocked, or finished with failed cells: retry
        results.delete(redis, diagram_id)
        check_capacity(redis, settings, new_jobs=len(layout.parts) + len(layout.networks) + 1)  # all, or nothing
        record, pending = _submit_parts(redis, settings, layout)
        # progress counts cell computations: a cell with a theory and a simulation part counts twice
        meta = {"parts": pending, "cells": sum(len(part.cells) for part in layout.parts), "plan": record}
        with datasets.reserved(redis, settings, request.dataset_ids, diagram_id):
            job = enqueue(queue_for(redis, settings), KIND, request, diagram_id, settings,
                          depends_on=[job_id for job_id, _ in pending], meta=meta)
    log.info("phase diagram %s: %d parts pending", diagram_id, len(pending))
    return Submission(**view_of(job, KIND).model_dump(), cached=False)


def _submit_parts(redis: Redis, settings: Settings, layout: Plan) -> tuple[dict[str, Any], list[list[Any]]]:
    """Submit the networks and every part (cached ones are skipped). Returns the plan's record (what
    the assembly reads) and the [job_id, cells] of the parts still pending."""
    networks = [submit(redis, settings, KINDS["source_network"], network) for network in layout.networks]
    part_ids: list[str] = []
    pending: list[list[Any]] = []
    for part in layout.parts:
        network = networks[part.network]
        depends = [] if network.cached else [network.job_id]
        if part.after is not None and any(part_ids[part.after] == job_id for job_id, _ in pending):
            depends.append(part_ids[part.after])
        sub = submit(redis, settings, KINDS["learning_curve"], part.request, depends_on=depends)
        part_ids.append(sub.job_id)
        if not sub.cached:
            pending.append([sub.job_id, len(part.cells)])
    record = {"networks": [network.job_id for network in networks], "cells": layout.n_cells,
              "parts": [{"job_id": job_id, "role": part.role, "cells": [list(cell) for cell in part.cells]}
                        for job_id, part in zip(part_ids, layout.parts)]}
    return record, pending
