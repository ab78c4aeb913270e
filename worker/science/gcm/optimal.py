"""The optimal-lambda mode: per alpha, the lambda in OPTIMAL_LAMBDA_BOUNDS minimising the theoretical
test error E, at about the cost of a solve at one fixed lambda along a curve.

The search runs on s = log10(lambda) and looks for the root of the slope g = dE/ds. A *probe* at s
solves the fixed point by Newton's method (``newton.py``) from the nearest probe moved along its
tangents dx/ds and dx/dlog(alpha) (the step taken in (log V, log q, atanh(m/sqrt(rho q))), where it
cannot leave the domain), to a relative residual of ROUGH_TOLERANCE, and gets g by implicit
differentiation there (one finite-difference Jacobian and one more evaluation). Where Newton cannot
reach s from that guess it walks there in steps of CONTINUATION_STEP decades, and only then runs the
plain iteration (to LOOSE_TOLERANCE) before Newton; a search without a previous alpha starts that way.

Steps. Without a bracket (probes with slopes of both signs), downhill: a Newton step on g with the
curvature of the last two probes (for the first probe: of the previous alpha's search), or where E
is concave, steps doubling from FIRST_STEP; at most MAX_STEP. In E's tails, where g goes like lambda
(towards the lower bound) or 1/lambda (the upper) and such steps would crawl, the secant of g in
that variable; the bound itself once it is within two steps. A bound whose slope points outwards is
the minimum. Inside a bracket: the Newton step, else the minimum of the cubic through the bracket's
ends (errors and slopes), else bisection, which also replaces any step not shorter than half the
step before last (Brent's safeguard). The search ends when the next Newton step, on a curvature
from probes at most LOCAL_SPAN apart, would move s by less than OPTIMAL_LAMBDA_XATOL and gain less
than OPTIMAL_ERROR_TOLERANCE in E (or a bracket holds no more than that). Along a curve (alphas in
increasing order) each search starts at the previous optima extrapolated in log(alpha), and takes
two to four probes of about ten evaluations of the map; a lone alpha about seven. With the comparison
with the scan's points below, a point of a curve costs about 12 probes and 165 evaluations, a lone
alpha about 19 and 285 (``bench.optimal_lambda_agreement``, before the rule that skips scan points).

E need not have one minimum: a deep layer's features on an unrelated target give an error lowest at
the lower bound and flat (near chance) above lambda ~ 1e-3, where a local search settles. So the
search is also global, coarsely: at the first alpha of a curve it starts from the best of SCAN_POINTS
probes spread over the interval (one per decade, the bounds included), and at every alpha the local
optimum is compared with the errors at those points (probes warm-started from the previous alpha's at
the same lambda): a point lower by more than OPTIMAL_ERROR_TOLERANCE restarts the search there (at a
bound, it returns that bound when the slope points out). Comparing with the bounds alone was not
enough: E can have two interior minima, and along a curve the one the previous alpha leads to can stop
being the lower (tf at latent_change -30, alpha 2: 0.07225 near lambda = 3.5e-3 against 0.07181 near
1.8e-4; science version 5 fixed it, ``test_a_second_interior_minimum_that_becomes_the_lower_is_found_along_a_curve``).
A scan point is not probed again at an alpha where it is clearly above: its error moved from its last
probe along its slope in log(alpha) (dE/dlog(alpha) at its lambda, from the probe's tangent) stays above
the local optimum's by more than GRID_MARGIN times that move, its last probe at most GRID_STALENESS
behind. ``bench.scan_skip`` (1,848 curve points: the findings' tf-vs-rf rows, a 20 x 20 diagram's rows,
the agreement spectra) makes every skipped probe aside: the predicted gap was at least 5.7 times the
prediction's error (``--staleness 1``: 1.04, within 4 % of hiding a lower point; with staleness 2 it
hid the second minimum above: the staleness and the margin are what keep it safe), and the optima
equal those of probing every point to 4e-12, with 85 map evaluations per point against 97.5. A scan
point's probe also skips the refinement of its slope (``exact_slope``): a point that restarts the
search gets it then (``_exact_slope``: the same fixed point, one evaluation).

When the search cannot go on (a probe that cannot be solved, slopes that no single minimum
explains, MAX_PROBES probes) the point falls back to the bounded Brent search on E over the whole
interval, which the optimal mode used before. Either way the returned point is ``solver.solve``'s
plain iteration at the chosen lambda, started from Newton's last steps there (one or two
iterations): its status, residual and convergence test are the plain iteration's, as for a fixed
lambda.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize_scalar

from tlprobe.contract.common import SolverParams

from .channels import make_channel
from .newton import (
    NEWTON_MAX_EVALUATIONS,
    FixedPointMap,
    Root,
    constrained,
    error_gradient,
    jacobian,
    moved,
    newton,
    tangents,
    unconstrained,
    valid,
)
from .solver import (
    OPTIMAL_LAMBDA_BOUNDS,
    OPTIMAL_LAMBDA_XATOL,
    GCMPoint,
    Overlaps,
    SolverStatus,
    generalisation_error,
    solve,
)
from .spectrum import Spectrum

#: the secant search stops when its next step would gain less than this in test error
OPTIMAL_ERROR_TOLERANCE = 1e-9
#: probes of the secant search before it gives up for the bounded Brent search
MAX_PROBES = 20
#: the first step without a curvature estimate, and the largest step (decades of lambda)
FIRST_STEP = 0.5
MAX_STEP = 1.5
#: where the search starts without a previous alpha: the first point of the bounded Brent search
COLD_START = math.log10(OPTIMAL_LAMBDA_BOUNDS[0]) + 0.381966 * math.log10(OPTIMAL_LAMBDA_BOUNDS[1] /
                                                                       OPTIMAL_LAMBDA_BOUNDS[0])
#: the relative residual at which Newton's steps with a carried-over Jacobian hand over to a fresh one
ROUGH_TOLERANCE = 1e-7
#: the search ends on a secant's curvature only when its two probes are at most this far apart (decades)
LOCAL_SPAN = 0.1
#: steps at least this long (decades) away from a bracket may be extrapolations into a tail of E
TAIL_STEP = 0.1
#: a bracket at least this wide (decades) is narrowed with the cubic through its ends' errors and slopes
CUBIC_SPAN = 0.05
#: where Newton fails from a probe's tangent, it walks to the next probe in steps of at most this (decades)
CONTINUATION_STEP = 0.25
#: the plain iteration's tolerance before Newton takes over, where Newton has no start near enough
LOOSE_TOLERANCE = 1e-4
LOW, HIGH = (math.log10(b) for b in OPTIMAL_LAMBDA_BOUNDS)
#: probes spread evenly over [LOW, HIGH] (decades) at a curve's first alpha, the best starting the search
SCAN_POINTS = 8
#: those points, one per decade (the bounds included)
GRID = tuple(LOW + (HIGH - LOW) * k / (SCAN_POINTS - 1) for k in range(SCAN_POINTS))
LN10 = math.log(10.0)
#: a scan point is not probed again at an alpha where its error, moved from its last probe along its
#: slope in log(alpha), stays above the local optimum's by more than this many times that move ...
#: (``bench.scan_skip`` measures how safe the two are)
GRID_MARGIN = 2.0
#: ... and its last probe is at most this far behind in log(alpha)
GRID_STALENESS = 0.5


@dataclass(frozen=True)
class Probe:
    """The fixed point at s = log10(lambda), its test error and their derivatives in s."""

    log_alpha: float
    s: float
    root: Root
    jacobian: np.ndarray  # dF/dx at the fixed point (finite differences)
    tangent: np.ndarray  # dx/ds
    alpha_tangent: np.ndarray  # dx/dlog(alpha)
    error: float
    slope: float  # dE/ds
    alpha_slope: float  # dE/dlog(alpha) at this lambda


def _as_array(overlaps: Overlaps) -> np.ndarray:
    return np.array([overlaps.v, overlaps.q, overlaps.m], dtype=float)


class LambdaSearch:
    """Optimal-lambda points of one spectrum and loss, asked in increasing alpha: each search starts
    from the previous one's optimum (``point``)."""

    def __init__(self, spectrum: Spectrum, loss: str, settings: SolverParams = SolverParams(), channel=None,
                 start: Overlaps | None = None) -> None:
        self.spectrum, self.loss, self.settings = spectrum, loss, settings
        self.channel = channel or make_channel(loss, settings.quadrature_nodes_per_panel)
        self.start = start  # where the plain iteration starts without a nearer point
        self.anchor: Probe | None = None  # the previous alpha's optimum
        self.curvature: float | None = None  # d2E/ds2 there (secant), when positive
        self.optima: list[tuple[float, float]] = []  # (log alpha, s) of the previous interior optima
        self.grid: dict[float, Probe] = {}  # the last probes at the scan's points (warm starts for the next alpha)
        self.loose = settings.model_copy(update={"tolerance": max(settings.tolerance, LOOSE_TOLERANCE)})
        self.newton_budget = min(settings.max_iterations, NEWTON_MAX_EVALUATIONS)

    # --- one probe ---------------------------------------------------------------------------
    def probe(self, alpha: float, s: float, near: Probe | None, exact_slope: bool = True) -> Probe | None:
        """The fixed point and the slope at s, from ``near`` moved along its tangents; None if
        unsolvable. The fixed point is Newton's to ROUGH_TOLERANCE (the slope needs no more; ``_finish``
        refines the chosen one). ``exact_slope=False`` (a scan point's probe, for its error and its
        alpha tangent) saves the evaluation that refines dx/dlambda: its slope is then rougher."""
        lam = 10.0**s
        log_alpha = math.log(alpha) if alpha > 0 else -math.inf
        fmap = FixedPointMap(self.spectrum, self.channel, alpha, lam)
        root = None
        if near is not None:
            guess = _moved(near.root.x, near.tangent * (s - near.s) + near.alpha_tangent * (log_alpha - near.log_alpha),
                           self.spectrum.rho)
            root = newton(fmap, guess, near.jacobian, self.newton_budget, ROUGH_TOLERANCE)
            if root is None and abs(s - near.s) > CONTINUATION_STEP:
                root = self._continued(alpha, s, near)
        if root is None:
            start = Overlaps(*near.root.x) if near is not None else self.start
            plain = solve(self.spectrum, self.loss, lam, alpha, self.loose, start=start, channel=self.channel)
            if plain.status not in (SolverStatus.CONVERGED, SolverStatus.MAX_ITERATIONS):
                return None
            root = newton(fmap, _as_array(plain.overlaps), None, self.newton_budget, ROUGH_TOLERANCE)
            if root is None:
                return None
        try:
            jac = jacobian(fmap, root.x, root.fx)
            lambda_tangent, alpha_tangent = tangents(fmap, root, jac, refine=exact_slope)
        except (ArithmeticError, np.linalg.LinAlgError):
            return None
        try:
            error = generalisation_error(Overlaps(*root.x), self.spectrum.rho)
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                gradient = error_gradient(root.x, self.spectrum.rho)
                tangent, slope = _in_s(lambda_tangent, lam, gradient)
                alpha_slope = float(gradient @ alpha_tangent)
        except (ArithmeticError, FloatingPointError):
            return None
        if not (math.isfinite(error) and math.isfinite(slope)):
            return None
        return Probe(log_alpha, s, root, jac, tangent, alpha_tangent, error, slope, alpha_slope)

    def _continued(self, alpha: float, s: float, near: Probe) -> Root | None:
        """Newton's fixed point at s reached from ``near`` (at this alpha) in steps of at most
        CONTINUATION_STEP decades, each started from the extrapolation of the two before: where one
        long step from ``near``'s tangent is too far for Newton."""
        if alpha <= 0 or near.log_alpha != math.log(alpha):
            return None
        rho = self.spectrum.rho
        count = math.ceil(abs(s - near.s) / CONTINUATION_STEP)
        points, jac, root = [near.root.x], near.jacobian, None
        for k in range(1, count + 1):
            s_k = near.s + (s - near.s) * k / count
            if k == 1:
                guess = _moved(near.root.x, near.tangent * (s_k - near.s), rho)
            else:  # the line through the last two, in coordinates where it stays in the domain
                guess = _extrapolated(points[-2], points[-1], rho)
            fmap = FixedPointMap(self.spectrum, self.channel, alpha, 10.0**s_k)
            root = newton(fmap, guess, jac, self.newton_budget, ROUGH_TOLERANCE)
            if root is None:
                return None
            points.append(root.x)
            jac = root.jacobian
        return root

    # --- one alpha ---------------------------------------------------------------------------
    def point(self, alpha: float) -> GCMPoint:
        """The point at the lambda minimising the test error at ``alpha`` (>= the previous alpha)."""
        log_alpha = math.log(alpha) if alpha > 0 else -math.inf
        start = self._scan(alpha) if self.anchor is None else None
        best = self._secant(alpha, self._predicted(log_alpha) if start is None else start.s, start)
        if best is not None:
            best = self._against_grid(alpha, best)
        if best is None:
            return self._brent(alpha)
        point = self._finish(alpha, best)
        if not point.converged:
            return self._brent(alpha)
        self.anchor = best
        if LOW < best.s < HIGH:
            self.optima.append((log_alpha, best.s))
        return point

    def _predicted(self, log_alpha: float) -> float:
        """The previous optimum extrapolated in log(alpha) through the last interior optima (up to
        three: a parabola), when they lead up to it; the search bounds clip it."""
        if self.anchor is None:
            return COLD_START
        s = self.anchor.s
        recent = self.optima[-3:]
        if len(recent) >= 2 and recent[-1][1] == s and math.isfinite(log_alpha):
            # Lagrange extrapolation through distinct log alphas, never further than the last gap
            logs = [a for a, _ in recent]
            if all(b > a for a, b in zip(logs, logs[1:])) and log_alpha - logs[-1] <= 2.0 * (logs[-1] - logs[-2]):
                s = sum(sj * math.prod((log_alpha - am) / (aj - am) for am, _ in recent if am != aj)
                        for aj, sj in recent)
        return min(max(s, LOW), HIGH)

    def _scan(self, alpha: float) -> Probe | None:
        """The best of SCAN_POINTS probes spread over [LOW, HIGH], each from the one before (None when
        none could be solved: the search then starts cold)."""
        found: list[Probe] = []
        near = None
        for point in GRID:
            probe = self.probe(alpha, point, near)
            if probe is not None:
                found.append(probe)
                near = probe
        for probe in found:
            self.grid[probe.s] = probe
        return min(found, key=lambda probe: probe.error, default=None)

    def _against_grid(self, alpha: float, best: Probe) -> Probe | None:
        """``best``, or the search's minimum started again from a point of the scan's grid where E is
        lower (see the module)."""
        for point in GRID:
            if abs(best.s - point) <= OPTIMAL_LAMBDA_XATOL:
                continue
            last = self.grid.get(point)
            if last is not None and _clearly_above(last, best):
                continue
            probe = self.probe(alpha, point, last or best, exact_slope=False)
            if probe is None:
                continue
            self.grid[point] = probe
            if probe.error < best.error - OPTIMAL_ERROR_TOLERANCE:
                probe = self._exact_slope(alpha, probe)  # the search starts from it with its exact slope
                if probe is None:
                    continue
                self.grid[point] = probe
                restarted = self._secant(alpha, point, probe)
                best = probe if restarted is None or probe.error < restarted.error else restarted
        return best

    def _exact_slope(self, alpha: float, rough: Probe) -> Probe | None:
        """``rough`` (a probe made with ``exact_slope=False``) with dx/dlambda refined and the slope from it:
        the same fixed point and Jacobian, one evaluation of the map; None where that cannot be done."""
        fmap = FixedPointMap(self.spectrum, self.channel, alpha, 10.0**rough.s)
        try:
            lambda_tangent, _ = tangents(fmap, rough.root, rough.jacobian)
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                tangent, slope = _in_s(lambda_tangent, 10.0**rough.s, error_gradient(rough.root.x, self.spectrum.rho))
        except (ArithmeticError, FloatingPointError, np.linalg.LinAlgError):
            return None
        return replace(rough, tangent=tangent, slope=slope) if math.isfinite(slope) else None

    def _secant(self, alpha: float, s0: float, first: Probe | None = None) -> Probe | None:
        """The probe at the minimum of E(s) from s0 (``first``: the probe there, when made already), or
        None when this search cannot tell (Brent takes over)."""
        current = first if first is not None and first.s == s0 else self.probe(alpha, s0, self.anchor)
        previous: Probe | None = None
        below: Probe | None = None  # the probe nearest the minimum from below (slope < 0), and from above
        above: Probe | None = None
        step_size = FIRST_STEP
        steps: list[float] = []  # the lengths of the steps taken
        for _ in range(MAX_PROBES):
            if current is None:
                return None
            g = current.slope
            if g < 0 and (below is None or current.s > below.s):
                below = current
            if g > 0 and (above is None or current.s < above.s):
                above = current
            if (current.s <= LOW and g >= 0) or (current.s >= HIGH and g <= 0) or g == 0:
                return current  # the minimum sits at a bound (or here)
            curvature = self.curvature if previous is None else (g - previous.slope) / (current.s - previous.s)
            newton_step = -g / curvature if curvature is not None and curvature > 0 else None
            local = previous is None or abs(current.s - previous.s) <= LOCAL_SPAN  # a curvature to judge by
            if local and newton_step is not None and abs(newton_step) <= OPTIMAL_LAMBDA_XATOL \
                    and 0.5 * curvature * newton_step**2 <= OPTIMAL_ERROR_TOLERANCE:
                self.curvature = curvature
                return current
            if below is not None and above is not None:  # bracketed: stay strictly inside
                lo, hi = below.s, above.s
                if not lo < hi:
                    return None  # slopes that no single minimum explains
                if max(-below.slope, above.slope) * (hi - lo) <= OPTIMAL_ERROR_TOLERANCE:
                    return min(below, above, key=lambda p: p.error)  # E flat to the tolerance in between
                # a Newton step on the slope with the secant's curvature, else the minimum of the cubic
                # through the bracket's ends (errors and slopes); bisection when neither falls inside or
                # (Brent's safeguard) the step is not below half the step before last
                target = current.s + newton_step if newton_step is not None else None
                if not _inside(target, lo, hi):
                    target = _cubic_minimum(below, above) if hi - lo >= CUBIC_SPAN else None
                if not _inside(target, lo, hi) or (len(steps) >= 2 and abs(target - current.s) >= 0.5 * steps[-2]):
                    target = 0.5 * (lo + hi)
            else:  # downhill, at most MAX_STEP; where E is concave, in steps doubling from FIRST_STEP
                downhill = -math.copysign(1.0, g)
                if newton_step is not None:
                    step = newton_step
                    tail = _tail_root(previous, current) if previous is not None and abs(step) >= TAIL_STEP else None
                    if tail is not None and (tail - current.s) * downhill > abs(step):
                        step = tail - current.s  # a tail where the secant in log(lambda) would crawl
                else:
                    step = downhill * step_size
                    step_size = min(2.0 * step_size, MAX_STEP)
                step = max(-MAX_STEP, min(MAX_STEP, step))
                bound = HIGH if downhill > 0 else LOW
                # probe the bound once it is within two steps: where the minimum sits at a bound, E
                # flattens towards it and the steps would shrink
                target = bound if abs(bound - current.s) <= 2.0 * abs(step) else current.s + step
            steps.append(abs(target - current.s))
            if target == current.s:
                return None
            near = min((p for p in (current, previous, below, above) if p is not None), key=lambda p: abs(p.s - target))
            previous, current = current, self.probe(alpha, target, near)
        return None

    # --- the fallback ------------------------------------------------------------------------
    def _brent(self, alpha: float) -> GCMPoint:
        """The bounded Brent search on E over the whole interval, each solve warm-started from the last
        converged one (Newton first, the plain iteration where Newton fails)."""
        solved: dict[float, GCMPoint] = {}
        warm: list[Probe | None] = [self.anchor]

        def objective(s: float) -> float:
            probe = self.probe(alpha, s, warm[0])
            if probe is not None:
                warm[0] = probe
                point = self._finish(alpha, probe)
            else:
                start = Overlaps(*warm[0].root.x) if warm[0] is not None else self.start
                point = solve(self.spectrum, self.loss, 10.0**s, alpha, self.settings, start=start, channel=self.channel)
            solved[s] = point
            return point.test_error if point.converged else 1.0  # a failed solve: steer the search away

        result = minimize_scalar(objective, bounds=(LOW, HIGH), method="bounded", options={"xatol": OPTIMAL_LAMBDA_XATOL})
        best_s = min(solved, key=lambda s: (0 if solved[s].converged else 1, solved[s].test_error
                                            if solved[s].converged else 0.0))
        best = solved.get(float(result.x), solved[best_s])
        if best.converged and solved[best_s].converged and solved[best_s].test_error < best.test_error:
            best = solved[best_s]
        self.anchor, self.curvature = None, None
        if best.converged:
            self.start = best.overlaps
        return _at_bound(best)

    def _finish(self, alpha: float, probe: Probe) -> GCMPoint:
        """The returned point: Newton's last steps at the probe (with its Jacobian), then the plain
        iteration from there (one or two iterations)."""
        fmap = FixedPointMap(self.spectrum, self.channel, alpha, 10.0**probe.s)
        root = newton(fmap, probe.root, probe.jacobian, self.newton_budget)
        x = root.x if root is not None else probe.root.x
        point = solve(self.spectrum, self.loss, 10.0**probe.s, alpha, self.settings, start=Overlaps(*x),
                      channel=self.channel)
        return _at_bound(point)


def _in_s(lambda_tangent: np.ndarray, lam: float, gradient: np.ndarray) -> tuple[np.ndarray, float]:
    """dx/ds and dE/ds (s = log10 lambda) from dx/dlambda and dE/dx."""
    tangent = lambda_tangent * lam * LN10
    return tangent, float(gradient @ tangent)


def _clearly_above(last: Probe, best: Probe) -> bool:
    """Whether the error at ``last``'s lambda, moved to ``best``'s alpha along its slope in log(alpha),
    stays above ``best``'s by more than GRID_MARGIN times that move (see the module), ``last`` being at
    most GRID_STALENESS behind in log(alpha)."""
    step = best.log_alpha - last.log_alpha
    if not (0 < step <= GRID_STALENESS and math.isfinite(last.alpha_slope)):
        return False
    change = last.alpha_slope * step
    return last.error + change - best.error > GRID_MARGIN * abs(change) + OPTIMAL_ERROR_TOLERANCE


def _moved(x: np.ndarray, direction: np.ndarray, rho: float) -> np.ndarray:
    """x moved by ``direction`` (to first order) inside the domain; x itself where that overflows."""
    try:
        guess = moved(x, direction, rho)
    except (ArithmeticError, ValueError):
        return x
    return guess if valid(guess, rho) else x


def _extrapolated(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """The point after a and b on the line through them, in the ``unconstrained`` coordinates; b where
    that overflows."""
    try:
        guess = constrained(2.0 * unconstrained(b, rho) - unconstrained(a, rho), rho)
    except (ArithmeticError, ValueError):
        return b
    return guess if valid(guess, rho) else b


def _tail_root(previous: Probe, current: Probe) -> float | None:
    """Where the slope vanishes if it is linear in lambda (going down: E - E(0) ~ lambda as lambda -> 0)
    or in 1/lambda (going up: E - E(inf) ~ 1/lambda), through two probes with slopes of one sign: the
    shape of E's tails, where a secant in log(lambda) crawls. The bound when that is beyond it."""
    sign = 1.0 if current.slope > 0 else -1.0  # downhill to lower s when the slope is positive
    u_previous, u_current = 10.0 ** (sign * previous.s), 10.0 ** (sign * current.s)
    change = current.slope - previous.slope
    if previous.slope * current.slope <= 0 or change == 0:
        return None
    root = u_current - current.slope * (u_current - u_previous) / change
    if not root > 0:
        return LOW if sign > 0 else HIGH
    return min(max(sign * math.log10(root), LOW), HIGH)


def _inside(target: float | None, lo: float, hi: float) -> bool:
    """Strictly inside the bracket (lo, hi), away from its ends (by 1 % of its width, at most 1e-4)."""
    margin = min(0.01 * (hi - lo), 1e-4)
    return target is not None and lo + margin < target < hi - margin


def _cubic_minimum(a: Probe, b: Probe) -> float | None:
    """The local minimum of the cubic through two probes' test errors and slopes (Nocedal and Wright,
    Numerical Optimization, eq. 3.59), or None when it has none."""
    d1 = a.slope + b.slope - 3.0 * (a.error - b.error) / (a.s - b.s)
    discriminant = d1 * d1 - a.slope * b.slope
    if not discriminant >= 0:
        return None
    d2 = math.copysign(math.sqrt(discriminant), b.s - a.s)
    denominator = b.slope - a.slope + 2.0 * d2
    if denominator == 0:
        return None
    target = b.s - (b.s - a.s) * (b.slope + d2 - d1) / denominator
    return target if math.isfinite(target) else None


def _at_bound(point: GCMPoint) -> GCMPoint:
    s = math.log10(point.regularisation)
    return replace(point, regularisation_at_bound=min(abs(s - LOW), abs(s - HIGH)) < 10 * OPTIMAL_LAMBDA_XATOL)
