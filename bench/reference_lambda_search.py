"""The optimal-lambda search as it was before issue 18, kept verbatim as the reference of the tests
and the benchmark (not a live code path): a bounded Brent search on log10(lambda) over
REGULARISATION_SEARCH with xatol 1e-3, every solve being the engine's plain damped iteration
warm-started from the previous solve, and the curve solved in increasing alpha.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from tlprobe.contract.common import SolverParams, is_optimal
from worker.science.gcm.channels import make_channel
from worker.science.gcm.solver import OPTIMAL_LAMBDA_BOUNDS, GCMPoint, Overlaps, solve
from worker.science.gcm.spectrum import Spectrum

OPTIMAL_LAMBDA_XATOL = 1e-3


def reference_solve_curve(spectrum: Spectrum, loss: str, regularisation: float | str, alphas: Sequence[float],
                          settings: SolverParams = SolverParams()) -> list[GCMPoint]:
    channel = make_channel(loss, settings.quadrature_nodes_per_panel)
    points: dict[int, GCMPoint] = {}
    start: Overlaps | None = None
    lam_guess: float | None = None
    for index in np.argsort(alphas, kind="stable"):
        alpha = float(alphas[index])
        if is_optimal(regularisation):
            point = reference_solve_optimal(spectrum, loss, alpha, settings, start=start, channel=channel,
                                            guess=lam_guess)
            lam_guess = point.regularisation
        else:
            point = solve(spectrum, loss, float(regularisation), alpha, settings, start=start, channel=channel)
        if point.converged:
            start = point.overlaps
        points[int(index)] = point
    return [points[i] for i in range(len(alphas))]


def reference_solve_optimal(spectrum: Spectrum, loss: str, alpha: float, settings: SolverParams = SolverParams(),
                            start: Overlaps | None = None, channel=None, guess: float | None = None) -> GCMPoint:
    channel = channel or make_channel(loss, settings.quadrature_nodes_per_panel)
    low, high = (math.log10(b) for b in OPTIMAL_LAMBDA_BOUNDS)
    solved: dict[float, GCMPoint] = {}
    warm = [start]

    def objective(log_lam: float) -> float:
        point = solve(spectrum, loss, 10.0**log_lam, alpha, settings, start=warm[0], channel=channel)
        solved[log_lam] = point
        if not point.converged:
            return 1.0  # worse than any test error: steer the search away
        warm[0] = point.overlaps
        return point.test_error

    result = minimize_scalar(objective, bounds=(low, high), method="bounded",
                             options={"xatol": OPTIMAL_LAMBDA_XATOL})
    best_log = min(solved, key=lambda x: (0 if solved[x].converged else 1, solved[x].test_error
                                          if solved[x].converged else 0.0))
    best = solved.get(float(result.x), solved[best_log])
    if best.converged and solved[best_log].converged and solved[best_log].test_error < best.test_error:
        best = solved[best_log]
    at_bound = min(abs(math.log10(best.regularisation) - low), abs(math.log10(best.regularisation) - high)) \
        < 10 * OPTIMAL_LAMBDA_XATOL
    return GCMPoint(**{**best.__dict__, "regularisation_at_bound": at_bound})
