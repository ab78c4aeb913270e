"""Damped fixed-point iteration of the GCM saddle-point equations (MODEL.md section 4).

One step: channel integrals at (V, q, m) -> hat overlaps -> l2 prior -> new (V, q, m), mixed into
the old ones with ``damping`` (1 = plain iteration, which converges fastest where it converges; the
damping is halved each time the relative change grows by more than half, down to 1/64). The
iteration stops when the largest relative change of V, q, m is below ``tolerance`` (converged),
when a value turns NaN/inf/zero or an arithmetic step divides by zero or overflows (non_finite),
when V* = rho - m^2/q <= 0 (negative_teacher_variance) or after ``max_iterations``; a model that
gives the iteration no valid start (V or q of the start zero or not finite: Omega = 0, or rho so
small that 0.01 rho underflows) is ``degenerate`` without iterating. Every point says which, with
the number of iterations and the last relative change (``residual``): no input ends in an exception.

``alpha`` here is always the solver's sample complexity n / p; converting from the user's n / N
is the caller's job. Learning curves are solved in increasing alpha, each warm-started from the
previous converged point. The optimal-lambda mode minimises the test error over log10(lambda) with
a bounded Brent search, warm-starting each solve from the previous one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from tlprobe.contract.common import REGULARISATION_SEARCH, SolverParams, is_optimal

from .channels import HatOverlaps, NegativeTeacherVariance, hat_overlaps, make_channel
from .newton import FixedPointMap, newton
from .prior import prior_overlaps
from .spectrum import Spectrum

#: search interval of the optimal-lambda mode (the contract's), and its resolution in log10(lambda)
OPTIMAL_LAMBDA_BOUNDS = REGULARISATION_SEARCH
OPTIMAL_LAMBDA_XATOL = 1e-3
#: the damping is halved (down to this) whenever the relative change grows by more than 1.5x
MIN_DAMPING = 1.0 / 64


class SolverStatus(str, Enum):
    CONVERGED = "converged"
    MAX_ITERATIONS = "max_iterations"
    NON_FINITE = "non_finite"
    NEGATIVE_TEACHER_VARIANCE = "negative_teacher_variance"
    DEGENERATE = "degenerate"


def _valid(overlaps: "Overlaps") -> bool:
    """Overlaps the channel and the prior can start from: finite, V > 0, q > 0."""
    return all(math.isfinite(x) for x in (overlaps.v, overlaps.q, overlaps.m)) and overlaps.v > 0 and overlaps.q > 0


@dataclass(frozen=True)
class Overlaps:
    v: float
    q: float
    m: float


@dataclass(frozen=True)
class GCMPoint:
    sample_complexity: float  # alpha = n / p
    regularisation: float  # lambda
    overlaps: Overlaps
    hat: HatOverlaps | None
    test_error: float  # NaN when the iteration broke down
    train_loss: float
    status: SolverStatus
    iterations: int
    residual: float
    regularisation_at_bound: bool = False  # optimal mode: the minimum sits at the search bound

    @property
    def converged(self) -> bool:
        return self.status is SolverStatus.CONVERGED


def generalisation_error(overlaps: Overlaps, rho: float) -> float:
    """arccos(m / sqrt(rho q)) / pi: probability that sign(student) != sign(teacher). ArithmeticError
    where sqrt(rho q) is not a positive finite number (rho q underflowing to 0, or overflowing)."""
    scale = math.sqrt(float(rho) * float(overlaps.q))
    if not (scale > 0.0 and math.isfinite(scale)):
        raise ArithmeticError(f"rho q = {float(rho) * float(overlaps.q)!r}: no cosine")
    cosine = float(overlaps.m) / scale
    return math.acos(max(-1.0, min(1.0, cosine))) / math.pi


def uninformed_start(spectrum: Spectrum, regularisation: float) -> Overlaps:
    """V from the prior at zero hat overlaps (capped at 1e3), small q and m with m^2/q = rho / 100."""
    mean_omega = float(np.mean(spectrum.omega))
    v = min(mean_omega / regularisation, 1e3) if regularisation > 0 else 1e3
    q = 0.01 * spectrum.rho
    return Overlaps(v=v, q=q, m=0.01 * spectrum.rho)


def solve(spectrum: Spectrum, loss: str, regularisation: float, alpha: float,
          settings: SolverParams = SolverParams(), start: Overlaps | None = None, channel=None) -> GCMPoint:
    channel = channel or make_channel(loss, settings.quadrature_nodes_per_panel)
    current = start or uninformed_start(spectrum, regularisation)
    rho, gamma = spectrum.rho, spectrum.gamma
    status, residual, hat, iterations = SolverStatus.MAX_ITERATIONS, math.inf, None, 0
    damping = settings.damping
    previous_residual = math.inf
    if not _valid(current):
        return GCMPoint(alpha, regularisation, current, None, math.nan, math.nan, SolverStatus.DEGENERATE, 0, residual)
    for iterations in range(1, settings.max_iterations + 1):  # noqa: B007 (the count is reported after the loop)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # judged just below
                integrals = channel.integrals(current.v, current.q, current.m, rho)
                hat = hat_overlaps(integrals, current.v, alpha, gamma)
                new = Overlaps(*prior_overlaps(spectrum, regularisation, hat.v_hat, hat.q_hat, hat.m_hat))
        except NegativeTeacherVariance:
            status = SolverStatus.NEGATIVE_TEACHER_VARIANCE
            break
        except ArithmeticError:  # a division by zero or an overflow in Python floats: as NaN would be
            status = SolverStatus.NON_FINITE
            break
        if not _valid(new):
            status = SolverStatus.NON_FINITE
            break
        residual = max(abs(new.v - current.v) / current.v, abs(new.q - current.q) / current.q,
                       abs(new.m - current.m) / max(abs(current.m), 1e-300))
        if residual > 1.5 * previous_residual:  # moving away: oscillation or overshoot
            damping = max(0.5 * damping, MIN_DAMPING)
        previous_residual = residual
        mixed = Overlaps(v=damping * new.v + (1 - damping) * current.v,
                         q=damping * new.q + (1 - damping) * current.q,
                         m=damping * new.m + (1 - damping) * current.m)
        if not _valid(mixed):
            status = SolverStatus.NON_FINITE
            break
        current = mixed
        if residual < settings.tolerance:
            status = SolverStatus.CONVERGED
            break
    if status in (SolverStatus.NON_FINITE, SolverStatus.NEGATIVE_TEACHER_VARIANCE):
        return GCMPoint(alpha, regularisation, current, hat, math.nan, math.nan, status, iterations, residual)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train_loss = channel.integrals(current.v, current.q, current.m, rho).train_loss
        test_error = generalisation_error(current, rho)
    except NegativeTeacherVariance:
        return GCMPoint(alpha, regularisation, current, hat, math.nan, math.nan,
                        SolverStatus.NEGATIVE_TEACHER_VARIANCE, iterations, residual)
    except ArithmeticError:
        return GCMPoint(alpha, regularisation, current, hat, math.nan, math.nan, SolverStatus.NON_FINITE, iterations,
                        residual)
    return GCMPoint(alpha, regularisation, current, hat, test_error, train_loss, status, iterations, residual)


def solve_curve(spectrum: Spectrum, loss: str, regularisation: float | str, alphas: Sequence[float],
                settings: SolverParams = SolverParams(), label_noise: float = 0.0) -> list[GCMPoint]:
    """One point per alpha (in the given order), solved in increasing alpha with warm starts.

    ``regularisation`` is a lambda >= 0, or "optimal" for the test-error-minimising lambda per alpha
    (``optimal.LambdaSearch``: each alpha's search starts from the previous alpha's optimum).
    ``label_noise``: the flip probability of the training labels (``channels``); a point's
    ``test_error`` is still the error against the clean labels (the optimal lambda is the same for
    both: the noisy error is increasing in the clean one).
    """
    from .optimal import LambdaSearch  # it solves through this module: imported when first needed

    channel = make_channel(loss, settings.quadrature_nodes_per_panel, label_noise)
    search = LambdaSearch(spectrum, loss, settings, channel) if is_optimal(regularisation) else None
    points: dict[int, GCMPoint] = {}
    start: Overlaps | None = None
    for index in np.argsort(alphas, kind="stable"):
        alpha = float(alphas[index])
        if search is not None:
            point = search.point(alpha)
        else:
            point = solve(spectrum, loss, float(regularisation), alpha, settings, start=start, channel=channel)
        if point.converged:
            start = point.overlaps
        points[int(index)] = point
    return [points[i] for i in range(len(alphas))]


def solve_optimal(spectrum: Spectrum, loss: str, alpha: float, settings: SolverParams = SolverParams(),
                  start: Overlaps | None = None, channel=None) -> GCMPoint:
    """The point at the lambda in OPTIMAL_LAMBDA_BOUNDS that minimises the theoretical test error, the
    search started without a previous alpha (the plain iteration from ``start``)."""
    from .optimal import LambdaSearch

    return LambdaSearch(spectrum, loss, settings, channel, start=start).point(alpha)


def solve_nearby(spectrum: Spectrum, loss: str, points: Sequence[GCMPoint],
                 settings: SolverParams = SolverParams(), label_noise: float = 0.0) -> list[GCMPoint]:
    """Each of ``points``' (alpha, lambda) solved on ``spectrum``, a spectrum near the one they were
    solved on (the Monte-Carlo halves of an optimal-lambda curve's), one point per point, in order.

    A point starts from the given point's overlaps: Newton's method (``newton.py``), then the plain
    iteration from Newton's solution, which gives the status and residual as for any point (the
    plain iteration from the start where Newton fails). A point that did not converge is solved
    by the plain iteration from the last converged point here (from the uninformed start before one).
    """
    channel = make_channel(loss, settings.quadrature_nodes_per_panel, label_noise)
    solved: list[GCMPoint] = []
    start: Overlaps | None = None
    for given in points:
        alpha, lam = given.sample_complexity, given.regularisation
        if given.converged:
            root = newton(FixedPointMap(spectrum, channel, alpha, lam),
                          np.array([given.overlaps.v, given.overlaps.q, given.overlaps.m]),
                          max_evaluations=min(settings.max_iterations, 24))
            near = Overlaps(*root.x) if root is not None else given.overlaps
            point = solve(spectrum, loss, lam, alpha, settings, start=near, channel=channel)
        else:
            point = solve(spectrum, loss, lam, alpha, settings, start=start, channel=channel)
        if point.converged:
            start = point.overlaps
        solved.append(point)
    return solved
