"""The kinds of computation tlprobe queues: one registry, consulted instead of if/elif chains.

A kind names its request and result schemas, its RQ entry point (a dotted path: the service never
imports the worker), the setting holding its timeout, its budget check (None for internal kinds,
which are only submitted as parts of a budgeted job), the name of the renderer that draws its
result (``service.render``), and, for a kind gathered from other jobs, its assembly and what happens
once its result is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from . import budget, cache_key
from .contract.gcm import GCMRequest, GCMResult
from .contract.learning_curve import LearningCurveRequest, LearningCurveResult
from .contract.phase_diagram import PhaseDiagramRequest, PhaseDiagramResult, SourceNetworkRequest, SourceNetworkResult
from .diagrams import assemble, catalogue
from .settings import Settings


@dataclass(frozen=True)
class JobKind:
    name: str
    prefix: str  # of job ids, so that an id tells its kind
    request: type[BaseModel]
    result: type[BaseModel]
    task: str
    timeout_setting: str
    budget: Callable[[Any, Settings], None] | None
    renderer: str | None = None
    #: (redis, request, plan record, progress) -> result: how a composite kind's result is gathered
    assemble: Callable[..., dict[str, Any]] | None = None
    #: (job_id, request, validated result, redis, settings): called once the result is stored
    on_stored: Callable[..., None] | None = None
    #: request -> [(location, dataset id)]: the uploaded datasets a job reads (checked, renewed and
    #: reserved at submission; its budget then also takes their descriptions as ``datasets=``)
    datasets: Callable[[Any], list[tuple[tuple, str]]] | None = None

    def job_id(self, request: BaseModel) -> str:
        return cache_key.job_id(self, request)

    def timeout(self, settings: Settings) -> int:
        return getattr(settings, self.timeout_setting)


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("learning_curve", "lc", LearningCurveRequest, LearningCurveResult, "worker.tasks.run_learning_curve",
                "learning_curve_timeout", budget.check_learning_curve, renderer="learning_curve",
                datasets=lambda request: request.dataset_fields),
        JobKind("gcm", "gcm", GCMRequest, GCMResult, "worker.tasks.run_gcm", "gcm_timeout", budget.check_gcm),
        JobKind("phase_diagram", "pd", PhaseDiagramRequest, PhaseDiagramResult, "worker.tasks.run_phase_diagram",
                "phase_diagram_timeout", budget.check_phase_diagram, renderer="phase_diagram",
                assemble=assemble.gather, on_stored=catalogue.record,
                datasets=lambda request: request.dataset_fields),
        # internal: the source network a phase diagram's parts share (visible through /v1/jobs)
        JobKind("source_network", "net", SourceNetworkRequest, SourceNetworkResult,
                "worker.tasks.run_source_network", "learning_curve_timeout", None,
                datasets=lambda request: request.dataset_fields),
    )
}
PREFIXES = {kind.prefix: kind for kind in KINDS.values()}


def kind_of_job(job_id: str) -> JobKind | None:
    prefix, _, rest = job_id.partition("-")
    kind = PREFIXES.get(prefix)
    return kind if kind is not None and len(rest) == 40 and all(c in "0123456789abcdef" for c in rest) else None
