"""Results as the client returns them: the contract's result models (every field, typed) with a
tidy-rows view (``rows()``: a list of flat dicts, ready for ``pandas.DataFrame(result.rows())`` or
``csv.DictWriter``)."""

from __future__ import annotations

from typing import Any, ClassVar

from .contract.gcm import GCMResult
from .contract.learning_curve import LearningCurveResult
from .contract.phase_diagram import PhaseDiagramResult, SourceNetworkResult
from .tidy import GCM_COLUMNS, LEARNING_CURVE_COLUMNS, PHASE_DIAGRAM_COLUMNS, SOURCE_NETWORK_COLUMNS, Row, rows_of


class _Rows:
    COLUMNS: ClassVar[list[str]] = []

    def rows(self) -> list[Row]:
        """Tidy rows: the same keys (``COLUMNS``) in every row; null where a value does not apply."""
        return rows_of(self.model_dump(mode="json"))[0]  # type: ignore[attr-defined]


class LearningCurve(_Rows, LearningCurveResult):
    """A learning curve; ``rows()``: one row per protocol, alpha and method (theory or simulation)."""

    COLUMNS: ClassVar[list[str]] = LEARNING_CURVE_COLUMNS


class PhaseDiagram(_Rows, PhaseDiagramResult):
    """A phase diagram; ``rows()``: one row per cell and protocol (the service's CSV)."""

    COLUMNS: ClassVar[list[str]] = PHASE_DIAGRAM_COLUMNS


class GCMCurve(_Rows, GCMResult):
    """A GCM result; ``rows()``: one row per sample complexity."""

    COLUMNS: ClassVar[list[str]] = GCM_COLUMNS


class SourceNetwork(_Rows, SourceNetworkResult):
    """A phase diagram's source network (a part); ``rows()``: one row."""

    COLUMNS: ClassVar[list[str]] = SOURCE_NETWORK_COLUMNS


RESULT_TYPES: dict[str, type[_Rows]] = {"learning_curve": LearningCurve, "phase_diagram": PhaseDiagram,
                                        "gcm": GCMCurve, "source_network": SourceNetwork}
Result = LearningCurve | PhaseDiagram | GCMCurve | SourceNetwork


def as_result(data: dict[str, Any]) -> Result:
    """The typed result for a result's JSON (its ``kind`` decides the type)."""
    return RESULT_TYPES[data["kind"]].model_validate(data)  # type: ignore[attr-defined,return-value]
