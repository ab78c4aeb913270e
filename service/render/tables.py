"""Tables of results: a phase diagram as tidy CSV (one row per cell and protocol; the rows are the
kind's own, ``tlprobe.kinds``, shared with the client and the command line)."""

from __future__ import annotations

from tlprobe.kinds import rows_of
from tlprobe.tidy import to_csv

__all__ = ["tidy_csv"]


def tidy_csv(result: dict) -> str:
    """The result's tidy rows as CSV (a phase diagram: one row per cell and protocol)."""
    return to_csv(*rows_of(result))
