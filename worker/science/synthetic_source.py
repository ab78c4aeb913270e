"""The synthetic data source of a learning curve (MODEL.md sections 1-4): the source and target tasks of
the hidden manifold model (``chmm``), sampled fresh from the request's seeds, and the GCM theory.

  source network   n_s fresh source samples (``network.seed``), its test error on ``network.test_samples``
                   further fresh ones, counted in chunks (bounded memory)
  feature centring the population mean on the target task (``features.centred``): zero for an odd map,
                   quadrature for linear, otherwise Monte Carlo, kept as the ``feature_mean`` artifact
  covariances      Omega, Phi of the target task: Monte Carlo from ``theory.seed`` for tf / rf (two halves
                   kept apart), closed form for linear (``covariances``); kept as the ``spectra`` artifact
  simulation       fresh target samples per simulation seed (``simulate.TaskSamples``)
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable, Iterator

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest, TargetParams

from .artifacts import artifact_key
from .chmm import Task, make_source, make_target
from .covariances import linear_covariances, monte_carlo_covariances
from .features import MEAN_SAMPLES, READOUT_FEATURES, FeatureMap, centred, is_odd
from .gcm.spectrum import reduce_to_spectrum
from .invalid_spec import InvalidSpec
from .seeding import Stream, generator
from .simulate import TaskSamples
from .theory_curve import spectrum_arrays

Array = np.ndarray


def target_inputs(target: TargetParams) -> TargetParams:
    """The part of the target that determines its inputs and its teacher: all but its label noise (the
    flips touch only the labels, which neither the covariances nor the feature means see)."""
    return target.model_copy(update={"label_noise": 0.0})


def spectra_key(spec: LearningCurveRequest, protocol: Protocol) -> str:
    """What determines a protocol's spectra: source, target (but its label noise), the feature map, and the
    Monte Carlo samples."""
    features = READOUT_FEATURES[protocol]
    monte_carlo = {"mc_samples": spec.theory.mc_samples, "seed": spec.theory.seed} if features.monte_carlo else {}
    return artifact_key("spectra", source=spec.source, target=target_inputs(spec.target),
                        features=features.dependencies(spec), monte_carlo=monte_carlo)


class SyntheticSource:
    """A synthetic task pair as a learning curve's data source (``data_source.DataSource``)."""

    theory_kind = "theory"
    covariance_estimates = "monte_carlo"
    numerics = {"feature_mean_samples": MEAN_SAMPLES}

    def __init__(self, spec: LearningCurveRequest) -> None:
        if spec.uses_datasets:
            raise InvalidSpec("source", "a synthetic learning curve needs the synthetic source and target parameters")
        self.spec = spec

    @cached_property
    def source_task(self) -> Task:
        return make_source(self.spec.source)

    @cached_property
    def target_task(self) -> Task:
        return make_target(self.source_task, self.spec.target)

    @property
    def input_dim(self) -> int:
        return self.spec.source.input_dim

    @property
    def label_noise(self) -> float:
        return self.spec.target.label_noise

    @property
    def target_latent_dim(self) -> int:
        return self.target_task.latent_dim

    # --- the source network's data ---------------------------------------------------------
    def source_training_set(self, n_samples: int) -> tuple[Array, Array]:
        seed = self.spec.network.seed
        _, inputs, labels = self.source_task.sample(n_samples, generator(seed, Stream.SOURCE_TRAIN_DATA),
                                                    generator(seed, Stream.LABEL_FLIPS, Stream.SOURCE_TRAIN_DATA))
        return inputs, labels

    def source_test_chunks(self) -> Iterator[tuple[Array, Array]]:
        seed = self.spec.network.seed
        rng, flips = generator(seed, Stream.SOURCE_TEST_DATA), generator(seed, Stream.LABEL_FLIPS, Stream.SOURCE_TEST_DATA)
        for _, inputs, labels in self.source_task.sample_chunks(self.spec.network.test_samples, rng, flips=flips):
            yield inputs, labels

    # --- readout features on the target ----------------------------------------------------
    def feature_mean_key(self, protocol: Protocol, feature_map: FeatureMap) -> str | None:
        """The key of the Monte Carlo feature mean; None where the mean is exact (odd map, or linear)."""
        if is_odd(feature_map, self.target_task) or feature_map.weights is None:
            return None
        spec = self.spec
        return artifact_key("feature_mean", source=spec.source, target=target_inputs(spec.target),
                            features=READOUT_FEATURES[protocol].dependencies(spec), samples=MEAN_SAMPLES)

    def centred(self, feature_map: FeatureMap) -> FeatureMap:
        return centred(feature_map, self.target_task, rng=generator(self.spec.target.seed, Stream.FEATURE_MEAN))

    def spectra_key(self, protocol: Protocol) -> str:
        return spectra_key(self.spec, protocol)

    def spectra(self, protocol: Protocol, feature_map: FeatureMap, progress: Callable[[int, int], None]
                ) -> dict[str, Array]:
        target, theory = self.target_task, self.spec.theory
        if not READOUT_FEATURES[protocol].monte_carlo:
            cov = linear_covariances(target)
            return spectrum_arrays(reduce_to_spectrum(cov.omega, cov.phi, target.teacher), "")
        estimate = monte_carlo_covariances(target, feature_map, theory.mc_samples,
                                           generator(theory.seed, Stream.MC_COVARIANCE), progress=progress)
        arrays: dict[str, Array] = {"relative_spread": np.array(estimate.relative_spread)}
        for label, cov in (("", estimate.full), ("_a", estimate.halves[0]), ("_b", estimate.halves[1])):
            arrays.update(spectrum_arrays(reduce_to_spectrum(cov.omega, cov.phi, target.teacher), label))
        return arrays

    @property
    def covariance_samples(self) -> int:
        return self.spec.theory.mc_samples

    # --- the simulation's samples, and the result's account of the data ---------------------
    def target_samples(self) -> TaskSamples:
        return TaskSamples(self.target_task, self.spec.simulation.test_samples)

    def data_summary(self) -> None:
        """Nothing to account for: every sample is drawn fresh."""
        return None
