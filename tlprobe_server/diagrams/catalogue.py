"""The catalogue of computed phase diagrams: an entry per diagram, filtered and paginated.

A diagram on datasets has its dataset ids among its fixed parameters (``source.dataset``,
``target.dataset``, with their split fields), and the ``dataset`` filter finds the diagrams that
read a dataset as source or target.

An entry (a JSON summary with every fixed parameter flattened) is written when a diagram's result
is stored and expires with it; the index is a sorted set by completion time, from which expired
entries are dropped as they are met.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from redis import Redis

from tlprobe.contract.phase_diagram import CatalogueEntry, CataloguePage, PhaseDiagramRequest, PhaseDiagramResult

from .. import keys
from ..settings import Settings


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
    for path in request.axis_fields:  # an axis's field holds no fixed value
        section, _, field = path.rpartition(".")
        (fixed[section] if section else fixed).pop(field, None)
    return CatalogueEntry(
        diagram_id=diagram_id, x_axis=request.x_axis.name, y_axis=request.y_axis.name,
        x_values=request.x_axis.values, y_values=request.y_axis.values, baseline=request.baseline,
        protocols=request.all_protocols, complete=complete, computed_at=computed_at, parameters=_flatten(fixed),
        links={"self": f"/v1/phase-diagrams/{diagram_id}", "png": f"/v1/phase-diagrams/{diagram_id}.png",
               "csv": f"/v1/phase-diagrams/{diagram_id}?format=csv"})


def add_to_catalogue(redis: Redis, entry: CatalogueEntry, ttl: int, timestamp: float) -> None:
    with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.catalogue_entry(entry.diagram_id), entry.model_dump_json(), ex=ttl)
        pipe.zadd(keys.catalogue(), {entry.diagram_id: timestamp})
        pipe.execute()


def _in_range(value: Any, low: float | None, high: float | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def list_catalogue(redis: Redis, *, x_axis: str | None = None, y_axis: str | None = None, axis: str | None = None,
                   protocol: str | None = None, baseline: str | None = None, complete: bool | None = None,
                   dataset: str | None = None,
                   ranges: dict[str, tuple[float | None, float | None]] | None = None, offset: int = 0,
                   limit: int = 20) -> CataloguePage:
    """Newest first; entries whose result expired are dropped from the index as they are met."""
    ids = [i.decode() for i in redis.zrevrange(keys.catalogue(), 0, -1)]
    raw = redis.mget([keys.catalogue_entry(i) for i in ids]) if ids else []
    expired = [i for i, value in zip(ids, raw) if value is None]
    if expired:
        redis.zrem(keys.catalogue(), *expired)
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
        if dataset and dataset not in (entry.parameters.get("source.dataset"), entry.parameters.get("target.dataset")):
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


def record(diagram_id: str, request: PhaseDiagramRequest, result: PhaseDiagramResult, redis: Redis,
           settings: Settings) -> None:
    """Called once a diagram's result is stored: its entry lives as long as the result."""
    entry = catalogue_entry(diagram_id, request, result.complete, result.meta["computed_at"])
    add_to_catalogue(redis, entry, settings.result_ttl, time.time())
