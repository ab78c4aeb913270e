"""Real data (MODEL.md section 7): a labelled dataset, its seeded split, standardisation, and the samples
a simulation draws from it (its Gaussian-equivalent model: ``gaussian_equivalent``).

Split: a permutation of the n samples from (the reference's seed, ``Stream.DATASET_SPLIT``); its
first ``held_out(n, test_fraction)`` entries are the held-out split, the rest, in that order, the
training split. The source network trains on the first n_s samples of the source's training split.
A simulation seed draws its n_t training samples as the first n_t of a permutation of the target's
training split (from the simulation seed, ``Stream.SIM_TRAIN_DATA``), so they are nested in alpha,
and tests on the first ``test_samples`` of the target's held-out split (the same for every seed).

Standardisation: x -> (x - mean) / scale, with the per-feature mean and standard deviation of the
*source training split* (all of it, whatever n_s), the same map for the source and the target and
for every protocol. A feature constant on that split (max = min) is centred but not scaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from tlprobe.contract.datasets import held_out

from .invalid_spec import InvalidSpec
from .seeding import Stream, generator

Array = np.ndarray
CHUNK = 2048


@dataclass(frozen=True)
class Dataset:
    inputs: Array  # (n, N) float64
    labels: Array  # (n,) float64 in {-1, +1}

    @classmethod
    def checked(cls, inputs: Array, labels: Array, name: str = "dataset") -> "Dataset":
        """Validate arrays handed to the engine (shapes, finite values, labels +-1)."""
        inputs = np.asarray(inputs, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64)
        if inputs.ndim != 2 or labels.shape != (inputs.shape[0],):
            raise InvalidSpec(name, f"inputs must be n x N and labels n, got {inputs.shape} and {labels.shape}")
        if not np.all(np.isfinite(inputs)):
            raise InvalidSpec(name, "inputs contain NaN or infinite values")
        if not np.all(np.abs(labels) == 1.0):
            raise InvalidSpec(name, "labels must be -1 or +1")
        return cls(inputs, labels)

    @property
    def samples(self) -> int:
        return self.inputs.shape[0]

    @property
    def input_dim(self) -> int:
        return self.inputs.shape[1]

    def subset(self, index: Array) -> "Dataset":
        return Dataset(self.inputs[index], self.labels[index])


def split(dataset: Dataset, test_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """(training split, held-out split), both in the seeded order (see the module docstring)."""
    order = generator(seed, Stream.DATASET_SPLIT).permutation(dataset.samples)
    test = held_out(dataset.samples, test_fraction)
    return dataset.subset(order[test:]), dataset.subset(order[:test])


@dataclass(frozen=True)
class Standardisation:
    mean: Array  # (N,)
    scale: Array  # (N,), 1 where the feature is constant
    constant: Array  # (N,) bool

    @classmethod
    def fit(cls, inputs: Array) -> "Standardisation":
        constant = inputs.max(axis=0) == inputs.min(axis=0)
        return cls(mean=inputs.mean(axis=0), scale=np.where(constant, 1.0, inputs.std(axis=0)), constant=constant)

    def __call__(self, dataset: Dataset) -> Dataset:
        return Dataset((dataset.inputs - self.mean) / self.scale, dataset.labels)


@dataclass(frozen=True)
class SplitSamples:
    """A simulation's samples from a split target dataset (see the module docstring)."""

    pool: Dataset  # training split
    test: Dataset  # held-out split
    test_samples: int

    @property
    def input_dim(self) -> int:
        return self.pool.input_dim

    def test_set(self, seed: int) -> tuple[Array, Array]:
        return self.test.inputs[:self.test_samples], self.test.labels[:self.test_samples]

    def training_set(self, seed: int, n: int) -> tuple[Array, Array]:
        if n > self.pool.samples:
            raise InvalidSpec("alphas", f"n_t = {n} exceeds the {self.pool.samples} samples of the training split")
        chosen = generator(seed, Stream.SIM_TRAIN_DATA).permutation(self.pool.samples)[:n]
        return self.pool.inputs[chosen], self.pool.labels[chosen]


def ordered_chunks(dataset: Dataset, order: Array, limit: int, chunk: int = CHUNK) -> Iterator[Array]:
    """The inputs of the first ``limit`` samples in ``order``, in chunks (bounded memory)."""
    for start in range(0, limit, chunk):
        yield dataset.inputs[order[start:min(start + chunk, limit)]]
