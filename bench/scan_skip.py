"""The optimal-lambda search's rule for skipping scan points (``gcm/optimal.py``: a point whose error,
moved from its last probe along its slope in log(alpha), stays above the local optimum by more than
GRID_MARGIN times that move) against probing every scan point at every alpha, in one run
(`python -m bench.scan_skip [--margin 2 --staleness 0.5]`, a few minutes: most of it the spectra; the
options measure other settings of the rule).

Curves: every row of the findings' four tf-vs-rf diagrams (feature noise, teacher noise, feature
substitution 0 to 1, latent change -45 to 150; ten alphas 0.1 to 4) and of a 20 x 20 feature-noise
diagram (``bench.large_diagram``, twenty alphas 0.1 to 4), tf and rf, logistic loss; and the spectra of
``bench.optimal_lambda_agreement`` along its 12-alpha curve (0.05 to 50), both losses.

Prints: (1) the rule's safety: every probe it skips made aside, the predicted gap (the point's moved
error above the local optimum's) over the prediction's actual error, which must stay above 1 (at 1 the
skip would have hidden a lower point), and the smallest actual gap; (2) the rule against probing every
point: the largest difference in test error, points differing by more than OPTIMAL_ERROR_TOLERANCE,
probes and map evaluations per point, Brent fallbacks, and CPU time of the two.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import worker.science.gcm.optimal as optimal
import worker.science.gcm.solver as solver
from bench.large_diagram import alphas as diagram_alphas
from bench.optimal_lambda import swapped
from bench.optimal_lambda_agreement import CURVE_ALPHAS, Counter
from bench.optimal_lambda_agreement import spectra as agreement_spectra
from examples.findings import DIAGRAM_ALPHAS, KNOB_VALUES
from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.gcm.spectrum import Spectrum
from worker.science.synthetic_source import SyntheticSource
from worker.science.theory_curve import spectrum_from_arrays

Case = tuple[Spectrum, list[str], list[float]]  # a spectrum, its losses, its alphas


def cases() -> dict[str, Case]:
    store = MemoryArtifactStore()
    targets = [(f"{knob} {value}", {knob: value}, DIAGRAM_ALPHAS) for knob, values in KNOB_VALUES.items()
               for value in values]
    targets += [(f"20 x 20, feature_noise {i / 20}", {"feature_noise": i / 20}, diagram_alphas(20)) for i in range(20)]
    found: dict[str, Case] = {}
    for name, target, alphas in targets:
        result = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate({
            "target": target, "alphas": [0.5], "protocols": ["tf", "rf"], "simulation": None,
            "readout": {"regularisation": 0.1}})), store)
        for protocol in ("tf", "rf"):
            arrays = store.arrays[result.meta["artifacts"][f"spectra:{protocol}"]["key"]]
            found[f"{name}, {protocol}"] = (spectrum_from_arrays(arrays, ""), ["logistic"], list(alphas))
    for name, spectrum in agreement_spectra().items():
        found[f"agreement: {name}"] = (spectrum, ["logistic", "square"], list(CURVE_ALPHAS))
    return found


def premise(found: dict[str, Case]) -> None:
    """The rule as it runs, but every point it skips also probed on the side (its result not kept): how far
    the move's prediction was off, against the predicted gap that made the rule skip."""
    safety: list[float] = []
    gaps: list[float] = []

    current: list = []  # the search and alpha being compared with the grid
    against_grid, clearly_above = optimal.LambdaSearch._against_grid, optimal._clearly_above

    def comparing(search, alpha, best):
        current[:] = [search, alpha]
        return against_grid(search, alpha, best)

    def measured(last, best):
        skipped = clearly_above(last, best)
        if skipped:
            search, alpha = current
            aside = search.probe(alpha, last.s, last, exact_slope=False)
            if aside is not None:
                predicted = last.error + last.alpha_slope * (best.log_alpha - last.log_alpha)
                safety.append((predicted - best.error) / max(abs(aside.error - predicted), 1e-300))
                gaps.append(aside.error - best.error)
        return skipped

    with swapped(optimal.LambdaSearch, "_against_grid", comparing), swapped(optimal, "_clearly_above", measured):
        for spectrum, losses, alphas in found.values():
            for loss in losses:
                solver.solve_curve(spectrum, loss, "optimal", alphas)
    q = np.quantile(safety, [0.001, 0.01, 0.5])
    print(f"[scan skip] {len(safety)} skipped probes (GRID_MARGIN {optimal.GRID_MARGIN:g}, GRID_STALENESS "
          f"{optimal.GRID_STALENESS:g}), each made aside: predicted gap / the prediction's error: smallest "
          f"{min(safety):.2f}, 0.1% {q[0]:.2f}, 1% {q[1]:.2f}, median {q[2]:.0f}; smallest actual gap {min(gaps):.1e}")


def compare(found: dict[str, Case]) -> None:
    every, rule = Counter(), Counter()
    seconds = {"every": 0.0, "rule": 0.0}
    differences: list[tuple[float, str]] = []
    for name, (spectrum, losses, alphas) in found.items():
        for loss in losses:
            start = time.process_time()
            with swapped(optimal, "GRID_MARGIN", math.inf), every.counting():
                reference = solver.solve_curve(spectrum, loss, "optimal", alphas)
            seconds["every"] += time.process_time() - start
            start = time.process_time()
            with rule.counting():
                ours = solver.solve_curve(spectrum, loss, "optimal", alphas)
            seconds["rule"] += time.process_time() - start
            differences += [(new.test_error - old.test_error, f"{name}, {loss}, alpha {alpha:.3g}")
                            for alpha, new, old in zip(alphas, ours, reference)]
    points = len(differences)
    largest = max(differences, key=lambda d: abs(d[0]))
    beyond = sum(abs(d) > optimal.OPTIMAL_ERROR_TOLERANCE for d, _ in differences)
    print(f"[scan skip] {points} points, {len(found)} spectra: largest test-error difference rule - every point "
          f"{largest[0]:+.1e} ({largest[1]}); beyond {optimal.OPTIMAL_ERROR_TOLERANCE:g}: {beyond}")
    print(f"[scan skip] per point: probes {rule.probes / points:.2f} (every point {every.probes / points:.2f}), "
          f"map evaluations {rule.evaluations / points:.1f} ({every.evaluations / points:.1f}); Brent fallbacks "
          f"{rule.fallbacks} ({every.fallbacks}); CPU {seconds['rule']:.1f} s ({seconds['every']:.1f} s), ratio "
          f"{seconds['rule'] / seconds['every']:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--margin", type=float, default=optimal.GRID_MARGIN, help="GRID_MARGIN to measure")
    parser.add_argument("--staleness", type=float, default=optimal.GRID_STALENESS, help="GRID_STALENESS to measure")
    args = parser.parse_args(argv)
    optimal.GRID_MARGIN, optimal.GRID_STALENESS = args.margin, args.staleness
    found = cases()
    premise(found)
    compare(found)


if __name__ == "__main__":
    main()
