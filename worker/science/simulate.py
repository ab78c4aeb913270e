"""Finite-size simulations on the target task (MODEL.md section 3).

For every simulation seed: one test set, and for every alpha the first n_t = round(alpha N)
samples of the seed's training stream (so the training sets are nested in alpha). Where samples come
from is a ``TargetSamples``: fresh draws of the synthetic task (``TaskSamples``), or a dataset's
held-out split and seeded orders of its training split (``data.SplitSamples``). All protocols see
the same samples for a given seed and alpha, which pairs their errors.
Readout protocols fit the l2 readout on their (centred) features; ``scratch`` trains the two-layer
network from a seeded random initialisation with its own settings (``ScratchParams``); ``finetune``
probes then fine-tunes the source network (``finetune.finetune``, ``FinetuneParams``). Neither
inherits the source network's optimiser settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from tlprobe.contract.learning_curve import FinetuneParams, ScratchParams, target_samples

from .chmm import Task
from .features import FeatureMap
from .finetune import finetune
from .network import TwoLayerNetwork, initial_network, train_network
from .readout import CV_GRID, best_regularisation, cross_validation_errors, fit_readout
from .seeding import Stream, generator

Array = np.ndarray
ProgressFn = Callable[[int, int], None]


def sample_sizes(alphas: Sequence[float], input_dim: int) -> list[int]:
    """n_t = round(alpha N), at least 1 (``target_samples``)."""
    return [target_samples(alpha, input_dim) for alpha in alphas]


class TargetSamples(Protocol):
    """Where a simulation's samples come from: (inputs, labels) pairs, reproducible from the seed."""

    @property
    def input_dim(self) -> int: ...

    def test_set(self, seed: int) -> tuple[Array, Array]: ...

    def training_set(self, seed: int, n: int) -> tuple[Array, Array]:
        """The first n samples of the seed's training order (nested in n)."""


@dataclass(frozen=True)
class TaskSamples:
    """Fresh samples of a synthetic task: ``test_samples`` per seed for testing. Labels carry the task's
    label noise in training and test sets alike (flips from their own streams)."""

    task: Task
    test_samples: int

    @property
    def input_dim(self) -> int:
        return self.task.input_dim

    def test_set(self, seed: int) -> tuple[Array, Array]:
        _, inputs, labels = self.task.sample(self.test_samples, generator(seed, Stream.SIM_TEST_DATA),
                                             generator(seed, Stream.LABEL_FLIPS, Stream.SIM_TEST_DATA))
        return inputs, labels

    def training_set(self, seed: int, n: int) -> tuple[Array, Array]:
        _, inputs, labels = self.task.sample(n, generator(seed, Stream.SIM_TRAIN_DATA),
                                             generator(seed, Stream.LABEL_FLIPS, Stream.SIM_TRAIN_DATA))
        return inputs, labels


@dataclass(frozen=True)
class ReadoutProtocol:
    feature_map: FeatureMap
    loss: str
    regularisation: Sequence[float]  # one lambda per alpha


@dataclass(frozen=True)
class ScratchProtocol:
    """A network of this shape (the source network's) from a seeded random start (stream SIM_NETWORK_INIT)."""

    hidden_units: int
    activation: str
    params: ScratchParams
    hidden_layers: int = 1


@dataclass(frozen=True)
class FinetuneProtocol:
    """Probe (the tf readout, at ``regularisation[a]`` for alpha a) and fine-tune ``source``."""

    source: TwoLayerNetwork
    features: FeatureMap  # the tf feature map: the probe's features and the network's centring
    regularisation: Sequence[float]  # one lambda per alpha
    params: FinetuneParams


@dataclass
class ProtocolSimulation:
    test_errors: Array  # (n_seeds, n_alphas)
    train_errors: Array  # (n_seeds, n_alphas)
    converged: Array  # (n_seeds, n_alphas) bool: optimiser's own convergence flag
    train_losses: Array | None = None  # readouts: mean training loss without penalty
    regularisation: list[float] | None = None
    epochs: Array | None = None  # (n_seeds, n_alphas) finetune: epochs of fine-tuning kept

    @property
    def mean(self) -> Array:
        return self.test_errors.mean(axis=0)

    @property
    def sem(self) -> Array:
        n_seeds = self.test_errors.shape[0]
        if n_seeds < 2:
            return np.full(self.test_errors.shape[1], np.nan)
        return self.test_errors.std(axis=0, ddof=1) / np.sqrt(n_seeds)


@dataclass
class _Results:
    shape: tuple[int, int]
    by_protocol: dict[str, ProtocolSimulation] = field(default_factory=dict)

    def slot(self, protocol: str, regularisation: Sequence[float] | None) -> ProtocolSimulation:
        if protocol not in self.by_protocol:
            readout = regularisation is not None
            self.by_protocol[protocol] = ProtocolSimulation(
                np.zeros(self.shape), np.zeros(self.shape), np.zeros(self.shape, dtype=bool),
                np.zeros(self.shape) if readout else None,
                [float(x) for x in regularisation] if readout else None)
        return self.by_protocol[protocol]


def cross_validated_regularisation(samples: TargetSamples, alphas: Sequence[float], seeds: Sequence[int],
                                    feature_maps: dict[str, FeatureMap], loss: str,
                                    progress: ProgressFn | None = None) -> dict[str, list[float]]:
    """Per protocol and alpha, the lambda of ``CV_GRID`` with the fewest held-out errors in k-fold
    cross-validation on the training sets of every seed, pooled: one lambda per alpha, as the theory
    gives. The training sets are the ones ``simulate`` fits (the same samples)."""
    sizes = sample_sizes(alphas, samples.input_dim)
    wrong = {name: np.zeros((len(sizes), len(CV_GRID))) for name in feature_maps}
    total, done = len(seeds) * len(sizes) * len(feature_maps), 0
    for seed in seeds:
        for a, n_train in enumerate(sizes):
            inputs, labels = samples.training_set(seed, n_train)
            for name, feature_map in feature_maps.items():
                wrong[name][a] += cross_validation_errors(feature_map(inputs), labels, loss,
                                                          generator(seed, Stream.CV_FOLDS, a))
                done += 1
                if progress:
                    progress(done, total)
    return {name: [best_regularisation(row) for row in table] for name, table in wrong.items()}


def simulate(samples: TargetSamples, alphas: Sequence[float], seeds: Sequence[int], *,
             readouts: dict[str, ReadoutProtocol], networks: dict[str, ScratchProtocol | FinetuneProtocol],
             progress: ProgressFn | None = None) -> dict[str, ProtocolSimulation]:
    """Test errors per protocol, seed and alpha."""
    sizes = sample_sizes(alphas, samples.input_dim)
    results = _Results((len(seeds), len(alphas)))
    total = len(seeds) * len(alphas) * (len(readouts) + len(networks))
    done = 0
    for s, seed in enumerate(seeds):
        test_inputs, test_labels = samples.test_set(seed)
        test_features = {name: proto.feature_map(test_inputs) for name, proto in readouts.items()}
        for a, n_train in enumerate(sizes):
            inputs, labels = samples.training_set(seed, n_train)
            for name, proto in readouts.items():
                features = proto.feature_map(inputs)
                readout = fit_readout(features, labels, proto.loss, proto.regularisation[a])
                slot = results.slot(name, proto.regularisation)
                slot.test_errors[s, a] = readout.error(test_features[name], test_labels)
                slot.train_errors[s, a] = readout.error(features, labels)
                slot.train_losses[s, a] = readout.mean_loss(features, labels, proto.loss)
                slot.converged[s, a] = readout.converged
                done += 1
                if progress:
                    progress(done, total)
            for name, proto in networks.items():
                slot = results.slot(name, None)
                if isinstance(proto, ScratchProtocol):
                    start = initial_network(proto.hidden_units, samples.input_dim, proto.activation,
                                            generator(seed, Stream.SIM_NETWORK_INIT), proto.hidden_layers)
                    trained = train_network(start, inputs, labels, epochs=proto.params.epochs,
                                            learning_rate=proto.params.learning_rate,
                                            weight_decay=proto.params.weight_decay, batch_size=proto.params.batch_size,
                                            rng=generator(seed, Stream.MINIBATCH_ORDER, a))
                    network, train_error = trained.network, trained.train_error
                else:
                    outcome = finetune(proto.source, proto.features, inputs, labels, proto.regularisation[a],
                                       proto.params, generator(seed, Stream.FINETUNE_HELD_OUT, a),
                                       generator(seed, Stream.MINIBATCH_ORDER, a))
                    network, train_error = outcome.network, outcome.train_error
                    if slot.epochs is None:
                        slot.epochs = np.zeros(results.shape)
                    slot.epochs[s, a] = outcome.epochs
                slot.test_errors[s, a] = network.error(test_inputs, test_labels)
                slot.train_errors[s, a] = train_error
                slot.converged[s, a] = True
                done += 1
                if progress:
                    progress(done, total)
    return results.by_protocol
