"""What each job kind computes in a worker: request -> result, with Redis, settings and progress at hand.

Each kind's extension names its function here (``tlprobe_server.kinds``: ``compute``); the RQ entry
point (``worker.tasks.run``) validates the request, calls it, and validates and stores what it
returns. Learning curves and source networks run the engine with a Redis artifact store (on uploaded
datasets the arrays are read here: the engine never touches Redis); a GCM request is solved; a diagram
tile computes several learning curves, storing each as its own learning-curve result; a phase
diagram is gathered from its parts by the plan recorded at submission.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel
from redis import Redis
from rq.timeouts import JobTimeoutException

from tlprobe.contract.diagram_tile import DiagramTileRequest
from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest, SourceNetworkRequest
from tlprobe_server import result_store
from tlprobe_server.cancel import JobCanceled
from tlprobe_server.diagrams import assemble
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.settings import Settings
from worker.job_results import exception_reason, stamped
from worker.redis_arrays import RedisArtifactStore, load_dataset
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data_source import data_source, source_network_data
from worker.science.gcm.custom import solve_custom
from worker.science.source_network import ensure_source_network

log = logging.getLogger(__name__)
#: a result as the engine gives it: the contract's model, or its JSON-ready dict
Result = BaseModel | dict[str, Any]


@dataclass(frozen=True)
class JobContext:
    redis: Redis
    settings: Settings
    progress: Callable[[str, int, int], None]  # (stage, done, total), throttled, and the cancel check
    meta: dict[str, Any]  # the job's meta as enqueued (a phase diagram's plan record)

    def artifacts(self) -> RedisArtifactStore:
        return RedisArtifactStore(self.redis, self.settings.artifact_ttl)

    def dataset(self, dataset_id: str):
        return load_dataset(self.redis, dataset_id, self.settings.dataset_ttl)


def learning_curve(request: LearningCurveRequest, context: JobContext, loaded: dict | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> Result:
    """``loaded``: datasets read already (by id), to which those it reads are added; ``progress``:
    instead of the context's."""
    loaded = {} if loaded is None else loaded
    if request.uses_datasets:  # the engine gets arrays: read them here
        context.progress("load_datasets", 0, len(request.dataset_ids))
        for dataset_id in request.dataset_ids:
            if dataset_id not in loaded:
                loaded[dataset_id] = context.dataset(dataset_id)
    return run_learning_curve(data_source(request, loaded), context.artifacts(), progress or context.progress)


def diagram_tile(request: DiagramTileRequest, context: JobContext) -> Result:
    """Each curve not stored yet is computed and stored under its own learning-curve id, as that job
    would store it (so the learning-curve endpoint, and any diagram, finds it). A curve that fails is
    recorded with its reason and the others are still computed; a timeout or a cancel ends the tile
    (the curves stored until then stay: each is whole)."""
    kind, total = SERVER_KINDS["learning_curve"], len(request.curves)
    loaded: dict = {}  # datasets, read once per tile
    curves = []
    for index, curve in enumerate(request.curves):
        job_id = kind.job_id(curve)
        context.progress("curves", index, total)
        if result_store.exists(context.redis, job_id):  # a learning curve's result is always for good
            curves.append({"job_id": job_id, "computed": False, "error": None})
            continue
        started = time.perf_counter()
        try:
            result = learning_curve(curve, context, loaded, lambda stage, done, of, at=index: context.progress(
                "curves", at, total))
            validated = stamped(kind, curve, result, job_id, time.perf_counter() - started)
        except (JobCanceled, JobTimeoutException):
            raise
        except Exception as exc:
            log.warning("curve %s of the tile failed: %s", job_id, exc)
            curves.append({"job_id": job_id, "computed": False, "error": exception_reason(exc, None)})
            continue
        result_store.put(context.redis, job_id, validated.model_dump_json(), context.settings.result_ttl)
        curves.append({"job_id": job_id, "computed": True, "error": None})
    context.progress("curves", total, total)
    return {"curves": curves, "complete": all(curve["error"] is None for curve in curves),
            "meta": {"computed": sum(curve["computed"] for curve in curves)}}


def gcm(request: GCMRequest, context: JobContext) -> Result:
    context.progress("solve", 0, 1)
    result = solve_custom(request)
    context.progress("solve", 1, 1)
    return result


def source_network(request: SourceNetworkRequest, context: JobContext) -> Result:
    loaded = {}
    if request.dataset_fields:  # a diagram on datasets: the network trains on the source dataset
        context.progress("load_datasets", 0, 1)
        loaded = {request.source.dataset: context.dataset(request.source.dataset)}
    return ensure_source_network(source_network_data(request.source, request.network, loaded), context.artifacts(),
                                 context.progress)


def phase_diagram(request: PhaseDiagramRequest, context: JobContext) -> Result:
    """The diagram's own job: its parts have ended; gather them by the plan recorded at submission."""
    return assemble.gather(context.redis, request, context.meta["plan"], context.progress)
