"""The Gaussian-equivalent model of a target dataset (MODEL.md section 7), an approximation labelled as
such in the result (``gaussian_equivalent``, with its gap to the simulation).

The teacher acts on the centred standardised target inputs c = x - E[x] (k = N), and is the
least-squares linear rule theta that best fits the labels on the whole target set,
y ~ theta . c / sqrt(N) (``linear_teacher``). The GCM then takes Omega = E[phi phi^T], Phi = E[phi c^T]
and rho = theta^T Psi theta / N with Psi = E[c c^T], all estimated on the target set.

The covariances come from at most ``theory.mc_samples`` target samples, in an order drawn from
``theory.seed``; their two halves give the estimate's error (``theory_curve``). Features are centred by
their mean over the whole target set, the same vector as in the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest

from .artifacts import artifact_key
from .covariances import sample_covariances
from .data import Dataset, ordered_chunks
from .features import READOUT_FEATURES, FeatureMap
from .gcm.spectrum import reduce_to_spectrum
from .theory_curve import spectrum_arrays

Array = np.ndarray


@dataclass(frozen=True)
class LinearTeacher:
    """The least-squares linear rule on the centred inputs c, and how well it explains the labels."""

    theta: Array  # (N,)
    centre: Array  # (N,) E[x] over the target set
    fit_error: float  # fraction of the target labels that sign(theta . c) gets wrong

    def latents(self, inputs: Array) -> Array:
        return inputs - self.centre


def linear_teacher(target: Dataset) -> LinearTeacher:
    centre = target.inputs.mean(axis=0)
    latents = target.inputs - centre
    scaled = latents / np.sqrt(target.input_dim)
    theta = np.linalg.lstsq(scaled, target.labels, rcond=None)[0]
    fit_error = float(np.mean(np.where(latents @ theta >= 0, 1.0, -1.0) != target.labels))
    return LinearTeacher(theta=theta, centre=centre, fit_error=fit_error)



def gaussian_equivalent_spectra(feature_map: FeatureMap, target: Dataset, teacher: LinearTeacher, samples: int,
                                rng: np.random.Generator, progress=None) -> dict[str, np.ndarray]:
    """Spectra of the Gaussian-equivalent model on ``samples`` target samples in a seeded order, and on
    their two halves (the arrays ``theory_curve.theory_curve`` solves)."""
    order = rng.permutation(target.samples)[:samples]
    n_inputs = target.input_dim
    chunks = ((teacher.latents(inputs), feature_map(inputs)) for inputs in ordered_chunks(target, order, samples))
    estimate = sample_covariances(chunks, feature_map.dim, n_inputs, samples, progress)
    fields = teacher.latents(target.inputs[order]) @ teacher.theta
    half = samples // 2
    rhos = (np.mean(fields**2), np.mean(fields[:half] ** 2), np.mean(fields[half:] ** 2))
    arrays: dict[str, np.ndarray] = {"relative_spread": np.array(estimate.relative_spread)}
    for label, cov, rho in zip(("", "_a", "_b"), (estimate.full, *estimate.halves), rhos):
        spectrum = reduce_to_spectrum(cov.omega, cov.phi, teacher.theta, float(rho) / n_inputs)
        arrays.update(spectrum_arrays(spectrum, label))
    return arrays


def gaussian_equivalent_key(spec: LearningCurveRequest, protocol: Protocol) -> str:
    """What determines the model: the source (standardisation; the network for tf), the target set (all
    of it), the feature map, and which samples estimate the covariances."""
    return artifact_key("gaussian_equivalent", source=spec.source, target=spec.target.dataset,
                        features=READOUT_FEATURES[protocol].dependencies(spec),
                        samples={"mc_samples": spec.theory.mc_samples, "seed": spec.theory.seed})
