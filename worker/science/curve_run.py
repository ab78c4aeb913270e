"""The bookkeeping of one learning curve's run: progress reports, the time spent per stage, and the
artifacts it read or wrote.

``progress(stage, done, total)`` is the caller's (the worker writes it into the job's meta, the command
line prints it); the engine calls it often, the caller decides how often to act on it. ``timings``
(seconds per stage) and ``artifacts`` (label -> key and whether it was reused) end up in the result's
meta. An artifact is computed only when the store does not have it, and saved once complete, so a run
that stops half-way leaves nothing partial behind.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from .artifacts import ArtifactStore, MemoryArtifactStore

ProgressFn = Callable[[str, int, int], None]
Arrays = dict[str, np.ndarray]


def silent(stage: str, done: int, total: int) -> None:
    """A progress function that reports nothing."""
    return None


class CurveRun:
    """The artifact store, progress function, timings and artifacts of one run."""

    def __init__(self, store: ArtifactStore | None = None, progress: ProgressFn | None = None) -> None:
        self.store: ArtifactStore = store if store is not None else MemoryArtifactStore()
        self.progress: ProgressFn = progress or silent
        self.timings: dict[str, float] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the time spent in the block to ``timings[stage]``."""
        start = time.perf_counter()
        yield
        self.timings[stage] = round(self.timings.get(stage, 0.0) + time.perf_counter() - start, 4)

    def reporter(self, stage: str) -> Callable[[int, int], None]:
        """``progress`` with the stage filled in, for the engine's (done, total) callbacks."""
        return lambda done, total: self.progress(stage, done, total)

    def cached(self, label: str, key: str, compute: Callable[[], Arrays]) -> Arrays:
        """The arrays stored under ``key``, or ``compute()`` saved there; recorded as ``artifacts[label]``."""
        arrays = self.store.load(key)
        reused = arrays is not None
        if arrays is None:
            arrays = compute()
            self.store.save(key, arrays)
        self.artifacts[label] = {"key": key, "reused": reused}
        return arrays

    def meta(self) -> dict[str, Any]:
        """The run's part of a result's meta: timings and artifacts."""
        return {"timings": self.timings, "artifacts": self.artifacts}
