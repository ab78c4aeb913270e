"""Submitting a phase diagram (fan-out over RQ dependencies) and its cached catalogue.

The diagram's job is the *assembly*: it depends on its parts (``phase_plan``) with
``allow_failure``, so it runs once every part has ended and reports failed cells instead of hiding
them. Parts already cached are not queued at all; a resubmitted diagram therefore recomputes only
what is missing. A diagram with failed cells is kept (its result says ``complete: false``) but is
not a cache hit: asking again retries its failed parts.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from redis import Redis

from . import redis_keys
from .cache_key import job_id as make_job_id
from .job_views import finished_view, view_of
from .kinds import KINDS
from .phase_plan import Plan, plan
from .queueing import check_capacity, enqueue, cached_result, fetch_job, is_stale, queue_for, submission_lock, submit
from .schemas.jobs import Submission
from .schemas.phase_diagram import CatalogueEntry, CataloguePage, PhaseDiagramRequest
from .settings import Settings

log = logging.getLogger(__name__)
KIND = KINDS["phase_diagram"]


def submit_phase_diagram(redis: Redis, settings: Settings, request: PhaseDiagramRequest) -> Submission:
    diagram_id = make_job_id(KIND, request)
    result = cached_result(redis, diagram_id)
    if result is not None and result.get("complete"):
        return Submission(**finished_view(diagram_id, KIND).model_dump(), cached=True, result=result)
    with submission_lock(redis, diagram_id):
        existing = fetch_job(redis, diagram_id)
        result = cached_result(redis, diagram_id)
        if result is not None and result.get("complete"):
            return Submission(**finished_view(diagram_id, KIND).model_dump(), cached=True, result=result)
        if existing is not None:
            view = view_of(existing, KIND)
            if not is_stale(redis, view) and result is None:
                return Submission(**view.model_dump(), cached=False)
            existing.delete()  # failed, canceled, blocked, or finished with failed cells: retry
        redis.delete(redis_keys.result(diagram_id))
        layout = plan(request, settings.diagram_chunk_alphas)
        check_capacity(redis, settings, new_jobs=len(layout.parts) + 2)  # all of it, or nothing
        pending = _submit_parts(redis, settings, layout)
        # progress counts cell computations: a cell with a theory and a simulation part counts twice
        meta = {"parts": pending, "cells": sum(len(part.cells) for part in layout.parts)}
        job = enqueue(queue_for(redis, settings), KIND, request, diagram_id, settings,
                       depends_on=[job_id for job_id, _ in pending], meta=meta)
    log.info("phase diagram %s: %d parts pending", diagram_id, len(pending))
    return Submission(**view_of(job, KIND).model_dump(), cached=False)


def _submit_parts(redis: Redis, settings: Settings, layout: Plan) -> list[list[Any]]:
    """Submit the network and every part (cached ones are skipped); the [job_id, cells] still pending."""
    network = submit(redis, settings, KINDS["source_network"], layout.network)
    part_ids: list[str] = []
    pending: list[list[Any]] = []
    for part in layout.parts:
        depends = [] if network.cached else [network.job_id]
        if part.after is not None and any(part_ids[part.after] == job_id for job_id, _ in pending):
            depends.append(part_ids[part.after])
        sub = submit(redis, settings, KINDS["learning_curve"], part.request, depends_on=depends)
        part_ids.append(sub.job_id)
        if not sub.cached:
            pending.append([sub.job_id, len(part.cells)])
    return pending


# --- catalogue ------------------------------------------------------------------------------

def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def catalogue_entry(diagram_id: str, request: PhaseDiagramRequest, complete: bool, computed_at: str) -> CatalogueEntry:
    fixed = request.model_dump(mode="json", exclude={"x_axis", "y_axis", "protocols", "baseline"})
    return CatalogueEntry(
        diagram_id=diagram_id, x_axis=request.x_axis.name, y_axis=request.y_axis.name,
        x_values=request.x_axis.values, y_values=request.y_axis.values, baseline=request.baseline,
        protocols=request.all_protocols, complete=complete, computed_at=computed_at, parameters=_flatten(fixed),
        links={"self": f"/v1/phase-diagrams/{diagram_id}", "png": f"/v1/phase-diagrams/{diagram_id}.png",
               "csv": f"/v1/phase-diagrams/{diagram_id}?format=csv"})


def add_to_catalogue(redis: Redis, entry: CatalogueEntry, ttl: int, timestamp: float) -> None:
    with redis.pipeline(transaction=True) as pipe:
        pipe.set(redis_keys.catalogue_entry(entry.diagram_id), entry.model_dump_json(), ex=ttl)
        pipe.zadd(redis_keys.catalogue(), {entry.diagram_id: timestamp})
        pipe.execute()


def _in_range(value: Any, low: float | None, high: float | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def list_catalogue(redis: Redis, *, x_axis: str | None = None, y_axis: str | None = None, axis: str | None = None,
                   protocol: str | None = None, baseline: str | None = None, complete: bool | None = None,
                   ranges: dict[str, tuple[float | None, float | None]] | None = None, offset: int = 0,
                   limit: int = 20) -> CataloguePage:
    """Newest first; entries whose result expired are dropped from the index as they are met."""
    ids = [i.decode() for i in redis.zrevrange(redis_keys.catalogue(), 0, -1)]
    raw = redis.mget([redis_keys.catalogue_entry(i) for i in ids]) if ids else []
    expired = [i for i, value in zip(ids, raw) if value is None]
    if expired:
        redis.zrem(redis_keys.catalogue(), *expired)
    matches = []
    for value in raw:
        if value is None:
            continue
        entry = CatalogueEntry.model_validate(json.loads(value))
        if x_axis and entry.x_axis.value != x_axis or y_axis and entry.y_axis.value != y_axis:
            continue
        if axis and axis not in (entry.x_axis.value, entry.y_axis.value):
            continue
        if protocol and protocol not in [p.value for p in entry.protocols]:
            continue
        if baseline and entry.baseline.value != baseline or complete is not None and entry.complete != complete:
            continue
        if ranges and not all(_in_range(entry.parameters.get(path), *bounds) for path, bounds in ranges.items()):
            continue
        matches.append(entry)
    return CataloguePage(total=len(matches), offset=offset, limit=limit, items=matches[offset:offset + limit])


def parse_range(text: str) -> tuple[str, tuple[float | None, float | None]]:
    """'source.input_dim:100:400' -> ('source.input_dim', (100.0, 400.0)); an empty bound is open."""
    path, _, bounds = text.partition(":")
    low, _, high = bounds.partition(":")
    values = tuple(float(b) if b else None for b in (low, high))
    if not path or any(v is not None and not math.isfinite(v) for v in values):
        raise ValueError(f"range must be path:min:max with finite bounds, got {text!r}")
    return path, values
