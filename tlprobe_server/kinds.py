"""The server's side of each job kind: what the service and the workers need beyond the kind's pure
description (``tlprobe.kinds``, which the client reads too).

An extension names the kind's computation in the worker and the picture the service draws of its
result (dotted ``module:function`` paths: the service never imports the worker, nor this layer the
service), the setting holding its timeout, its budget check (None for a kind submitted only as a part
of a budgeted one), and its hooks: the uploaded datasets it reads (checked, renewed and reserved at
submission; its budget then also takes their descriptions), its plan and fan-out (a kind gathered
from parts: planned once per submission, budgeted, fanned out, recorded for the assembly), what
happens once its result is stored, and the queue its jobs wait in when submitted directly
(``tlprobe_server.queues``: a fan-out's parts wait in their diagram's, bulk). Every kind of
``tlprobe.kinds.KINDS`` has exactly one extension (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable

from pydantic import BaseModel

from tlprobe.kinds import KINDS, Kind, kind_of_job

from . import budget
from .diagrams import catalogue, fan_out, plan, tiles
from .queues import Lane
from .settings import Settings

#: request -> [(location of the field, dataset id)]
DatasetFields = Callable[[Any], list[tuple[tuple, str]]]


def _dataset_fields(request: Any) -> list[tuple[tuple, str]]:
    return request.dataset_fields


@dataclass(frozen=True)
class ServerKind:
    kind: Kind
    #: ``module:function`` in the worker: (request, JobContext) -> result (``worker.computations``)
    compute: str
    timeout_setting: str
    #: (request, settings, [layout=plan], [datasets=descriptions]) -> None, raising BudgetExceeded
    budget: Callable[..., None] | None
    #: ``module:function`` in the service drawing a result: (result, fmt) -> bytes; None: no picture
    renderer: str | None = None
    datasets: DatasetFields | None = None
    #: (request, settings) -> plan: how a kind gathered from parts fans out, decided once per submission
    plan: Callable[[Any, Settings], Any] | None = None
    #: (submit_part, plan) -> (ids of the pending parts, the job's meta); see ``diagrams.fan_out``
    fan_out: Callable[..., tuple[list[str], dict[str, Any]]] | None = None
    #: plan -> how many jobs the fan-out may add (the queue's capacity is checked for all of them)
    parts: Callable[[Any], int] | None = None
    #: (job_id, request, validated result, redis, settings): called once the result is stored
    on_stored: Callable[..., None] | None = None
    #: the queue of a job of this kind submitted directly (a part of a fan-out waits in its parent's)
    lane: Lane = Lane.interactive

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def prefix(self) -> str:
        return self.kind.prefix

    @property
    def request(self) -> type[BaseModel]:
        return self.kind.request

    @property
    def result(self) -> type[BaseModel]:
        return self.kind.result

    def job_id(self, request: BaseModel) -> str:
        return self.kind.job_id(request)

    def timeout(self, settings: Settings) -> int:
        return getattr(settings, self.timeout_setting)

    def dataset_ids(self, request: BaseModel) -> list[str]:
        """The distinct uploaded datasets the job reads (none for a kind that reads none)."""
        return list(dict.fromkeys(i for _, i in self.datasets(request))) if self.datasets else []

    def make_plan(self, request: BaseModel, settings: Settings) -> Any:
        return None if self.plan is None else self.plan(request, settings)

    def part_count(self, layout: Any) -> int:
        return 0 if self.parts is None else self.parts(layout)


SERVER_KINDS: dict[str, ServerKind] = {
    extension.name: extension
    for extension in (
        ServerKind(KINDS["learning_curve"], "worker.computations:learning_curve", "learning_curve_timeout",
                   budget.check_learning_curve, renderer="service.render.plots:render_learning_curve",
                   datasets=_dataset_fields),
        ServerKind(KINDS["gcm"], "worker.computations:gcm", "gcm_timeout", budget.check_gcm),
        ServerKind(KINDS["phase_diagram"], "worker.computations:phase_diagram", "phase_diagram_timeout",
                   budget.check_phase_diagram, renderer="service.render.plots:render_phase_diagram",
                   datasets=_dataset_fields,
                   plan=lambda request, settings: plan.plan(request, settings.diagram_chunk_alphas, settings.diagram_tiles),
                   fan_out=fan_out.fan_out, parts=fan_out.part_count, on_stored=catalogue.record, lane=Lane.bulk),
        ServerKind(KINDS["source_network"], "worker.computations:source_network", "learning_curve_timeout", None,
                   datasets=_dataset_fields, lane=Lane.bulk),
        # a phase diagram's part: budgeted with its diagram; each of its curves is bounded like a learning curve
        ServerKind(KINDS["diagram_tile"], "worker.computations:diagram_tile", "learning_curve_timeout", None,
                   datasets=_dataset_fields, on_stored=tiles.keep_curves, lane=Lane.bulk),
    )
}


def resolve(path: str) -> Callable[..., Any]:
    """The function a dotted ``module:function`` path names (a kind's computation or renderer), imported on first use."""
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def server_kind_of_job(job_id: str) -> ServerKind | None:
    """The server's side of the kind a job id names, or None."""
    kind = kind_of_job(job_id)
    return None if kind is None else SERVER_KINDS[kind.name]
