"""A tile of a phase diagram: several theory-only learning curves computed in one job.

A large theory diagram (up to 100 x 100 cells) would otherwise be one job per curve: at a fixed
alpha, one per cell. Its plan (``tlprobe_server.diagrams.plan``) packs the curves into tiles so that
the job count stays bounded whatever the axes. Each curve of a tile is an ordinary learning-curve
request: the tile stores its result under that request's own job id (``lc-...``), exactly as
``POST /v1/learning-curves`` would, so the curves are cached and shared with that endpoint, and a
curve already stored is not computed again. The tile's own result only lists them.

Not submitted over HTTP: its jobs are visible through ``/v1/jobs/{id}`` like a diagram's other parts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Strict
from .learning_curve import LearningCurveRequest

#: curves per tile: at most a whole diagram's cells (the plan packs far fewer into each)
MAX_TILE_CURVES = 10_000


class DiagramTileRequest(Strict):
    curves: list[LearningCurveRequest] = Field(min_length=1, max_length=MAX_TILE_CURVES,
                                               description="Theory-only learning curves (simulation null), computed "
                                                           "in this order.")

    @model_validator(mode="after")
    def _theory_only(self) -> "DiagramTileRequest":
        for index, curve in enumerate(self.curves):
            if curve.simulation is not None or curve.theory is None:
                raise ValueError(f"curves[{index}]: a tile holds theory-only curves (theory given, simulation null)")
        return self

    @property
    def dataset_fields(self) -> list[tuple[tuple, str]]:
        """(location, dataset id) of every dataset its curves read."""
        return [(("curves", index, *location), dataset_id) for index, curve in enumerate(self.curves)
                for location, dataset_id in curve.dataset_fields]


class TileCurve(Strict):
    job_id: str = Field(description="The curve's learning-curve id: its result is stored there.")
    computed: bool = Field(description="Computed by this tile (false: its result was stored already).")
    error: str | None = Field(description="Why the curve has no result (the other curves are still computed).")


class DiagramTileResult(Strict):
    kind: Literal["diagram_tile"] = "diagram_tile"
    curves: list[TileCurve]
    complete: bool = Field(description="Every curve has a result; false: resubmitting recomputes the missing ones.")
    meta: dict[str, Any]
