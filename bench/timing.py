"""Best-of-n wall time: the least disturbed run of a noisy, shared machine."""

from __future__ import annotations

import time
from typing import Callable


def best_time(fn: Callable[[], object], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(first: Callable[[], object], second: Callable[[], object], repeats: int = 5) -> tuple[float, float]:
    """Best times of two functions run alternately, so that drifting load hits both alike."""
    a = b = float("inf")
    for _ in range(repeats):
        a = min(a, best_time(first, 1))
        b = min(b, best_time(second, 1))
    return a, b
