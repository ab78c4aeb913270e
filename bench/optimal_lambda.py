"""What the optimal-lambda mode costs against a fixed lambda, for the same theory work, before and
after issue 18, in one run (`python -m bench.optimal_lambda`).

The work is the theory of one row of a tf-vs-rf phase diagram: a 20-alpha logistic learning curve at
the default sizes (D = 50, N = K = 200, M = 50000), tf and rf, each on its full spectrum and on the
spectra of the two halves of the Monte Carlo samples (the error bars), at lambda = 0.1 or "optimal".
Two measurements, each variant's CPU time with one BLAS thread, best of the repeats (run in turns),
and its ratio to the fixed lambda as the median over the rounds of the ratio within a round:

1. the solver alone on precomputed spectra: what the engine's theory stage calls;
2. end to end, ``curve_orchestrator.run_learning_curve`` with theory only (simulation null), source
   network and spectra cached in a MemoryArtifactStore.

Variants: "before" is the bounded Brent search (``bench.reference_lambda_search``) with the halves
re-solved cold per alpha at the chosen lambdas, as the engine did up to science version 3; "after" is
the search of ``gcm/optimal.py`` (local steps on the slope, with the coarse scan at the first alpha
and the comparison with the scan's eight points at every alpha) with the halves solved by ``solver.solve_nearby``
from the full curve's points, as the engine's theory stage does now (``theory_curve._solve_half``).
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from statistics import median
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import worker.science.theory_curve as engine
from bench.reference_lambda_search import reference_solve_curve
from tlprobe.contract.common import is_optimal
from tlprobe.contract.learning_curve import LearningCurveRequest, TheoryParams
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.gcm.solver import solve_curve, solve_nearby
from worker.science.gcm.spectrum import Spectrum
from worker.science.synthetic_source import SyntheticSource

ALPHAS = [round(float(a), 4) for a in np.geomspace(0.1, 4.0, 20)]
FIXED = 0.1
SETTINGS = TheoryParams().solver


def request(regularisation: float | str) -> SyntheticSource:
    return SyntheticSource(LearningCurveRequest.model_validate({
        "alphas": ALPHAS, "protocols": ["tf", "rf"], "simulation": None, "readout": {"regularisation": regularisation}}))


def cached_spectra() -> tuple[MemoryArtifactStore, list[dict[str, Spectrum]]]:
    """A store holding the source network and both protocols' spectra, and those spectra."""
    store = MemoryArtifactStore()
    run_learning_curve(request(FIXED), store)
    spectra = [{label or "full": engine.spectrum_from_arrays(arrays, label) for label in ("", "_a", "_b")}
               for key, arrays in store.arrays.items() if key.startswith("spectra:")]
    return store, spectra


def _alphas_p(spectrum: Spectrum) -> list[float]:
    return [a * 200 / spectrum.p for a in ALPHAS]


def _cold_halves(halves: list[Spectrum], points) -> None:
    lambdas = [p.regularisation for p in points]
    for half in halves:  # the engine's _solve_at with a lambda per alpha
        for lam, alpha in zip(lambdas, _alphas_p(half)):
            solve_curve(half, "logistic", lam, [alpha], SETTINGS)


def solver_variants(spectra: list[dict[str, Spectrum]]) -> dict[str, Callable[[], object]]:
    def fixed() -> None:
        for s in spectra:
            for spectrum in s.values():
                solve_curve(spectrum, "logistic", FIXED, _alphas_p(spectrum), SETTINGS)

    def before() -> None:
        for s in spectra:
            points = reference_solve_curve(s["full"], "logistic", "optimal", _alphas_p(s["full"]), SETTINGS)
            _cold_halves([s["_a"], s["_b"]], points)

    def after() -> None:
        for s in spectra:
            points = solve_curve(s["full"], "logistic", "optimal", _alphas_p(s["full"]), SETTINGS)
            for half in (s["_a"], s["_b"]):
                solve_nearby(half, "logistic", points, SETTINGS)

    return {"fixed lambda": fixed, "optimal, before": before, "optimal, after": after}


@contextmanager
def swapped(module, name: str, value):
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def engine_variants(store: MemoryArtifactStore) -> dict[str, Callable[[], object]]:
    def run(regularisation):
        return lambda: run_learning_curve(request(regularisation), store)

    def before():
        def old_search(spectrum, loss, regularisation, alphas, settings, label_noise=0.0):
            assert label_noise == 0.0  # the reference search predates label noise; the bench has none
            return (reference_solve_curve if is_optimal(regularisation) else solve_curve)(
                spectrum, loss, regularisation, alphas, settings)

        def cold_halves(spectrum, loss, points, alphas_p, optimal, theory, label_noise):  # one solve per alpha
            return [solve_curve(spectrum, loss, p.regularisation, [alpha], theory.solver, label_noise)[0]
                    for p, alpha in zip(points, alphas_p)]

        with swapped(engine, "solve_curve", old_search), swapped(engine, "_solve_half", cold_halves):
            return run_learning_curve(request("optimal"), store)

    return {"fixed lambda": run(FIXED), "optimal, before": before, "optimal, after": run("optimal")}


def measure(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Per variant: the best CPU time over the rounds, and the median over the rounds of its ratio to
    the first variant's time in the same round."""
    rounds: list[dict[str, float]] = []
    for _ in range(repeats):
        times = {}
        for name, fn in variants.items():
            start = time.process_time()
            fn()
            times[name] = time.process_time() - start
        rounds.append(times)
    first = next(iter(variants))
    return {name: (min(r[name] for r in rounds), median(r[name] / r[first] for r in rounds)) for name in variants}


def report(title: str, results: dict[str, tuple[float, float]]) -> None:
    print(f"[optimal lambda] {title}:")
    for name, (seconds, ratio) in results.items():
        print(f"    {name:34s} {seconds:7.3f} s CPU   {ratio:5.2f}x fixed")


def main_with(repeats: int = 3) -> None:
    with threadpool_limits(limits=1):
        store, spectra = cached_spectra()
        report(f"solver, 20-alpha tf+rf curve on precomputed spectra (full + 2 halves), best of {repeats}",
               measure(solver_variants(spectra), repeats))
        report(f"end to end, run_learning_curve theory only, network and spectra cached, best of {repeats}",
               measure(engine_variants(store), repeats))
    print("[optimal lambda] goal: optimal <= 1.5x fixed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    main_with(parser.parse_args().repeats)


if __name__ == "__main__":
    main()
