from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import access, phase_diagrams, queueing
from ..access import ReadAccess, WriteAccess
from ..deps import MetricsDep, RedisDep, SettingsDep
from ..kinds import KINDS, kind_of_job
from ..plots import MEDIA_TYPES, cached_picture, render_phase_diagram
from ..schemas.jobs import JobView, Submission
from ..schemas.phase_diagram import AxisName, Baseline, CataloguePage, PhaseDiagramRequest, PhaseDiagramResult
from ..schemas.common import Protocol
from .submissions import ERRORS, check_budget

router = APIRouter(prefix="/v1/phase-diagrams", tags=["phase diagrams"])
NUMBER = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"
RANGE_PATTERN = rf"^[A-Za-z_][A-Za-z0-9_.]*:({NUMBER})?:({NUMBER})?$"
KIND = KINDS["phase_diagram"]
NOT_READY = {404: {"description": "No such diagram."}, 409: {"model": JobView, "description": "Not finished (yet)."}}


@router.post("", name="submit_phase_diagram", status_code=202, response_model=Submission,
             responses={200: {"model": Submission, "description": "Already computed: the result is included."},
                        **ERRORS})
def submit_phase_diagram(body: PhaseDiagramRequest, redis: RedisDep, settings: SettingsDep, metrics: MetricsDep,
                         response: Response, token: WriteAccess) -> Submission:
    """A grid over two axes (a correlation knob against alpha, or two knobs at a fixed alpha) with each
    protocol's test error per cell, the gain of tf over the baseline, and the gain = 0 boundary.

    The work fans out over the workers: the source network once, one theory job per distinct target
    (its spectra serve every alpha), simulation chunks when asked; the diagram's id is its job id."""
    check_budget(body, settings)
    access.charge(redis, settings, token)
    submission = phase_diagrams.submit_phase_diagram(redis, settings, body)
    response.status_code = 200 if submission.cached else 202
    metrics.submissions.labels(KIND.name, "cached" if submission.cached else "queued").inc()
    return submission


@router.get("", name="list_phase_diagrams", response_model=CataloguePage)
def list_phase_diagrams(
        redis: RedisDep, _: ReadAccess,
        x_axis: AxisName | None = None, y_axis: AxisName | None = None,
        axis: AxisName | None = Query(None, description="Either axis has this name."),
        protocol: Protocol | None = Query(None, description="The diagram includes this protocol."),
        baseline: Baseline | None = None, complete: bool | None = None,
        range_: list[Annotated[str, Query(pattern=RANGE_PATTERN)]] = Query(
            [], alias="range", description="Value range of a fixed parameter, repeatable: path:min:max, e.g. "
                                           "source.input_dim:100:400 or target.teacher_noise::0.2 (empty = open)."),
        offset: int = Query(0, ge=0), limit: int = Query(20, ge=1, le=100)) -> CataloguePage:
    """The catalogue of computed phase diagrams, newest first, filtered and paginated."""
    try:
        ranges = dict(phase_diagrams.parse_range(text) for text in range_)
    except ValueError as exc:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "range"), "msg": str(exc),
                                       "input": None}]) from None
    return phase_diagrams.list_catalogue(
        redis, x_axis=x_axis and x_axis.value, y_axis=y_axis and y_axis.value, axis=axis and axis.value,
        protocol=protocol and protocol.value, baseline=baseline and baseline.value, complete=complete,
        ranges=ranges, offset=offset, limit=limit)


def _finished(redis, diagram_id: str) -> dict | JSONResponse:
    if kind_of_job(diagram_id) is not KIND:
        raise queueing.UnknownJob(diagram_id)
    result = queueing.cached_result(redis, diagram_id)
    if result is not None:
        return result
    return JSONResponse(queueing.job_view(redis, diagram_id).model_dump(mode="json"), status_code=409)


def _picture(redis, diagram_id: str, fmt: str) -> Response:
    result = _finished(redis, diagram_id)
    if isinstance(result, JSONResponse):
        return result
    return Response(cached_picture(redis, diagram_id, fmt, result, render_phase_diagram), media_type=MEDIA_TYPES[fmt])


@router.get("/{diagram_id}.png", name="get_phase_diagram_png", response_class=Response, responses=NOT_READY)
def get_phase_diagram_png(diagram_id: str, redis: RedisDep, _: ReadAccess) -> Response:
    """Heatmap of the gain (diverging colours centred at 0) with the boundary drawn."""
    return _picture(redis, diagram_id, "png")


@router.get("/{diagram_id}.svg", name="get_phase_diagram_svg", response_class=Response, responses=NOT_READY)
def get_phase_diagram_svg(diagram_id: str, redis: RedisDep, _: ReadAccess) -> Response:
    """The same picture as SVG."""
    return _picture(redis, diagram_id, "svg")


CSV_COLUMNS = ["x_name", "x", "y_name", "y", "protocol", "theory_test_error", "simulation_test_error_mean",
               "simulation_test_error_sem", "gain", "failed"]


def tidy_csv(result: dict) -> str:
    """One row per cell and protocol."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    failed = {(f["x_index"], f["y_index"]) for f in result["failures"]}
    theory, sim, sem = result["theory"] or {}, result["simulation"] or {}, result["test_error_sem"] or {}
    for yi, y in enumerate(result["y_axis"]["values"]):
        for xi, x in enumerate(result["x_axis"]["values"]):
            for protocol in result["protocols"]:
                values = [grids[protocol][yi][xi] if protocol in grids else None for grids in (theory, sim, sem)]
                writer.writerow([result["x_axis"]["name"], x, result["y_axis"]["name"], y, protocol,
                                 *map(_cell, values), _cell(result["gain"][yi][xi]), (xi, yi) in failed])
    return out.getvalue()


def _cell(value) -> str:
    return "" if value is None else repr(float(value))


@router.get("/{diagram_id}", name="get_phase_diagram", response_model=PhaseDiagramResult,
            responses={**NOT_READY, 200: {"content": {"text/csv": {}}, "description": "The diagram (JSON or CSV)."}})
def get_phase_diagram(diagram_id: str, redis: RedisDep, _: ReadAccess,
                      format: Literal["json", "csv"] = Query("json", description="csv: a tidy table, one row per cell "
                                                                                "and protocol.")):
    """The grid, per-cell test errors, the gain and its boundary, and the failed cells if any."""
    result = _finished(redis, diagram_id)
    if isinstance(result, JSONResponse):
        return result
    if format == "csv":
        return Response(tidy_csv(result), media_type="text/csv")
    return JSONResponse(result)
