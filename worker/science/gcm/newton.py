"""Newton's method on the saddle-point equations at one (alpha, lambda), and the derivative of the
fixed point and of the test error in lambda: the tools of the optimal-lambda search (``optimal.py``).

The fixed point x = (V, q, m) of F = prior o hat o channel (the map ``solver.solve`` iterates) is a
root of G(x) = F(x) - x, three equations in three unknowns. A Newton step solves (J - I) dx = -G, with
J the Jacobian of F (by one-sided finite differences, three evaluations of F, or carried over from a
nearby point and corrected by Broyden's update after every step), and is halved while it leaves the
valid domain (V, q > 0, V* = rho - m^2/q > 0) or reduces neither the relative residual
max |F(x) - x| / |x| (the plain iteration's convergence measure) nor the size of the Newton
correction (Deuflhard's natural monotonicity test); when halving fails with a Jacobian that is not
fresh, a fresh one is taken once. From a point near the fixed point it converges in two to four
evaluations of F where the plain iteration takes tens to hundreds. When it does not (a singular or
non-finite system, no decrease, too many evaluations) ``newton`` returns None and the caller falls
back to the plain iteration: nothing here decides what a point's status is. Guesses are best made
in ``unconstrained`` coordinates (``moved``), in which the valid domain is all of R^3.

At the root, dx/dlambda = (I - J)^-1 dF/dlambda, with dF/dlambda the prior's derivative at fixed hat
overlaps (they do not depend on lambda), and the test error arccos(m / sqrt(rho q)) / pi follows by
the chain rule: one linear solve, no further evaluation of F once J is known there. The same solve
gives dx/dlog(alpha) (the hat overlaps are proportional to alpha), which predicts the fixed point at
the next alpha of a curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .channels import HatOverlaps, hat_overlaps
from .prior import prior_hat_scaling_derivative, prior_lambda_derivative, prior_overlaps
from .spectrum import Spectrum

#: relative residual at which Newton stops (the plain iteration's default tolerance is 1e-10)
NEWTON_TOLERANCE = 1e-12
#: evaluations of F one call of ``newton`` may spend, the Jacobian's included
NEWTON_MAX_EVALUATIONS = 24
#: relative step of the finite-difference Jacobian (F is accurate to ~1e-13 relative: the prox tolerance)
JACOBIAN_STEP = 1e-6
BACKTRACKS = 6
#: relative step in lambda of the refinement of dx/dlambda (``tangents``)
TANGENT_STEP = 1e-6


class FixedPointMap:
    """x -> F(x) at one (spectrum, alpha, lambda), counting its evaluations; raises ArithmeticError
    (NegativeTeacherVariance included) where the channel or the prior cannot be evaluated."""

    def __init__(self, spectrum: Spectrum, channel, alpha: float, lam: float) -> None:
        self.spectrum, self.channel, self.alpha, self.lam = spectrum, channel, alpha, lam
        self.evaluations = 0
        self.last_hat: HatOverlaps | None = None  # the hat overlaps of the last evaluation

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.evaluations += 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # judged just below
            integrals = self.channel.integrals(float(x[0]), float(x[1]), float(x[2]), self.spectrum.rho)
            hat = self.last_hat = hat_overlaps(integrals, float(x[0]), self.alpha, self.spectrum.gamma)
            new = np.array(prior_overlaps(self.spectrum, self.lam, hat.v_hat, hat.q_hat, hat.m_hat))
        if not valid(new, self.spectrum.rho, teacher=False):
            raise ArithmeticError("F(x) left the domain")
        return new


def valid(x: np.ndarray, rho: float, teacher: bool = True) -> bool:
    """Finite, V > 0, q > 0 and (``teacher``) V* = rho - m^2/q > 0: where F can be evaluated."""
    if not (np.all(np.isfinite(x)) and x[0] > 0 and x[1] > 0):
        return False
    return not teacher or rho - x[2] * x[2] / x[1] > 0


def unconstrained(x: np.ndarray, rho: float) -> np.ndarray:
    """(log V, log q, atanh(m / sqrt(rho q))): coordinates in which the valid domain is all of R^3 (where
    V* = rho - m^2/q is small, a straight step in (q, m) soon leaves it)."""
    return np.array([math.log(x[0]), math.log(x[1]), math.atanh(x[2] / math.sqrt(rho * x[1]))])


def constrained(u: np.ndarray, rho: float) -> np.ndarray:
    """The inverse of ``unconstrained``."""
    q = math.exp(u[1])
    return np.array([math.exp(u[0]), q, math.tanh(u[2]) * math.sqrt(rho * q)])


def moved(x: np.ndarray, direction: np.ndarray, rho: float) -> np.ndarray:
    """x + direction to first order, the step taken in the ``unconstrained`` coordinates: always valid."""
    v, q, m = (float(c) for c in x)
    cosine = m / math.sqrt(rho * q)
    d_cosine = direction[2] / math.sqrt(rho * q) - 0.5 * cosine * direction[1] / q
    step = np.array([direction[0] / v, direction[1] / q, d_cosine / (1.0 - cosine * cosine)])
    with np.errstate(over="ignore", invalid="ignore"):
        return constrained(unconstrained(x, rho) + step, rho)


def relative_residual(x: np.ndarray, fx: np.ndarray) -> float:
    """What ``solver.solve`` calls the residual: the largest relative change of V, q, m in one step."""
    return float(max(abs(fx[0] - x[0]) / x[0], abs(fx[1] - x[1]) / x[1], abs(fx[2] - x[2]) / max(abs(x[2]), 1e-300)))


@dataclass(frozen=True)
class Root:
    x: np.ndarray  # the fixed point (V, q, m)
    fx: np.ndarray  # F(x)
    hat: HatOverlaps  # at x
    jacobian: np.ndarray  # of F, at x when fresh, else Broyden's estimate
    residual: float  # relative_residual(x, fx)


def jacobian(fmap: FixedPointMap, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """dF/dx by one-sided differences, each step in the direction that keeps V* > 0 (q up, |m| down)."""
    columns = []
    for j, direction in enumerate((1.0, 1.0, -1.0 if x[2] > 0 else 1.0)):
        scale = abs(x[j]) if j < 2 else max(abs(x[2]), 1e-3 * math.sqrt(fmap.spectrum.rho * x[1]))
        step = np.zeros(3)
        step[j] = direction * JACOBIAN_STEP * scale
        columns.append((fmap(x + step) - fx) / step[j])
    return np.column_stack(columns)


def newton(fmap: FixedPointMap, start: np.ndarray | Root, initial_jacobian: np.ndarray | None = None,
           max_evaluations: int = NEWTON_MAX_EVALUATIONS, tolerance: float = NEWTON_TOLERANCE) -> Root | None:
    """The root of F(x) - x from ``start`` (a point, or a Root of an earlier call whose F(x) is known),
    or None. ``initial_jacobian``: F's Jacobian at a nearby point (else differences at ``start``). Stops
    at a relative residual <= ``tolerance``; a residual that stops decreasing below 1e-10 (the floor of
    F's accuracy) is returned as it is."""
    budget = fmap.evaluations + max_evaluations
    rho = fmap.spectrum.rho
    try:
        if isinstance(start, Root):
            x, fx, hat = start.x, start.fx, start.hat
        elif not valid(start, rho):
            return None
        else:
            x = np.asarray(start, dtype=float)
            fx = fmap(x)
            hat = fmap.last_hat
        residual = relative_residual(x, fx)
        jac = initial_jacobian if initial_jacobian is not None else jacobian(fmap, x, fx)
        fresh = initial_jacobian is None  # J by differences at x, not carried over or updated since
        scale = np.abs(x) + 1e-300
        while residual > tolerance:
            if fmap.evaluations >= budget:
                return None
            system = (jac - np.eye(3)) * scale / scale[:, None]  # in units of x: D^-1 (J - I) D
            step = scale * np.linalg.solve(system, -(fx - x) / scale)
            size = float(np.max(np.abs(step / scale)))
            if not np.all(np.isfinite(step)):
                return None
            length = 1.0
            for _ in range(BACKTRACKS):
                trial = x + length * step
                if valid(trial, rho) and fmap.evaluations < budget:
                    f_trial, trial_hat = fmap(trial), fmap.last_hat
                    trial_residual = relative_residual(trial, f_trial)
                    # progress: a smaller residual, or (Deuflhard's natural monotonicity test) a smaller
                    # Newton correction at the trial point with the same J: where J is far from normal
                    # (V* -> 0 ties q to m) a step that lands near the root can still raise the residual
                    correction = float(np.max(np.abs(np.linalg.solve(system, -(f_trial - trial) / scale))))
                    if trial_residual < residual or correction < (1.0 - 0.25 * length) * size:
                        break
                length *= 0.5
            else:
                if not fresh and fmap.evaluations + 3 < budget:  # a stale J: once more with a fresh one
                    jac, fresh = jacobian(fmap, x, fx), True
                    continue
                return Root(x, fx, hat, jac, residual) if residual <= 1e-10 else None
            moved, change = trial - x, f_trial - fx
            with np.errstate(over="ignore", invalid="ignore"):  # a step across the accepted range's extremes
                length_squared = float(moved @ moved)
                update = (np.outer(change - jac @ moved, moved) / length_squared  # Broyden's update
                          if length_squared > 0.0 and math.isfinite(length_squared) else None)
            if update is not None and np.all(np.isfinite(update)):  # a step that moved nothing teaches J nothing
                jac = jac + update
            fresh = False
            x, fx, hat, residual = trial, f_trial, trial_hat, trial_residual
        return Root(x, fx, hat, jac, residual)
    except (ArithmeticError, np.linalg.LinAlgError):
        return None


def tangents(fmap: FixedPointMap, root: Root, jac: np.ndarray, refine: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """dx/dlambda and dx/dlog(alpha) at a fixed point, with J = dF/dx there (finite differences):
    (I - J)^-1 dF/dlambda and (I - J)^-1 dF/dlog(alpha). Raises ArithmeticError or LinAlgError where
    the system is singular or not finite.

    The first is refined once by a difference of F along itself: where V is large (alpha < 1, small
    lambda) dq/dlambda is a small difference of two large terms, J[q, V] dV/dlambda and the prior's
    dq/dlambda, and the 1e-6 relative error of a one-sided J becomes 1e-3 in dq/dlambda; F(x + d t,
    lambda + d) - F(x, lambda) = d (J t + dF/dlambda) + O(d^2) takes the difference in one evaluation,
    without cancellation (measured: 1e-3 down to 5e-7). ``refine=False`` skips that evaluation, for a
    caller that needs only dx/dlog(alpha)."""
    spectrum, lam, hat = fmap.spectrum, fmap.lam, root.hat
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        direct = np.array([prior_lambda_derivative(spectrum, lam, hat.v_hat, hat.q_hat, hat.m_hat),
                           prior_hat_scaling_derivative(spectrum, lam, hat.v_hat, hat.q_hat, hat.m_hat)]).T
        system = np.eye(3) - jac
        lambda_tangent, alpha_tangent = np.linalg.solve(system, direct).T
        step = TANGENT_STEP * lam
        moved = root.x + step * lambda_tangent
        if refine and step > 0 and valid(moved, spectrum.rho):
            along = FixedPointMap(spectrum, fmap.channel, fmap.alpha, lam + step)(moved)
            lambda_tangent = lambda_tangent + np.linalg.solve(system, (along - root.fx) / step - lambda_tangent)
    if not (np.all(np.isfinite(lambda_tangent)) and np.all(np.isfinite(alpha_tangent))):
        raise ArithmeticError("the fixed point's derivatives are not finite")
    return lambda_tangent, alpha_tangent


def error_gradient(x: np.ndarray, rho: float) -> np.ndarray:
    """d/d(V, q, m) of arccos(m / sqrt(rho q)) / pi."""
    q, m = float(x[1]), float(x[2])
    cosine = m / math.sqrt(rho * q)
    factor = -1.0 / (math.pi * math.sqrt(max(1.0 - cosine * cosine, 1e-300)))
    return factor * np.array([0.0, -0.5 * cosine / q, 1.0 / math.sqrt(rho * q)])
