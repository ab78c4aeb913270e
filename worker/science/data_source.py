"""Where a learning curve's data come from: what the orchestrator (``curve_orchestrator``) asks of a synthetic
task pair (``synthetic_source.SyntheticSource``) and of a pair of split datasets
(``dataset_source.DatasetSplitSource``), and how a request picks one.

A data source owns the samples and the statistics of the data: the source network's training set and
test samples, the centring of the readout features on the target, the spectra the theory solves, and
the simulation's target samples. It trains nothing and caches nothing: the source network, the stages,
the artifacts, progress and the result are the orchestrator's, the same for every source.
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.datasets import DatasetSource, DatasetTarget
from tlprobe.contract.learning_curve import DataSummary, LearningCurveRequest, NetworkParams, Source

from .data import Dataset
from .dataset_source import DatasetSplitSource
from .features import FeatureMap
from .invalid_spec import InvalidSpec
from .simulate import TargetSamples
from .synthetic_source import SyntheticSource

Array = np.ndarray


class DataSource(typing.Protocol):
    spec: LearningCurveRequest
    #: the name of the solved curve, its stage and its lambda's origin: "theory" or "gaussian_equivalent"
    theory_kind: str
    #: the meta entry that records how the spectra were estimated ("monte_carlo", "gaussian_equivalent")
    covariance_estimates: str
    #: the source's entries in the result's ``meta.numerics``
    numerics: dict[str, Any]
    #: p of the target labels in the solved curve: the labels' flip probability (MODEL.md section 8)
    label_noise: float

    @property
    def input_dim(self) -> int: ...

    @property
    def target_latent_dim(self) -> int | None: ...

    def source_training_set(self, n_samples: int) -> tuple[Array, Array]:
        """(inputs, labels) the source network trains on: the first ``n_samples`` of a fixed order, so
        that the sets of different n_s are nested."""

    def source_test_chunks(self) -> Iterator[tuple[Array, Array]]:
        """(inputs, labels) chunks on which the source test error is counted."""

    def feature_mean_key(self, protocol: Protocol, feature_map: FeatureMap) -> str | None:
        """The artifact key of the map's centring vector, or None when it is not worth storing."""

    def centred(self, feature_map: FeatureMap) -> FeatureMap:
        """The map with its mean on the target subtracted."""

    def spectra_key(self, protocol: Protocol) -> str:
        """The artifact key of the protocol's spectra: everything that determines them."""

    def spectra(self, protocol: Protocol, feature_map: FeatureMap, progress: Callable[[int, int], None]
                ) -> dict[str, Array]:
        """The spectra the theory solves (``theory_curve.spectrum_arrays``), with the two halves'
        spectra and ``relative_spread`` when estimated from samples."""

    @property
    def covariance_samples(self) -> int:
        """How many samples estimate the spectra (where they are estimated)."""

    def target_samples(self) -> TargetSamples:
        """The simulation's target samples, per simulation seed and n_t."""

    def data_summary(self) -> DataSummary | None:
        """How the data were used (datasets: splits, standardisation, linear teacher)."""


def data_source(spec: LearningCurveRequest, datasets: Mapping[str, Dataset] | None = None) -> DataSource:
    """The data source of ``spec``: its synthetic tasks, or the datasets it names, taken from ``datasets``
    (by id; the caller loads them)."""
    if not spec.uses_datasets:
        return SyntheticSource(spec)
    missing = [dataset_id for dataset_id in spec.dataset_ids if dataset_id not in (datasets or {})]
    if missing:
        raise InvalidSpec("source", f"no arrays were handed in for dataset {missing[0]}")
    return DatasetSplitSource(spec, datasets[spec.source.dataset], datasets[spec.target.dataset])


def source_network_data(source: Source, network: NetworkParams,
                        datasets: Mapping[str, Dataset] | None = None) -> DataSource:
    """The data source of a source network trained alone (a phase diagram's shared network): a learning
    curve with this source and network, whose network artifact it is (the target plays no part)."""
    if isinstance(source, DatasetSource):
        spec = LearningCurveRequest(source=source, target=DatasetTarget(dataset=source.dataset), network=network,
                                    theory=None)
    else:
        spec = LearningCurveRequest(source=source, network=network, simulation=None)
    return data_source(spec, datasets)
