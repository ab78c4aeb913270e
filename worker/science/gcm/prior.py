"""The l2 prior update, written once and shared by every loss (MODEL.md section 4).

    V = mean_i[ omega_i / (lam + Vhat omega_i) ]
    q = mean_i[ (qhat omega_i^2 + mhat^2 t_i omega_i) / (lam + Vhat omega_i)^2 ]
    m = (mhat / sqrt(gamma)) mean_i[ t_i / (lam + Vhat omega_i) ]

``lam`` is the l2 strength lambda. Means run over all p eigen-directions; with lam = 0, directions
with omega_i = 0 (where t_i = 0 too) contribute nothing, the limit of the minimum-norm solution.
"""

from __future__ import annotations

import numpy as np

from .spectrum import Spectrum


def prior_overlaps(spectrum: Spectrum, lam: float, v_hat: float, q_hat: float, m_hat: float) -> tuple[float, float, float]:
    omega, t = spectrum.omega, spectrum.t
    if lam == 0.0:
        keep = omega > 0
        omega, t = omega[keep], t[keep]
    p = spectrum.p
    inverse = 1.0 / (lam + v_hat * omega)
    v = float(np.dot(omega, inverse)) / p
    inverse_sq = inverse * inverse
    q = float(np.dot(q_hat * omega * omega + m_hat * m_hat * t * omega, inverse_sq)) / p
    m = m_hat / np.sqrt(spectrum.gamma) * float(np.dot(t, inverse)) / p
    return v, q, m
