"""The dataset data source of a learning curve (MODEL.md section 7): a source and a target dataset handed
in as arrays by the caller, split and standardised by the rules of ``data``.

  source network   the first n_s samples of the source's training split; its error on the first
                   ``network.test_samples`` of the source's held-out split
  feature centring the map's mean over the target's training split (the same vector in model and simulation)
  covariances      the Gaussian-equivalent model estimated on the target's training split
                   (``gaussian_equivalent``), kept as the ``gaussian_equivalent`` artifact
  simulation       seeded orders of the target's training split, tested on the first
                   ``simulation.test_samples`` of its held-out split (``data.SplitSamples``)
Inputs are standardised with the per-feature mean and standard deviation of the source's training split,
the same map for source and target. Nothing of the target's held-out split enters anything but the test
errors: centring, teacher, covariances and every hyperparameter come from its training split. The
target's parts are worked out when first asked for, so a source
network trained alone (``source_network.ensure_source_network``) reads only the source.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Callable, Iterator

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import DataSummary, LearningCurveRequest, SplitSummary

from .data import Dataset, SplitSamples, Standardisation, ordered_chunks, split
from .features import FeatureMap
from .gaussian_equivalent import (
    LinearTeacher,
    cross_validated_fit_error,
    gaussian_equivalent_key,
    gaussian_equivalent_spectra,
    linear_teacher,
    teacher_fit_note,
)
from .invalid_spec import InvalidSpec
from .json_safe import finite_or_none
from .seeding import Stream, generator

Array = np.ndarray


def centred_on(feature_map: FeatureMap, data: Dataset) -> FeatureMap:
    """The map with its mean over ``data`` subtracted (computed in chunks)."""
    total = np.zeros(feature_map.dim)
    for inputs in ordered_chunks(data, np.arange(data.samples), data.samples):
        total += feature_map.raw(inputs).sum(axis=0)
    return replace(feature_map, mean=total / data.samples)


def _split_summary(dataset_id: str, data: Dataset, pool: Dataset, test: Dataset, used: int) -> SplitSummary:
    return SplitSummary(dataset=dataset_id, samples=data.samples, training_split=pool.samples, held_out=test.samples,
                        test_samples=used)


class DatasetSplitSource:
    """A source and a target dataset, split, as a learning curve's data source (``data_source.DataSource``)."""

    theory_kind = "gaussian_equivalent"
    covariance_estimates = "gaussian_equivalent"
    numerics = {"standardisation": "per-feature mean and standard deviation of the source training split"}
    target_latent_dim = None
    label_noise = 0.0  # the Gaussian-equivalent model's labels are its linear teacher's signs

    def __init__(self, spec: LearningCurveRequest, source_data: Dataset, target_data: Dataset) -> None:
        if not spec.uses_datasets:
            raise InvalidSpec("source", "a learning curve on datasets needs {\"dataset\": ID} as source and target")
        if target_data.input_dim != source_data.input_dim:
            raise InvalidSpec("target.dataset",
                              f"N = {target_data.input_dim} differs from the source's N = {source_data.input_dim}")
        self.spec, self.source_data, self.target_data = spec, source_data, target_data
        pool, test = split(source_data, spec.source.test_fraction, spec.source.seed)
        self.standardise = Standardisation.fit(pool.inputs)
        self.source_pool, self.source_test = self.standardise(pool), self.standardise(test)
        if spec.network.n_samples > self.source_pool.samples:
            raise InvalidSpec("network.n_samples", f"{spec.network.n_samples} exceeds the {self.source_pool.samples} "
                                                   "samples of the source training split")

    @property
    def input_dim(self) -> int:
        return self.source_data.input_dim

    @cached_property
    def target(self) -> Dataset:
        """The whole target set, standardised."""
        return self.standardise(self.target_data)

    @cached_property
    def target_split(self) -> tuple[Dataset, Dataset]:
        """(training split, held-out split) of the standardised target set."""
        return split(self.target, self.spec.target.test_fraction, self.spec.target.seed)

    @cached_property
    def teacher(self) -> LinearTeacher:
        """The least-squares teacher of the training split."""
        return linear_teacher(self.target_split[0])

    @property
    def source_test_samples(self) -> int:
        return min(self.spec.network.test_samples, self.source_test.samples)

    @property
    def target_test_samples(self) -> int:
        simulation = self.spec.simulation
        return 0 if simulation is None else min(simulation.test_samples, self.target_split[1].samples)

    # --- the source network's data ---------------------------------------------------------
    def source_training_set(self, n_samples: int) -> tuple[Array, Array]:
        return self.source_pool.inputs[:n_samples], self.source_pool.labels[:n_samples]

    def source_test_chunks(self) -> Iterator[tuple[Array, Array]]:
        used = self.source_test_samples
        yield self.source_test.inputs[:used], self.source_test.labels[:used]

    # --- readout features on the target ----------------------------------------------------
    def feature_mean_key(self, protocol: Protocol, feature_map: FeatureMap) -> None:
        """The mean over the target set is computed, not stored."""
        return None

    def centred(self, feature_map: FeatureMap) -> FeatureMap:
        return centred_on(feature_map, self.target_split[0])

    def spectra_key(self, protocol: Protocol) -> str:
        return gaussian_equivalent_key(self.spec, protocol)

    def spectra(self, protocol: Protocol, feature_map: FeatureMap, progress: Callable[[int, int], None]
                ) -> dict[str, Array]:
        return gaussian_equivalent_spectra(feature_map, self.target_split[0], self.teacher, self.covariance_samples,
                                           generator(self.spec.theory.seed, Stream.MC_COVARIANCE), progress=progress)

    @property
    def covariance_samples(self) -> int:
        return min(self.spec.theory.mc_samples, self.target_split[0].samples)

    # --- the simulation's samples, and the result's account of the data ---------------------
    def target_samples(self) -> SplitSamples:
        pool, test = self.target_split
        return SplitSamples(pool, test, self.target_test_samples)

    def data_summary(self) -> DataSummary:
        spec, (pool, test) = self.spec, self.target_split
        return DataSummary(
            source=_split_summary(spec.source.dataset, self.source_data, self.source_pool, self.source_test,
                                  self.source_test_samples),
            target=_split_summary(spec.target.dataset, self.target_data, pool, test, self.target_test_samples),
            input_dim=self.input_dim,
            largest_alpha=pool.samples / self.input_dim,
            constant_features=int(np.sum(self.standardise.constant)),
            teacher_fit_error=None if spec.theory is None else finite_or_none(cross_validated_fit_error(
                pool, spec.tuning.folds, generator(spec.target.seed, Stream.TEACHER_FOLDS))),
            teacher_fit_note=None if spec.theory is None else teacher_fit_note(pool.samples, self.input_dim),
        )
