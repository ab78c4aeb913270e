"""The Gaussian-equivalent model of a target dataset (MODEL.md section 7), an approximation labelled as
such in the result (``gaussian_equivalent``, with its gap to the simulation).

Everything here is fitted on the target's **training split** only: no label (nor input) of the held-out
split, on which every protocol is tested, enters the model or any choice made with it. The teacher acts
on the centred standardised inputs c = x - E[x] (k = N, E over the training split), and is the
least-squares linear rule theta that best fits the training split's labels, y ~ theta . c / sqrt(N)
(``linear_teacher``). The GCM then takes Omega = E[phi phi^T], Phi = E[phi c^T] and
rho = theta^T Psi theta / N with Psi = E[c c^T], all estimated on the training split.

How well a linear rule explains the labels is measured out of sample (``cross_validated_fit_error``):
the teacher fitted on k - 1 folds of the training split misclassifies this share of the last fold.
With fewer than ``MIN_TEACHER_SAMPLES_PER_INPUT`` samples per input the least-squares fit is close to
interpolating (its prediction variance is sigma^2 N / (n - N - 1), as large as the labels' own residual
at n = 2N), and the result says so (``teacher_fit_note``).

The covariances come from at most ``theory.mc_samples`` training samples, in an order drawn from
``theory.seed``; their two halves give the estimate's error (``theory_curve``). Features are centred by
their mean over the training split, the same vector as in the simulation.
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
from .readout import fold_assignment
from .theory_curve import spectrum_arrays

Array = np.ndarray
#: below this many training samples per input the least-squares teacher says little (module docstring)
MIN_TEACHER_SAMPLES_PER_INPUT = 2.0


@dataclass(frozen=True)
class LinearTeacher:
    """The least-squares linear rule on the centred inputs c (fitted on the training split)."""

    theta: Array  # (N,)
    centre: Array  # (N,) E[x] over the training split

    def latents(self, inputs: Array) -> Array:
        return inputs - self.centre

    def wrong(self, inputs: Array, labels: Array) -> int:
        """Labels that sign(theta . c) gets wrong (sign(0) = +1)."""
        return int(np.sum(np.where(self.latents(inputs) @ self.theta >= 0, 1.0, -1.0) != labels))


def linear_teacher(training: Dataset) -> LinearTeacher:
    """The least-squares rule on ``training`` (the minimum-norm one when it has fewer samples than inputs)."""
    centre = training.inputs.mean(axis=0)
    scaled = (training.inputs - centre) / np.sqrt(training.input_dim)
    theta = np.linalg.lstsq(scaled, training.labels, rcond=None)[0]
    return LinearTeacher(theta=theta, centre=centre)


def cross_validated_fit_error(training: Dataset, folds: int, rng: np.random.Generator) -> float:
    """The share of ``training``'s labels that the teacher fitted on the other folds gets wrong (each
    sample predicted once, by the rule fitted without it)."""
    assignment = fold_assignment(training.samples, folds, rng)
    wrong = 0
    for fold in range(int(assignment.max()) + 1):
        fit, held = assignment != fold, assignment == fold
        if not fit.any():
            continue
        teacher = linear_teacher(training.subset(np.flatnonzero(fit)))
        wrong += teacher.wrong(training.inputs[held], training.labels[held])
    return wrong / training.samples


def teacher_fit_note(samples: int, input_dim: int) -> str | None:
    """What to make of the teacher's fit with ``samples`` training samples of ``input_dim`` inputs."""
    if samples >= MIN_TEACHER_SAMPLES_PER_INPUT * input_dim:
        return None
    return (f"the target's training split has {samples} samples for N = {input_dim} inputs "
            f"(n / N = {samples / input_dim:.3g} < {MIN_TEACHER_SAMPLES_PER_INPUT:g}): the least-squares teacher is "
            "close to interpolating them, so its fit error says little about how linear the labels are, and the "
            "Gaussian-equivalent model built on it little about the data")


def gaussian_equivalent_spectra(feature_map: FeatureMap, target: Dataset, teacher: LinearTeacher, samples: int,
                                rng: np.random.Generator, progress=None) -> dict[str, np.ndarray]:
    """Spectra of the Gaussian-equivalent model on ``samples`` samples of ``target`` (the training split)
    in a seeded order, and on their two halves (the arrays ``theory_curve.theory_curve`` solves)."""
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
    """What determines the model: the source (standardisation; the network for tf), the target's training
    split (the dataset and its split), the feature map, and which samples estimate the covariances."""
    return artifact_key("gaussian_equivalent", source=spec.source, target=spec.target,
                        features=READOUT_FEATURES[protocol].dependencies(spec),
                        samples={"mc_samples": spec.theory.mc_samples, "seed": spec.theory.seed})
