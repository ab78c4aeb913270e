"""The optimal-lambda search against the bounded Brent search it replaced, over a wide grid, and what
each costs per point in evaluations of the fixed-point map (`python -m bench.optimal_lambda_agreement`,
a few minutes: the reference search is the slow part).

Spectra: tf, rf and linear of a default-size learning curve (D = 50, N = K = 200, M = 50000, target
feature noise 0.3, teacher noise 0.1), and four synthetic ones: isotropic features explaining 1 % of
the teacher (minimum at the upper bound or in a flat Hebbian region), decaying spectra explaining
99.9 % and 1 % (minima at the lower bound), a low-rank one. Both losses. "Cold": one alpha per search
(alpha in 0.05, 0.3, 1, 3, 10, 50), what a curve of one point does; "curve": 12 alphas from 0.05 to
50 in one curve, each search started from the previous optimum.

Prints per group: the largest excess of our optimal test error over the reference's (positive: ours
worse), the differences in log10(lambda) where the reference's minimum is inside the interval (where E
is flat, lambda is ill-determined: the features explaining 1 % of the teacher put the minimum in a
Hebbian plateau where E varies by 2e-11 over 0.15 decades), disagreements on
``regularisation_at_bound``, how often the Brent fallback ran, probes per point, and
evaluations of the map per point (Newton's, the Jacobians' and the plain iterations', each plain
iteration counted with the channel evaluation of its training loss) for ours, the reference and a
plain solve at lambda = 0.1 (cold: from the uninformed start; curve: warm-started).
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np

import bench.reference_lambda_search as reference
import worker.science.gcm.newton as newton_module
import worker.science.gcm.optimal as optimal
import worker.science.gcm.solver as solver
from bench.optimal_lambda import swapped
from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.gcm.spectrum import Spectrum
from worker.science.synthetic_source import SyntheticSource
from worker.science.theory_curve import spectrum_from_arrays

COLD_ALPHAS = (0.05, 0.3, 1.0, 3.0, 10.0, 50.0)
CURVE_ALPHAS = list(np.geomspace(0.05, 50.0, 12))


def _synthetic(omega, t, gamma: float, explained: float) -> Spectrum:
    omega, t = np.asarray(omega, float), np.asarray(t, float)
    return Spectrum.checked(omega, t * explained * gamma * len(omega) / np.sum(t / omega), 1.0, gamma)


def spectra() -> dict[str, Spectrum]:
    store = MemoryArtifactStore()
    result = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate({
        "target": {"feature_noise": 0.3, "teacher_noise": 0.1}, "alphas": [0.5], "simulation": None,
        "readout": {"regularisation": 0.1}})), store)
    found = {p: spectrum_from_arrays(store.arrays[result.meta["artifacts"][f"spectra:{p}"]["key"]], "")
             for p in ("tf", "rf", "linear")}
    decay_omega, decay_t = np.linspace(0.05, 3, 200), np.linspace(2.0, 0.1, 200)
    found.update({
        "isotropic, explains 1%": _synthetic(np.ones(100), np.ones(100), 1.0, 0.01),
        "decaying, explains 99.9%": _synthetic(decay_omega, decay_t, 0.25, 0.999),
        "decaying, explains 1%": _synthetic(decay_omega, decay_t, 0.25, 0.01),
        "low rank": _synthetic(np.r_[np.full(20, 5.0), np.full(180, 0.01)], np.r_[np.ones(20), np.zeros(180)], 0.5,
                               0.99)})
    return found


@dataclass
class Counter:
    evaluations: int = 0
    probes: int = 0
    fallbacks: int = 0

    def counting(self):
        """Patches that count map evaluations (Newton's and the plain iteration's), probes and fallbacks."""
        stack = ExitStack()
        plain, call = solver.solve, newton_module.FixedPointMap.__call__
        probe, brent = optimal.LambdaSearch.probe, optimal.LambdaSearch._brent

        def solve(*args, **kwargs):
            point = plain(*args, **kwargs)
            self.evaluations += point.iterations + 1  # and the training loss's channel evaluation
            return point

        def evaluate(fmap, x):
            self.evaluations += 1
            return call(fmap, x)

        def probing(search, *args, **kwargs):
            self.probes += 1
            return probe(search, *args, **kwargs)

        def falling_back(search, *args):
            self.fallbacks += 1
            return brent(search, *args)

        for module in (solver, optimal, reference):
            stack.enter_context(swapped(module, "solve", solve))
        stack.enter_context(swapped(newton_module.FixedPointMap, "__call__", evaluate))
        stack.enter_context(swapped(optimal.LambdaSearch, "probe", probing))
        stack.enter_context(swapped(optimal.LambdaSearch, "_brent", falling_back))
        return stack


def compare(models: dict[str, Spectrum], mode: str) -> None:
    ours_count, ref_count, fixed_count = Counter(), Counter(), Counter()
    excess, bound_mismatch, points = -math.inf, 0, 0
    gaps: list[tuple[float, str]] = []
    for name, spectrum in models.items():
        for loss in ("logistic", "square"):
            runs = [[a] for a in COLD_ALPHAS] if mode == "cold" else [CURVE_ALPHAS]
            for alphas in runs:
                with ours_count.counting():
                    ours = solver.solve_curve(spectrum, loss, "optimal", alphas)
                with ref_count.counting():
                    ref = reference.reference_solve_curve(spectrum, loss, "optimal", alphas)
                with fixed_count.counting():
                    solver.solve_curve(spectrum, loss, 0.1, alphas)
                for alpha, new, old in zip(alphas, ours, ref):
                    points += 1
                    excess = max(excess, new.test_error - old.test_error)
                    bound_mismatch += new.regularisation_at_bound != old.regularisation_at_bound
                    if not old.regularisation_at_bound:
                        gaps.append((abs(math.log10(new.regularisation / old.regularisation)),
                                     f"{name}, {loss}, alpha {alpha:.3g}"))
    gaps.sort()
    print(f"[optimal lambda agreement] {mode}, {points} points: largest excess of our test error "
          f"{excess:+.1e}; bound flags differing {bound_mismatch}; Brent fallbacks {ours_count.fallbacks}; "
          f"probes per point {ours_count.probes / points:.2f}")
    print(f"[optimal lambda agreement] {mode}, |delta log10 lambda| at interior minima: median {gaps[len(gaps) // 2][0]:.1e}, "
          f"95th percentile {gaps[int(0.95 * len(gaps))][0]:.1e}, largest {gaps[-1][0]:.1e} ({gaps[-1][1]})")
    print(f"[optimal lambda agreement] {mode}, map evaluations per point: ours {ours_count.evaluations / points:.0f}, "
          f"reference {ref_count.evaluations / points:.0f}, plain solve at lambda 0.1 {fixed_count.evaluations / points:.0f}")


def main() -> None:
    models = spectra()
    compare(models, "cold")
    compare(models, "curve")


if __name__ == "__main__":
    main()
