from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tlprobe.contract.common import MAX_OFFSET, Protocol
from tlprobe.contract.datasets import DATASET_ID_PATTERN
from tlprobe.contract.jobs import JobView, Submission
from tlprobe.contract.phase_diagram import AxisName, Baseline, CataloguePage, PhaseDiagramRequest, PhaseDiagramResult
from tlprobe.kinds import kind_of_job
from tlprobe_server import result_store
from tlprobe_server.diagrams import catalogue
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.submission import UnknownJob, job_view

from .. import access
from ..access import ReadAccess, WriteAccess
from ..deps import RedisDep
from ..render.plots import MEDIA_TYPES, picture
from ..render.tables import tidy_csv
from ..stored import IF_NONE_MATCH, NOT_MODIFIED, RESULT_HEADERS, read_result, result_response
from ..submitting import SUBMITTED, submit

router = APIRouter(prefix="/v1/phase-diagrams", tags=["phase diagrams"])
NUMBER = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"
RANGE_PATTERN = rf"^[A-Za-z_][A-Za-z0-9_.]*:({NUMBER})?:({NUMBER})?$"
KIND = SERVER_KINDS["phase_diagram"]
NOT_READY = {404: {"description": "No such diagram."}, 409: {"model": JobView, "description": "Not finished (yet)."}}


@router.post("", name="submit_phase_diagram", status_code=202, response_model=Submission,
             responses=SUBMITTED)
async def submit_phase_diagram(body: PhaseDiagramRequest, request: Request, response: Response, token: WriteAccess):
    """A grid over two axes (a correlation knob against alpha, or two knobs at a fixed alpha) with each
    protocol's test error per cell, the gain of tf over the baseline, and the gain = 0 boundary.

    The work fans out over the workers: the source network once, one theory curve per distinct target
    (its spectra serve every alpha; a large diagram packs its curves into about `TLPROBE_DIAGRAM_TILES`
    jobs, each curve stored as its own learning curve), simulation chunks when asked; the diagram's id
    is its job id. Up to 100 values per axis and 10,000 cells theory-only; 400 cells with a simulation.

    On uploaded datasets (`{"dataset": ID}` as source and target) the axes are alpha, n_samples,
    hidden_units, epochs or regularisation, the cells are simulated (give `simulation`), and with
    `theory` the Gaussian-equivalent approximation comes as its own grid.

    Rules beyond the schema (422 before anything is queued): x_axis and y_axis differ; each axis's
    values strictly increase and each is a value its field accepts (integers for D, N, K, n_s,
    epochs, latent_change; the field's bounds); at most 10,000 cells, 400 with a simulation; a field
    an axis sets is not also given another value; the smallest alpha at least 1/N for the smallest N
    of the grid (on datasets, the target's N); no cell empties the target's latent space; on
    datasets, the datasets exist and fit the grid; at most `TLPROBE_MAX_DIAGRAM_TRAINING_RUNS` scratch/finetune trainings, and the
    estimated work and memory within their limits. (A scratch or finetune baseline needing a
    simulation, something to compute, and distinct protocols are in the schema.)"""
    return await submit(KIND, body, request, response, token)


@router.get("", name="list_phase_diagrams", response_model=CataloguePage)
def list_phase_diagrams(
        redis: RedisDep, _: ReadAccess,
        x_axis: AxisName | None = None, y_axis: AxisName | None = None,
        axis: AxisName | None = Query(None, description="Either axis has this name."),
        protocol: Protocol | None = Query(None, description="The diagram includes this protocol."),
        baseline: Baseline | None = None, complete: bool | None = None,
        dataset: str | None = Query(None, pattern=DATASET_ID_PATTERN,
                                    description="The diagram reads this dataset (as source or target)."),
        range_: list[Annotated[str, Query(pattern=RANGE_PATTERN)]] = Query(
            [], alias="range", description="Value range of a fixed parameter, repeatable: path:min:max, e.g. "
                                           "source.input_dim:100:400 or target.teacher_noise::0.2 (empty = open)."),
        offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(20, ge=1, le=100)) -> CataloguePage:
    """The catalogue of computed phase diagrams, newest first, filtered and paginated."""
    try:
        ranges = dict(catalogue.parse_range(text) for text in range_)
    except ValueError as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "range"), "msg": str(exc),
                                       "input": None}]) from None
    return catalogue.list_catalogue(
        redis, x_axis=x_axis and x_axis.value, y_axis=y_axis and y_axis.value, axis=axis and axis.value,
        protocol=protocol and protocol.value, baseline=baseline and baseline.value, complete=complete,
        dataset=dataset, ranges=ranges, offset=offset, limit=limit)


def _not_finished(redis, diagram_id: str) -> JSONResponse:
    return JSONResponse(job_view(redis, diagram_id).model_dump(mode="json"), status_code=409)


def _finished(redis, diagram_id: str) -> dict | JSONResponse:
    if kind_of_job(diagram_id) is not KIND.kind:
        raise UnknownJob(diagram_id)
    result = result_store.get(redis, diagram_id)
    return _not_finished(redis, diagram_id) if result is None else result


def _picture(redis, diagram_id: str, fmt: str) -> Response:
    result = _finished(redis, diagram_id)
    if isinstance(result, JSONResponse):
        return result
    return Response(picture(redis, KIND, diagram_id, fmt, result), media_type=MEDIA_TYPES[fmt])


@router.get("/{diagram_id}.png", name="get_phase_diagram_png", response_class=Response, responses=NOT_READY)
def get_phase_diagram_png(diagram_id: str, redis: RedisDep, _: ReadAccess) -> Response:
    """Heatmap of the gain (diverging colours centred at 0) with the boundary drawn."""
    return _picture(redis, diagram_id, "png")


@router.get("/{diagram_id}.svg", name="get_phase_diagram_svg", response_class=Response, responses=NOT_READY)
def get_phase_diagram_svg(diagram_id: str, redis: RedisDep, _: ReadAccess) -> Response:
    """The same picture as SVG."""
    return _picture(redis, diagram_id, "svg")


@router.get("/{diagram_id}", name="get_phase_diagram", response_model=PhaseDiagramResult,
            responses={**NOT_READY, **NOT_MODIFIED,
                       200: {"content": {"text/csv": {}}, "description": "The diagram (JSON or CSV).",
                             "headers": RESULT_HEADERS}},
            openapi_extra=IF_NONE_MATCH)
async def get_phase_diagram(diagram_id: str, request: Request,
                            format: Literal["json", "csv"] = Query("json", description="csv: a tidy table, one row per "
                                                                                      "cell and protocol.")):
    """The grid, per-cell test errors, the gain and its boundary, and the failed cells if any. JSON is
    served as the bytes stored, with an ETag and Cache-Control (gzip-encoded when accepted)."""
    # no dependencies on this hot path: FastAPI's solving of each one costs more than the read itself
    access.read_token(request)
    if kind_of_job(diagram_id) is not KIND.kind:
        raise UnknownJob(diagram_id)
    stored = await read_result(request, diagram_id)
    if stored is None:
        return await run_in_threadpool(_not_finished, request.app.state.redis, diagram_id)
    if format == "csv":
        return Response(await run_in_threadpool(tidy_csv, json.loads(stored.body)), media_type="text/csv")
    return result_response(request, stored)
