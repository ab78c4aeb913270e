"""What the command line shows a person while it waits: a one-line job status and a live progress bar
(on a terminal only). Tables and result summaries are ``tlprobe.text_tables`` and ``tlprobe.summaries``."""

from __future__ import annotations

import shutil
import time
from typing import IO

from .contract.batches import BatchView
from .contract.jobs import JobStatus, JobView

CLEAR = "\x1b[K"  # erase to the end of the line


def job_line(view: JobView) -> str:
    parts = [view.job_id, view.status.value]
    if view.progress and not view.status.ended:
        parts.append(f"{view.progress.stage} {view.progress.done}/{view.progress.total}")
    if view.error:
        parts.append(f"({view.error})")
    return "  ".join(parts)


class Bar:
    """One line redrawn in place on a terminal: label, status, stage, a bar, done/total, elapsed."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream, self.label, self.started = stream, label, time.monotonic()
        self.drawn = False

    def _draw(self, status: str, stage: str, done: int | None, total: int | None) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        elapsed = f"{time.monotonic() - self.started:.0f}s"
        head = f"{self.label}  {status}" + (f"  {stage}" if stage else "")
        if done is not None and total:
            count = f"{done}/{total} {100 * done // total:3d}%"
            width = max(10, min(40, columns - len(head) - len(count) - len(elapsed) - 8))
            filled = width * done // total
            line = f"{head}  [{'#' * filled}{'.' * (width - filled)}] {count}  {elapsed}"
        else:
            line = f"{head}  {elapsed}"
        self.stream.write("\r" + line[: columns - 1] + CLEAR)
        self.stream.flush()
        self.drawn = True

    def job(self, view: JobView) -> None:
        progress = view.progress
        if progress is None:
            self._draw(view.status.value, "waiting for a worker" if view.status is JobStatus.queued else "", None, None)
        else:
            self._draw(view.status.value, progress.stage, progress.done, progress.total)

    def batch(self, view: BatchView) -> None:
        counts = {status: n for status, n in view.counts.items() if n}
        ended = sum(n for status, n in counts.items() if status.ended)
        stage = " ".join(f"{n} {status.value}" for status, n in counts.items())
        self._draw("jobs", stage, ended, len(view.jobs))

    def close(self) -> None:
        """Leave the last state on screen and move to the next line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
