"""The kinds of computation the service queues: one registry, no if/elif chains elsewhere.

Each kind names its request and result schemas, its RQ entry point (a dotted path: the service
never imports the worker) and the setting holding its timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from .schemas.gcm import GCMRequest, GCMResult
from .schemas.learning_curve import LearningCurveRequest, LearningCurveResult
from .schemas.phase_diagram import PhaseDiagramRequest, PhaseDiagramResult, SourceNetworkRequest, SourceNetworkResult


@dataclass(frozen=True)
class JobKind:
    name: str
    prefix: str  # of job ids, so that an id tells its kind
    request: type[BaseModel]
    result: type[BaseModel]
    task: str
    timeout_setting: str


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("learning_curve", "lc", LearningCurveRequest, LearningCurveResult,
                "worker.tasks.run_learning_curve", "learning_curve_timeout"),
        JobKind("gcm", "gcm", GCMRequest, GCMResult, "worker.tasks.run_gcm", "gcm_timeout"),
        JobKind("phase_diagram", "pd", PhaseDiagramRequest, PhaseDiagramResult, "worker.tasks.run_phase_diagram",
                "phase_diagram_timeout"),
        # internal: the source network a phase diagram's parts share (visible through /v1/jobs)
        JobKind("source_network", "net", SourceNetworkRequest, SourceNetworkResult,
                "worker.tasks.run_source_network", "learning_curve_timeout"),
    )
}
PREFIXES = {kind.prefix: kind for kind in KINDS.values()}


def kind_of_job(job_id: str) -> JobKind | None:
    prefix, _, rest = job_id.partition("-")
    kind = PREFIXES.get(prefix)
    return kind if kind is not None and len(rest) == 40 and all(c in "0123456789abcdef" for c in rest) else None
