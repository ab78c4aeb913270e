"""Every kind of computation tlprobe runs, declared once.

A ``Kind`` is a pure description that the client, the command line and the server all read: its
request and result schemas (the contract), the prefix of its job ids, where it is submitted over
HTTP, its name on the command line, whether a batch may hold it, its tidy rows and its summary for a
person. The server adds what only it needs (RQ task, timeout, budget, picture, assembly, ...) in
``tlprobe_server.kinds``, one extension per kind keyed by the same name. Every per-kind list of the
project is derived from these two registries: the client's methods and typed results, the command
line's choices, the batch schema, the tidy rows and summaries, the server's tasks and pictures.

Adding a kind: declare it in ``KINDS`` below and its extension in ``tlprobe_server.kinds`` (a test
fails when either is missing), write its route (one router per resource: its documentation is the
kind's own) and its computation in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from . import cache_key, summaries, tidy
from .contract.diagram_tile import DiagramTileRequest, DiagramTileResult
from .contract.gcm import GCMRequest, GCMResult
from .contract.learning_curve import LearningCurveRequest, LearningCurveResult
from .contract.phase_diagram import PhaseDiagramRequest, PhaseDiagramResult, SourceNetworkRequest, SourceNetworkResult

Result = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    name: str  # as in results ("kind") and job views
    prefix: str  # of job ids, so that an id tells its kind: "lc-<40 hex digits>"
    request: type[BaseModel]
    result: type[BaseModel]
    #: the class name of the typed result the client returns (``tlprobe.results``)
    typed_result: str
    rows: Callable[[Result], list[tidy.Row]]  # tidy rows of a result (the service's CSV, ``rows()``)
    columns: tuple[str, ...]  # ... and their columns, the same in every row
    summary: Callable[[Result], str]  # a short text for a person (``tlprobe result --format table``)
    path: str | None = None  # where it is submitted (POST); None: only submitted as a part of another kind
    command: str | None = None  # ``tlprobe submit <command>``; None: not submitted from the command line
    batchable: bool = False  # may be an item of ``POST /v1/batches``
    help: str = ""  # one line, for the command line and the client's docstrings

    def job_id(self, request: BaseModel) -> str:
        """The id of the job computing ``request`` (validated): the prefix and the request's cache key."""
        return cache_key.job_id(self.prefix, self.name, request)

    @property
    def item_name(self) -> str:
        """The name of its batch item's schema: ``LearningCurveRequest`` -> ``LearningCurveItem``."""
        return self.request.__name__.removesuffix("Request") + "Item"


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("learning_curve", "lc", LearningCurveRequest, LearningCurveResult, "LearningCurve",
             tidy.learning_curve_rows, tuple(tidy.LEARNING_CURVE_COLUMNS), summaries.learning_curve_summary,
             path="/v1/learning-curves", command="learning-curve", batchable=True,
             help="theory and simulation of the test error against alpha = n_t / N, per protocol"),
        Kind("gcm", "gcm", GCMRequest, GCMResult, "GCMCurve", tidy.gcm_rows, tuple(tidy.GCM_COLUMNS), summaries.gcm_summary,
             path="/v1/gcm", command="gcm", batchable=True,
             help="a user-supplied Gaussian covariate model (spectrum or covariances) over sample complexities"),
        Kind("phase_diagram", "pd", PhaseDiagramRequest, PhaseDiagramResult, "PhaseDiagram", tidy.phase_diagram_rows,
             tuple(tidy.PHASE_DIAGRAM_COLUMNS), summaries.phase_diagram_summary, path="/v1/phase-diagrams",
             command="phase-diagram", batchable=True,
             help="where transfer pays: a grid over two axes with the gain and its boundary"),
        # a part of phase diagrams (visible through /v1/jobs): the source network their cells share
        Kind("source_network", "net", SourceNetworkRequest, SourceNetworkResult, "SourceNetwork",
             tidy.source_network_rows, tuple(tidy.SOURCE_NETWORK_COLUMNS), summaries.source_network_summary,
             help="the source network a phase diagram's parts share"),
        # a part of large phase diagrams: theory-only learning curves computed in one job, each stored as its own result
        Kind("diagram_tile", "tile", DiagramTileRequest, DiagramTileResult, "DiagramTile", tidy.diagram_tile_rows,
             tuple(tidy.DIAGRAM_TILE_COLUMNS), summaries.diagram_tile_summary,
             help="theory-only learning curves of a phase diagram computed in one job"),
    )
}
PREFIXES = {kind.prefix: kind for kind in KINDS.values()}


def submittable() -> list[Kind]:
    """The kinds a user submits over HTTP (in declaration order)."""
    return [kind for kind in KINDS.values() if kind.path is not None]


def kind_of_job(job_id: str) -> Kind | None:
    """The kind a job id names (``lc-`` + 40 hex digits), or None for anything else."""
    prefix, _, rest = job_id.partition("-")
    kind = PREFIXES.get(prefix)
    well_formed = len(rest) == cache_key.JOB_ID_DIGITS and all(c in "0123456789abcdef" for c in rest)
    return kind if kind is not None and well_formed else None


def kind_of_result(result: Result) -> Kind:
    """The kind of a result's JSON (its ``kind`` field)."""
    return KINDS[result["kind"]]


def rows_of(result: Result) -> tuple[list[tidy.Row], list[str]]:
    """The tidy rows of any result, with its column names."""
    kind = kind_of_result(result)
    return kind.rows(result), list(kind.columns)
