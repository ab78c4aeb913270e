"""What each job kind computes in a worker: request -> result, with Redis, settings and progress at hand.

Each kind's extension names its function here (``tlprobe_server.kinds``: ``compute``); the RQ entry
point (``worker.tasks.run``) validates the request, calls it, and validates and stores what it
returns. Learning curves and source networks run the engine with a Redis artifact store (on uploaded
datasets the arrays are read here: the engine never touches Redis); a GCM request is solved; a phase
diagram is gathered from its parts by the plan recorded at submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel
from redis import Redis

from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest, SourceNetworkRequest
from tlprobe_server.diagrams import assemble
from tlprobe_server.settings import Settings
from worker.redis_arrays import RedisArtifactStore, load_dataset
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data_source import data_source, source_network_data
from worker.science.gcm.custom import solve_custom
from worker.science.source_network import ensure_source_network

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


def learning_curve(request: LearningCurveRequest, context: JobContext) -> Result:
    loaded = {}
    if request.uses_datasets:  # the engine gets arrays: read them here
        context.progress("load_datasets", 0, len(request.dataset_ids))
        loaded = {dataset_id: context.dataset(dataset_id) for dataset_id in request.dataset_ids}
    return run_learning_curve(data_source(request, loaded), context.artifacts(), context.progress)


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
