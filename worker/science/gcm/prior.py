"""The l2 prior update, written once and shared by every loss (MODEL.md section 4).

    V = mean_i[ omega_i / (lam + Vhat omega_i) ]
    q = mean_i[ (qhat omega_i^2 + mhat^2 t_i omega_i) / (lam + Vhat omega_i)^2 ]
    m = (mhat / sqrt(gamma)) mean_i[ t_i / (lam + Vhat omega_i) ]

``lam`` is the l2 strength lambda. Means run over all p eigen-directions; with lam = 0, directions
with omega_i = 0 (where t_i = 0 too) contribute nothing, the limit of the minimum-norm solution.
``prior_lambda_derivative`` and ``prior_hat_scaling_derivative`` are the derivatives of (V, q, m) in
lam at fixed hat overlaps (which do not depend on lam) and along the hat overlaps (which are
proportional to alpha): with them the optimal-lambda search differentiates the fixed point in lambda
and predicts it at the next alpha.
"""

from __future__ import annotations

import numpy as np

from .spectrum import Spectrum


def _directions(spectrum: Spectrum, lam: float) -> tuple[np.ndarray, np.ndarray]:
    if lam == 0.0:
        keep = spectrum.omega > 0
        return spectrum.omega[keep], spectrum.t[keep]
    return spectrum.omega, spectrum.t


def prior_overlaps(spectrum: Spectrum, lam: float, v_hat: float, q_hat: float, m_hat: float) -> tuple[float, float, float]:
    omega, t = _directions(spectrum, lam)
    p = spectrum.p
    inverse = 1.0 / (lam + v_hat * omega)
    v = float(np.dot(omega, inverse)) / p
    inverse_sq = inverse * inverse
    q = float(np.dot(q_hat * omega * omega + m_hat * m_hat * t * omega, inverse_sq)) / p
    m = m_hat / np.sqrt(spectrum.gamma) * float(np.dot(t, inverse)) / p
    return v, q, m


def prior_lambda_derivative(spectrum: Spectrum, lam: float, v_hat: float, q_hat: float,
                            m_hat: float) -> tuple[float, float, float]:
    """d(V, q, m)/d lam of ``prior_overlaps`` at fixed (Vhat, qhat, mhat)."""
    omega, t = _directions(spectrum, lam)
    p = spectrum.p
    inverse = 1.0 / (lam + v_hat * omega)
    inverse_sq = inverse * inverse
    dv = -float(np.dot(omega, inverse_sq)) / p
    dq = -2.0 * float(np.dot(q_hat * omega * omega + m_hat * m_hat * t * omega, inverse_sq * inverse)) / p
    dm = -m_hat / float(np.sqrt(spectrum.gamma)) * float(np.dot(t, inverse_sq)) / p
    return dv, dq, dm


def prior_hat_scaling_derivative(spectrum: Spectrum, lam: float, v_hat: float, q_hat: float,
                                 m_hat: float) -> tuple[float, float, float]:
    """d(V, q, m)/d eps of ``prior_overlaps`` at (1 + eps) (Vhat, qhat, mhat), eps = 0: the hat overlaps
    are proportional to alpha, so this is the derivative in log(alpha) at fixed (V, q, m)."""
    omega, t = _directions(spectrum, lam)
    p = spectrum.p
    inverse = 1.0 / (lam + v_hat * omega)
    inverse_sq = inverse * inverse
    numerator = q_hat * omega * omega + m_hat * m_hat * t * omega
    dv = -v_hat * float(np.dot(omega * omega, inverse_sq)) / p
    dq = (float(np.dot(numerator + m_hat * m_hat * t * omega, inverse_sq))
          - 2.0 * v_hat * float(np.dot(numerator * omega, inverse_sq * inverse))) / p
    dm = m_hat / float(np.sqrt(spectrum.gamma)) * (float(np.dot(t, inverse)) - v_hat * float(np.dot(t * omega, inverse_sq))) / p
    return dv, dq, dm
