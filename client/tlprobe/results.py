"""Results as the client returns them: the contract's result model of each kind (every field, typed)
with two tidy views, made from the kind registry (``tlprobe.kinds``):

- ``rows()``: a list of flat dicts with the same keys in every row (``csv.DictWriter``-ready);
- ``to_pandas()``: the same rows as a ``pandas.DataFrame`` (pandas is optional: ``pip install
  'tlprobe[pandas]'``).

One class per kind, named by the kind: ``LearningCurve`` (one row per protocol, alpha and method),
``PhaseDiagram`` (per cell and protocol, the service's CSV), ``GCMCurve`` (per sample complexity),
``SourceNetwork`` (one row), ``DiagramTile`` (one row per curve).
"""

from __future__ import annotations

from typing import Any, ClassVar, Union

from .kinds import KINDS, Kind, kind_of_result
from .tidy import Row

PANDAS_MISSING = ("to_pandas() needs pandas, which the tlprobe client does not install by itself: "
                  "pip install 'tlprobe[pandas]' (or pip install pandas)")


class Tidy:
    """The tidy views of a typed result (mixed into the kind's result model)."""

    KIND: ClassVar[Kind]
    COLUMNS: ClassVar[list[str]] = []

    def rows(self) -> list[Row]:
        """Tidy rows: the same keys (``COLUMNS``) in every row; null where a value does not apply."""
        return self.KIND.rows(self.model_dump(mode="json"))  # type: ignore[attr-defined]

    def to_pandas(self) -> Any:
        """The tidy rows as a ``pandas.DataFrame`` (columns in ``COLUMNS`` order)."""
        try:
            import pandas
        except ImportError:
            raise ImportError(PANDAS_MISSING) from None
        return pandas.DataFrame(self.rows(), columns=self.COLUMNS)


def _typed(kind: Kind) -> type:
    doc = f"A {kind.name.replace('_', ' ')} result ({kind.help}); ``rows()`` and ``to_pandas()`` give its tidy rows."
    return type(kind.typed_result, (Tidy, kind.result),
                {"__module__": __name__, "__qualname__": kind.typed_result, "__doc__": doc, "KIND": kind,
                 "COLUMNS": list(kind.columns), "__annotations__": {"KIND": ClassVar[Kind], "COLUMNS": ClassVar[list[str]]}})


RESULT_TYPES: dict[str, type] = {name: _typed(kind) for name, kind in KINDS.items()}
globals().update({cls.__name__: cls for cls in RESULT_TYPES.values()})  # LearningCurve, PhaseDiagram, ...
Result = Union[tuple(RESULT_TYPES.values())]


def as_result(data: dict[str, Any]) -> Any:
    """The typed result for a result's JSON (its ``kind`` decides the type)."""
    return RESULT_TYPES[kind_of_result(data).name].model_validate(data)


__all__ = ["RESULT_TYPES", "Result", "Tidy", "as_result", *(cls.__name__ for cls in RESULT_TYPES.values())]
