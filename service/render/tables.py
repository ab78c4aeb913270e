"""Tables of results: a phase diagram as tidy CSV (one row per cell and protocol; the rows are
``tlprobe.tidy``'s, shared with the client and the command line)."""

from __future__ import annotations

from tlprobe.tidy import PHASE_DIAGRAM_COLUMNS as CSV_COLUMNS
from tlprobe.tidy import phase_diagram_rows, to_csv

__all__ = ["CSV_COLUMNS", "tidy_csv"]


def tidy_csv(result: dict) -> str:
    """One row per cell and protocol."""
    return to_csv(phase_diagram_rows(result), CSV_COLUMNS)
