"""A deliberately straightforward logistic channel, kept outside the engine to validate and benchmark it.

Each Gaussian average is an adaptive ``scipy.integrate.quad`` over xi in (-inf, inf), and every
integrand evaluation finds its proximal points with ``scipy.optimize.minimize_scalar`` on the
bracket [omega, omega + V] (y = +1) or [omega - V, omega] (y = -1): the way reference GCM code
computes these equations. It shares nothing with ``QuadratureChannel`` but the formulas of MODEL.md,
so agreement between the two checks the quadrature rule and the vectorised Newton prox.

With ``label_noise`` p it does not use the noisy channel's closed forms (``channels`` module docstring)
either: the label law is integrated from its definition, Z(y | omega*) = E_z[P(y | omega* + sqrt(V*) z)]
with P(y | h) = 1 - p where y = sign(h) and p otherwise, and I_m's derivative of Z in omega* by Stein's
lemma, dZ/domega* = E_z[z P(y | omega* + sqrt(V*) z)] / sqrt(V*), each an adaptive quad over z broken
at the label's step; E_+- = 2 Z(+-1 | omega*).
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


def _gauss(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def label_law(y: float, omega_star: float, v_star: float, label_noise: float) -> tuple[float, float]:
    """(Z(y | omega*), dZ/domega*) of labels sign(omega* + sqrt(V*) z) flipped with probability p, by
    quadrature over the teacher's unseen part z ~ N(0, 1)."""
    step = -omega_star / math.sqrt(v_star)  # where the clean label changes sign

    def law(z: float) -> float:
        clean = 1.0 if omega_star + math.sqrt(v_star) * z >= 0 else -1.0
        return 1.0 - label_noise if clean == y else label_noise

    def integral(f) -> float:
        below, _ = quad(lambda z: f(z) * _gauss(z), -math.inf, step, epsabs=1e-13, epsrel=1e-12, limit=200)
        above, _ = quad(lambda z: f(z) * _gauss(z), step, math.inf, epsabs=1e-13, epsrel=1e-12, limit=200)
        return below + above

    return integral(law), integral(lambda z: z * law(z)) / math.sqrt(v_star)


class ReferenceLogisticChannel:
    def __init__(self, xatol: float = 1e-12, epsabs: float = 1e-12, epsrel: float = 1e-11,
                 label_noise: float | None = None) -> None:
        """``label_noise`` None: the clean channel with MODEL.md's erf forms; a number p: the label law
        integrated from its definition (module docstring)."""
        self.xatol, self.epsabs, self.epsrel = xatol, epsabs, epsrel
        self.label_noise = label_noise

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
            if self.label_noise is not None:
                return omega, omega_star, 2 * label_law(1.0, omega_star, v_star, self.label_noise)[0], \
                    2 * label_law(-1.0, omega_star, v_star, self.label_noise)[0]
            e_plus = 1.0 + erf(omega_star / math.sqrt(2 * v_star))
            return omega, omega_star, e_plus, 2.0 - e_plus

        def i_m(xi: float) -> float:
            omega, omega_star = sq * xi, slope * xi
            if self.label_noise is not None:  # sum_y dZ(y)/domega* (P_y - omega)
                return sum(label_law(y, omega_star, v_star, self.label_noise)[1] * (self.prox(omega, v, y) - omega)
                           for y in (1.0, -1.0))
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
