"""Losses of the readout and their proximal operators, vectorised over quadrature nodes.

P_y(omega) = argmin_z [ (z - omega)^2 / (2V) + loss(y, z) ] for labels y = +1 and y = -1 at once.
The logistic proximal point lies in [omega, omega + V] for y = +1 (the stationarity condition is
(z - omega) / V = sigmoid(-z) in (0, 1)); ``logistic_prox_positive`` runs a safeguarded Newton
inside that bracket that converges for any V (plain Newton from z = omega diverges when V is large,
which it is from an uninformed start). y = -1 follows from
the symmetry loss(-1, z) = loss(+1, -z): P_-(omega) = -P_+(-omega).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from .prox_kernel import NO_START, logistic_prox_points

Array = np.ndarray
PROX_TOLERANCE = 1e-13
PROX_MAX_STEPS = 200


def logistic_value(y: float, z: Array) -> Array:
    return np.logaddexp(0.0, -y * z)


def logistic_curvature(z: Array) -> Array:
    s = expit(z)
    return s * (1.0 - s)


def logistic_prox_positive(omega: Array, variance: float, start: Array | None = None) -> Array:
    """P_+(omega) for the logistic loss, element-wise over all nodes at once.

    The unknown is the offset a = z - omega in (0, V), carried as its logit t = log(a / b) with
    b = V - a, so that a = V sigmoid(t) and b = V sigmoid(-t) are exact even when the solution sits
    at either end of the bracket. The root of
        H = t + omega + a      (= log a - log b + omega + a)
    is the proximal point z = omega + a = -t. H is increasing in t; its graph is a line of slope 1
    with a sigmoid step of height V, so Newton in t alone crawls across the step when V is large,
    and Newton in a alone crawls where log a dominates. Each element takes the Newton step in the
    variable in which H is nearly linear: in a (applied to the smaller of a, b) where both exceed 1,
    in t otherwise. A step leaving the bracket t in [-omega - V, -omega] (z in [omega, omega + V],
    kept up to date from the sign of H) is replaced by bisection. ``start`` is an optional guess of z.
    Compiled: ``prox_kernel``.
    """
    nodes = np.asarray(omega, dtype=float)
    first = NO_START if start is None else np.ascontiguousarray(np.broadcast_to(start, nodes.shape), dtype=float).ravel()
    points = logistic_prox_points(np.ascontiguousarray(nodes).ravel(), float(variance), first, PROX_TOLERANCE,
                                  PROX_MAX_STEPS)
    return points.reshape(nodes.shape)


def logistic_prox(omega: Array, variance: float, start: tuple[Array, Array] | None = None) -> tuple[Array, Array]:
    n = omega.shape[0]
    first = None if start is None else np.concatenate([start[0], -start[1]])
    both = logistic_prox_positive(np.concatenate([omega, -omega]), variance, first)
    return both[:n], -both[n:]


def square_value(y: float, z: Array) -> Array:
    return 0.5 * (y - z) ** 2


def square_curvature(z: Array) -> Array:
    return np.ones_like(z)


def square_prox(omega: Array, variance: float, start: tuple[Array, Array] | None = None) -> tuple[Array, Array]:
    return (omega + variance) / (1.0 + variance), (omega - variance) / (1.0 + variance)


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[float, Array], Array]
    curvature: Callable[[Array], Array]  # loss''(z); the same for both labels here
    prox: Callable[..., tuple[Array, Array]]  # (omega, V, start=None) -> (P_+, P_-)


LOSSES: dict[str, Loss] = {
    "logistic": Loss("logistic", logistic_value, logistic_curvature, logistic_prox),
    "square": Loss("square", square_value, square_curvature, square_prox),
}
