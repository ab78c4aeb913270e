"""A deliberately straightforward logistic channel, kept outside the engine to validate and benchmark it.

Each Gaussian average is an adaptive ``scipy.integrate.quad`` over xi in (-inf, inf), and every
integrand evaluation finds its proximal points with ``scipy.optimize.minimize_scalar`` on the
bracket [omega, omega + V] (y = +1) or [omega - V, omega] (y = -1): the way reference GCM code
computes these equations. It shares nothing with ``QuadratureChannel`` but the formulas of MODEL.md,
so agreement between the two checks the quadrature rule and the vectorised Newton prox.
"""

from __future__ import annotations

import math

from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.special import erf

from worker.science.gcm.channels import ChannelIntegrals, teacher_variance


def _logistic(y: float, z: float) -> float:
    return math.log1p(math.exp(-y * z)) if y * z > -30 else -y * z + math.log1p(math.exp(y * z))


def _curvature(z: float) -> float:
    s = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
    return s * (1.0 - s)


class ReferenceLogisticChannel:
    def __init__(self, xatol: float = 1e-12, epsabs: float = 1e-12, epsrel: float = 1e-11) -> None:
        self.xatol, self.epsabs, self.epsrel = xatol, epsabs, epsrel

    def prox(self, omega: float, v: float, y: float) -> float:
        bounds = (omega, omega + v) if y > 0 else (omega - v, omega)
        result = minimize_scalar(lambda z: (z - omega) ** 2 / (2 * v) + _logistic(y, z), bounds=bounds,
                                 method="bounded", options={"xatol": self.xatol})
        return float(result.x)

    def _expect(self, integrand) -> float:
        value, _ = quad(lambda xi: integrand(xi) * math.exp(-0.5 * xi * xi) / math.sqrt(2 * math.pi),
                        -math.inf, math.inf, epsabs=self.epsabs, epsrel=self.epsrel, limit=200)
        return value

    def integrals(self, v: float, q: float, m: float, rho: float) -> ChannelIntegrals:
        v_star = teacher_variance(q, m, rho)
        sq, slope = math.sqrt(q), m / math.sqrt(q)

        def parts(xi: float):
            omega, omega_star = sq * xi, slope * xi
            e_plus = 1.0 + erf(omega_star / math.sqrt(2 * v_star))
            return omega, omega_star, e_plus, 2.0 - e_plus

        def i_m(xi: float) -> float:
            omega, omega_star, _, _ = parts(xi)
            density = math.exp(-omega_star**2 / (2 * v_star)) / math.sqrt(2 * math.pi * v_star)
            return density * (self.prox(omega, v, 1.0) - self.prox(omega, v, -1.0))

        def i_v(xi: float) -> float:
            omega, _, e_plus, e_minus = parts(xi)
            return 0.5 * (e_plus / (1 / v + _curvature(self.prox(omega, v, 1.0)))
                          + e_minus / (1 / v + _curvature(self.prox(omega, v, -1.0))))

        def i_q(xi: float) -> float:
            omega, _, e_plus, e_minus = parts(xi)
            return 0.5 * (e_plus * (self.prox(omega, v, 1.0) - omega) ** 2
                          + e_minus * (self.prox(omega, v, -1.0) - omega) ** 2)

        def loss(xi: float) -> float:
            omega, _, e_plus, e_minus = parts(xi)
            return 0.5 * (e_plus * _logistic(1.0, self.prox(omega, v, 1.0))
                          + e_minus * _logistic(-1.0, self.prox(omega, v, -1.0)))

        return ChannelIntegrals(i_m=self._expect(i_m), i_v=self._expect(i_v), i_q=self._expect(i_q),
                                train_loss=self._expect(loss))
