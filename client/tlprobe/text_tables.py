"""Plain-text tables for a person at a terminal: numbers formatted to a fixed number of digits, columns
aligned (text to the left, numbers to the right). Used by the result summaries and the command line."""

from __future__ import annotations

from typing import Any


def number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.2e}"
    return str(value)


def table(rows: list[list[Any]], header: list[str]) -> str:
    """Columns aligned: text to the left, numbers to the right."""
    cells = [[number(value) for value in row] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(header, *cells)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) and bool(rows)
               for i in range(len(header))]

    def line(texts: list[str]) -> str:
        return "  ".join(t.rjust(w) if n else t.ljust(w) for t, w, n in zip(texts, widths, numeric)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, cells)])
