"""Population covariances of features and latent vector (MODEL.md section 4).

Omega = E[phi phi^T] (p x p) and Phi = E[phi c^T] (p x k) of the centred features phi on the
target task. Monte Carlo accumulates in chunks (memory independent of M) and keeps the two halves
of the sample apart, so that the spectrum of each half can be solved too: their spread and their
distance from the full estimate give the Monte Carlo error of the theory (``learning_curve.py``).

For ``linear`` a closed form follows from Gaussian equivalence. With u_i = F_i^T c / sqrt(D) of
variance v_i = |F_i|^2 / D, b_i = E[sigma'(u_i)] and s_i = Var sigma(u_i):
    Phi = diag(b) F^T / sqrt(D)                        (exact, by Stein's lemma)
    Omega = diag(b) (F^T F / D) diag(b) + diag(s - b^2 v)  (exact diagonal, first-order off-diagonal)
For v_i = 1 this is MODEL.md's kappa_1^2 F^T F / D + kappa_*^2 I (centred, so no kappa_0 term);
using each input's actual v_i removes the O(1/sqrt(D)) mismatch of finite-D column norms.
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


class _Accumulator:
    def __init__(self, p: int, k: int) -> None:
        self.second = np.zeros((p, p), order="F")  # upper triangle of sum phi phi^T
        self.cross = np.zeros((p, k))
        self.count = 0

    def add(self, features: Array, latents: Array) -> None:
        # dsyrk on the Fortran view of the C-ordered (B, p) chunk computes features^T features.
        self.second = dsyrk(1.0, features.T, beta=1.0, c=self.second, trans=0, lower=0, overwrite_c=1)
        self.cross += features.T @ latents
        self.count += features.shape[0]

    def covariances(self, n_samples: int | None = None) -> Covariances:
        upper = np.triu(self.second)
        omega = (upper + np.triu(upper, 1).T) / self.count
        return Covariances(omega=omega, phi=self.cross / self.count, n_samples=n_samples or self.count)

    def merged(self, other: "_Accumulator") -> Covariances:
        both = _Accumulator(0, 0)
        both.second = self.second + other.second
        both.cross = self.cross + other.cross
        both.count = self.count + other.count
        return both.covariances()


def monte_carlo_covariances(task: Task, feature_map: FeatureMap, n_samples: int, rng: np.random.Generator,
                            chunk_size: int = 2048, progress=None) -> MonteCarloCovariances:
    """Omega, Phi from ``n_samples`` fresh target samples; the first and second halves kept apart."""
    chunks = ((latents, feature_map(inputs)) for latents, inputs, _ in task.sample_chunks(n_samples, rng, chunk_size))
    return sample_covariances(chunks, feature_map.dim, task.latent_dim, n_samples, progress)


def sample_covariances(chunks: Iterable[tuple[Array, Array]], p: int, k: int, n_samples: int,
                       progress=None) -> MonteCarloCovariances:
    """Omega = mean phi phi^T and Phi = mean phi c^T over ``n_samples`` (latent c, features phi) pairs
    given in chunks; the first n_samples // 2 and the rest are also kept apart as two halves."""
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
    return MonteCarloCovariances(full=halves[0].merged(halves[1]),
                                 halves=(halves[0].covariances(), halves[1].covariances()))


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
