"""Best-of-n timing on a noisy, shared machine.

Two clocks: wall time (``time.perf_counter``, what a user waits for) and the process's CPU time
(``time.process_time``), which does not count the time the scheduler gives to other processes. With
one BLAS thread the CPU time is the work done, so it is the steadier measure on an oversubscribed
machine; with several threads it also counts the threads' spin-waiting, so use wall time there.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def best_time(fn: Callable[[], object], repeats: int = 5, clock: Callable[[], float] = time.perf_counter) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def interleaved(first: Callable[[], object], second: Callable[[], object], repeats: int = 5,
                clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """Best times of two functions run alternately, so that drifting load hits both alike."""
    a, b, _ = interleaved_pairs(first, second, repeats, clock)
    return a, b


def interleaved_pairs(first: Callable[[], object], second: Callable[[], object], repeats: int = 5,
                      clock: Callable[[], float] = time.perf_counter) -> tuple[float, float, float]:
    """Best times of two functions run alternately, and the median over the repeats of the ratio
    first / second of each adjacent pair (less sensitive to one lucky run than the ratio of bests)."""
    pairs = [(best_time(first, 1, clock), best_time(second, 1, clock)) for _ in range(repeats)]
    return (min(p[0] for p in pairs), min(p[1] for p in pairs),
            statistics.median(p[0] / p[1] for p in pairs))
