"""Population covariances of features and latent vector (MODEL.md section 4).

Omega = E[phi phi^T] (p x p) and Phi = E[phi c^T] (p x k) of the centred features phi on the
target task. Monte Carlo accumulates in chunks (memory independent of M) and keeps the two halves
of the sample apart, so that the spectrum of each half can be solved too: their spread and their
distance from the full estimate give the Monte Carlo error of the theory (``theory_curve.py``).

For ``linear`` a closed form follows from Gaussian equivalence. With u_i = F_i^T c / sqrt(D) of
variance v_i = |F_i|^2 / D, b_i = E[sigma'(u_i)] and s_i = Var sigma(u_i):
    Phi = diag(b) F^T / sqrt(D)                        (exact, by Stein's lemma)
    Omega = diag(b) (F^T F / D) diag(b) + diag(s - b^2 v)  (exact diagonal, first-order off-diagonal)
For v_i = 1 this is MODEL.md's kappa_1^2 F^T F / D + kappa_*^2 I (centred, so no kappa_0 term);
using each input's actual v_i removes the O(1/sqrt(D)) mismatch of finite-D column norms.

On a synthetic task the latent covariance is known, Psi = E[c c^T] = I, and the Monte Carlo uses it
as a control variate (the regression estimator). Write phi = B c + r with B = Phi Psi^{-1} and r
uncorrelated with c; then Phi = B Psi and Omega = B Psi B^T + E[r r^T]. The plain sample moments
carry the sample's chance fluctuation Psi_hat - I in both terms (in Omega through B (Psi_hat - I) B^T,
of relative size sqrt(2/M) along every direction the features explain), while the theory uses the
exact Psi = I (rho = |theta|^2 / k). The regression estimator replaces Psi_hat by the known Psi:
    B_hat = Phi_hat Psi_hat^{-1},   Phi_reg = B_hat Psi,   Omega_reg = Omega_hat + B_hat (Psi - Psi_hat) B_hat^T
Omega_reg - Phi_reg Psi^{-1} Phi_reg^T equals the sample residual covariance (a Schur complement), so
(Omega_reg, Phi_reg, Psi) is always a valid joint covariance: the features never appear to explain
more of the teacher than it has. Both estimators are consistent; the regression one has the lower
variance whenever the features depend on c (``tests/worker/science/test_covariances.py`` measures it
against the exact erf covariances of the ``linear`` protocol). On uploaded data Psi is unknown and
the plain sample moments are used (``known_psi=None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
from scipy.linalg.blas import dsyrk

from .activations import gaussian_moments
from .chmm import Task
from .features import FeatureMap, input_variances

Array = np.ndarray


@dataclass(frozen=True)
class Covariances:
    omega: Array  # (p, p)
    phi: Array  # (p, k)
    n_samples: int | None  # Monte Carlo M, None for a closed form


@dataclass(frozen=True)
class MonteCarloCovariances:
    full: Covariances
    halves: tuple[Covariances, Covariances]

    @property
    def relative_spread(self) -> float:
        """|Omega_a - Omega_b|_F / |Omega|_F: the statistical noise of the estimate, as a number."""
        a, b = self.halves
        return float(np.linalg.norm(a.omega - b.omega) / np.linalg.norm(self.full.omega))


def regression_estimate(omega: Array, phi: Array, sample_psi: Array, known_psi: Array) -> tuple[Array, Array]:
    """(Omega_reg, Phi_reg) from the sample moments and the known latent covariance (module docstring)."""
    slope = np.linalg.solve(sample_psi, phi.T).T  # B_hat = Phi_hat Psi_hat^{-1} (Psi_hat symmetric)
    correction = slope @ (known_psi - sample_psi) @ slope.T
    omega_reg = omega + 0.5 * (correction + correction.T)
    return omega_reg, slope @ known_psi


class _Accumulator:
    def __init__(self, p: int, k: int) -> None:
        self.second = np.zeros((p, p), order="F")  # upper triangle of sum phi phi^T
        self.cross = np.zeros((p, k))
        self.latent = np.zeros((k, k))  # sum c c^T
        self.count = 0

    def add(self, features: Array, latents: Array) -> None:
        # dsyrk on the Fortran view of the C-ordered (B, p) chunk computes features^T features.
        self.second = dsyrk(1.0, features.T, beta=1.0, c=self.second, trans=0, lower=0, overwrite_c=1)
        self.cross += features.T @ latents
        self.latent += latents.T @ latents
        self.count += features.shape[0]

    def covariances(self, known_psi: Array | None = None) -> Covariances:
        upper = np.triu(self.second)
        omega = (upper + np.triu(upper, 1).T) / self.count
        phi = self.cross / self.count
        if known_psi is not None:
            omega, phi = regression_estimate(omega, phi, self.latent / self.count, known_psi)
        return Covariances(omega=omega, phi=phi, n_samples=self.count)

    def merged(self, other: "_Accumulator", known_psi: Array | None = None) -> Covariances:
        both = _Accumulator(0, 0)
        both.second = self.second + other.second
        both.cross = self.cross + other.cross
        both.latent = self.latent + other.latent
        both.count = self.count + other.count
        return both.covariances(known_psi)


def monte_carlo_covariances(task: Task, feature_map: FeatureMap, n_samples: int, rng: np.random.Generator,
                            chunk_size: int = 2048, progress=None, control_variate: bool = True) -> MonteCarloCovariances:
    """Omega, Phi from ``n_samples`` fresh target samples; the first and second halves kept apart.
    With ``control_variate`` (the default) the known Psi = I corrects the sample moments (module
    docstring); without it they are the plain sample moments."""
    chunks = ((latents, feature_map(inputs)) for latents, inputs, _ in task.sample_chunks(n_samples, rng, chunk_size))
    known_psi = np.eye(task.latent_dim) if control_variate else None
    return sample_covariances(chunks, feature_map.dim, task.latent_dim, n_samples, progress, known_psi)


def sample_covariances(chunks: Iterable[tuple[Array, Array]], p: int, k: int, n_samples: int,
                       progress=None, known_psi: Array | None = None) -> MonteCarloCovariances:
    """Omega = mean phi phi^T and Phi = mean phi c^T over ``n_samples`` (latent c, features phi) pairs
    given in chunks; the first n_samples // 2 and the rest are also kept apart as two halves. With
    ``known_psi`` = E[c c^T] each of the three is the regression estimate (module docstring)."""
    halves = (_Accumulator(p, k), _Accumulator(p, k))
    first_half = n_samples // 2
    done = 0
    for latents, features in chunks:
        split = min(max(first_half - done, 0), latents.shape[0])
        if split:
            halves[0].add(features[:split], latents[:split])
        if split < latents.shape[0]:
            halves[1].add(features[split:], latents[split:])
        done += latents.shape[0]
        if progress is not None:
            progress(done, n_samples)
    return MonteCarloCovariances(full=halves[0].merged(halves[1], known_psi),
                                 halves=(halves[0].covariances(known_psi), halves[1].covariances(known_psi)))


def linear_covariances(task: Task) -> Covariances:
    """Closed-form Omega, Phi of the centred raw inputs (see the module docstring)."""
    variances = input_variances(task)
    moments = gaussian_moments(task.activation, variances)
    slope = moments.slope
    scaled = task.features * slope[None, :] / np.sqrt(task.latent_dim)  # (D, N): columns b_i F_i / sqrt(D)
    omega = scaled.T @ scaled
    variance = moments.second - moments.mean**2
    omega[np.diag_indices_from(omega)] += variance - slope**2 * variances
    return Covariances(omega=omega, phi=scaled.T.copy(), n_samples=None)
