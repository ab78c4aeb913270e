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

Hyperparameters are given (a readout's lambda per alpha; scratch's and finetune's settings) or, with a
``Tuning``, chosen per seed and alpha by its rule (``tuning``): on the seed's fresh validation samples
(``TargetSamples.validation_set``, the best_achievable comparison) or by k-fold cross-validation on the
n_t training samples (one fold partition per seed and n_t, shared by every protocol: the
practitioner's). Every draw made per alpha (folds, mini-batch orders, finetune's held-out part) comes
from the seed and n_t, not from the alpha's position in the request, so an alpha's numbers do not depend
on the other alphas asked for (a phase diagram's cell equals its own learning curve). finetune's probe
uses tf's lambda of the same seed and alpha. Every value used is recorded per seed and alpha
(``ProtocolSimulation.chosen``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from tlprobe.contract.learning_curve import FinetuneParams, ScratchParams, target_samples

from .chmm import Task
from .features import FeatureMap
from .finetune import _trainer, finetune, probe
from .network import Trainer, TwoLayerNetwork, initial_network, train_network
from .readout import CV_GRID, best_regularisation, cross_validation_errors, fit_readout, fold_assignment
from .seeding import Stream, generator
from .tuning import (
    network_by_cross_validation,
    network_on_validation,
    readout_validation_errors,
    train_for,
)

Array = np.ndarray
ProgressFn = Callable[[int, int], None]
#: the tuning rules' names for what chose a value (the contract's ``ChosenBy``)
VALIDATION, CROSS_VALIDATION = "validation", "cross_validation"


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

    def validation_set(self, seed: int, n: int) -> tuple[Array, Array]:
        """n fresh samples, independent of the training and test samples (where the data have a generator)."""


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

    def validation_set(self, seed: int, n: int) -> tuple[Array, Array]:
        _, inputs, labels = self.task.sample(n, generator(seed, Stream.SIM_VALIDATION_DATA))
        return inputs, labels


@dataclass(frozen=True)
class Tuning:
    """How tuned hyperparameters are chosen: ``rule`` "validation" (on ``validation_samples`` fresh samples
    per seed) or "cross_validation" (``folds`` folds of the training samples), among these candidates."""

    rule: str
    regularisations: tuple[float, ...] = CV_GRID
    weight_decays: tuple[float, ...] = ()
    anchor_strengths: tuple[float, ...] = ()
    folds: int = 5
    validation_samples: int = 0

    def __post_init__(self) -> None:
        if self.rule not in (VALIDATION, CROSS_VALIDATION):
            raise ValueError(f"unknown tuning rule {self.rule!r}")


@dataclass(frozen=True)
class ReadoutProtocol:
    feature_map: FeatureMap
    loss: str
    regularisation: Sequence[float] | None  # one lambda per alpha; None: chosen by the tuning rule


@dataclass(frozen=True)
class ScratchProtocol:
    """A network of this shape (the source network's: K hidden units, L hidden layers) from a seeded random
    start (stream SIM_NETWORK_INIT); with ``tuned``, its weight decay and epochs are chosen by the tuning rule
    (``params.epochs`` the budget)."""

    hidden_units: int
    activation: str
    params: ScratchParams
    hidden_layers: int = 1
    tuned: bool = False


@dataclass(frozen=True)
class FinetuneProtocol:
    """Probe (the tf readout, at ``regularisation[a]`` for alpha a, or tf's chosen lambda when None) and
    fine-tune ``source``; with ``tuned``, the anchor strength and epochs are chosen by the tuning rule."""

    source: TwoLayerNetwork
    features: FeatureMap  # the tf feature map: the probe's features and the network's centring
    regularisation: Sequence[float] | None  # one lambda per alpha; None: tf's, chosen by the tuning rule
    params: FinetuneParams
    tuned: bool = False


@dataclass
class ProtocolSimulation:
    test_errors: Array  # (n_seeds, n_alphas)
    train_errors: Array  # (n_seeds, n_alphas)
    converged: Array  # (n_seeds, n_alphas) bool: optimiser's own convergence flag
    train_losses: Array | None = None  # readouts: mean training loss without penalty
    regularisation: list[float] | None = None  # the given lambda per alpha (readouts), None when tuned
    epochs: Array | None = None  # (n_seeds, n_alphas) finetune: epochs of fine-tuning kept
    #: every hyperparameter's value per (seed, alpha), by name: regularisation, weight_decay,
    #: anchor_strength, epochs
    chosen: dict[str, Array] = field(default_factory=dict)

    @property
    def mean(self) -> Array:
        return self.test_errors.mean(axis=0)

    @property
    def sem(self) -> Array:
        n_seeds = self.test_errors.shape[0]
        if n_seeds < 2:
            return np.full(self.test_errors.shape[1], np.nan)
        return self.test_errors.std(axis=0, ddof=1) / np.sqrt(n_seeds)

    def record(self, name: str, s: int, a: int, value: float) -> None:
        if name not in self.chosen:
            self.chosen[name] = np.zeros(self.test_errors.shape)
        self.chosen[name][s, a] = value


@dataclass
class _Results:
    shape: tuple[int, int]
    by_protocol: dict[str, ProtocolSimulation] = field(default_factory=dict)

    def slot(self, protocol: str, readout: bool, regularisation: Sequence[float] | None = None) -> ProtocolSimulation:
        if protocol not in self.by_protocol:
            self.by_protocol[protocol] = ProtocolSimulation(
                np.zeros(self.shape), np.zeros(self.shape), np.zeros(self.shape, dtype=bool),
                np.zeros(self.shape) if readout else None,
                None if regularisation is None else [float(x) for x in regularisation])
        return self.by_protocol[protocol]


@dataclass(frozen=True)
class _Held:
    """What the tuning rule scores on for one seed and alpha: the validation samples (and each readout's
    features of them), or the fold of each training sample."""

    inputs: Array | None = None
    labels: Array | None = None
    features: dict[str, Array] = field(default_factory=dict)
    assignment: Array | None = None


def _readout_lambda(proto: ReadoutProtocol, a: int, features: Array, labels: Array, tuning: Tuning | None,
                    held: _Held, name: str, seed: int) -> float:
    """The readout's lambda at alpha index a: the given one, or the tuning rule's choice (the folds of
    ``held.assignment``, drawn for this seed and training size)."""
    if proto.regularisation is not None:
        return float(proto.regularisation[a])
    grid = tuning.regularisations
    if tuning.rule == VALIDATION:
        errors = readout_validation_errors(features, labels, held.features[name], held.labels, proto.loss, grid)
    else:
        errors = cross_validation_errors(features, labels, proto.loss, generator(seed, Stream.CV_FOLDS, len(labels)),
                                         grid, tuning.folds)
    return best_regularisation(errors, grid)


def _tuned(make_trainer: Callable[[float, Array, Array], Trainer], penalties: Sequence[float], budget: int,
           with_start: bool, inputs: Array, labels: Array, tuning: Tuning,
           held: _Held) -> tuple[TwoLayerNetwork, float, float, int]:
    """A tuned network by the rule's choice of penalty and epochs (on the validation samples, or by
    cross-validation and then a refit on all n_t samples), its training error, the penalty and epochs."""
    if tuning.rule == VALIDATION:
        choice = network_on_validation(make_trainer, penalties, budget, with_start, inputs, labels, held.inputs,
                                       held.labels)
        network = choice.network
    else:
        choice = network_by_cross_validation(make_trainer, penalties, budget, with_start, inputs, labels,
                                             held.assignment)
        network = train_for(make_trainer(choice.penalty, inputs, labels), choice.epochs)
    return network, network.error(inputs, labels), choice.penalty, choice.epochs


def _scratch(proto: ScratchProtocol, inputs: Array, labels: Array, tuning: Tuning | None, held: _Held, seed: int,
             input_dim: int) -> tuple[TwoLayerNetwork, float, float, int]:
    """The trained scratch network, its training error, and the weight decay and epochs it used."""
    params = proto.params
    start = initial_network(proto.hidden_units, input_dim, proto.activation, generator(seed, Stream.SIM_NETWORK_INIT),
                            proto.hidden_layers)
    if not proto.tuned:
        trained = train_network(start, inputs, labels, epochs=params.epochs, learning_rate=params.learning_rate,
                                weight_decay=params.weight_decay, batch_size=params.batch_size,
                                rng=generator(seed, Stream.MINIBATCH_ORDER, len(labels)))
        return trained.network, trained.train_error, params.weight_decay, params.epochs

    def make_trainer(weight_decay: float, x: Array, y: Array) -> Trainer:
        return Trainer(start, x, y, learning_rate=params.learning_rate, weight_decay=weight_decay,
                       batch_size=params.batch_size, rng=generator(seed, Stream.MINIBATCH_ORDER, len(labels)))

    return _tuned(make_trainer, tuning.weight_decays, params.epochs, False, inputs, labels, tuning, held)


def _finetune(proto: FinetuneProtocol, lam: float, inputs: Array, labels: Array, tuning: Tuning | None, held: _Held,
              seed: int) -> tuple[TwoLayerNetwork, float, float, int]:
    """The fine-tuned network, its training error, and the anchor strength and epochs it used."""
    params = proto.params
    if not proto.tuned:
        outcome = finetune(proto.source, proto.features, inputs, labels, lam, params,
                           generator(seed, Stream.FINETUNE_HELD_OUT, len(labels)),
                           generator(seed, Stream.MINIBATCH_ORDER, len(labels)))
        return outcome.network, outcome.train_error, params.regularisation, outcome.epochs

    probes: list[tuple[Array, TwoLayerNetwork]] = []  # the probe of each training set, fitted once per set

    def make_trainer(mu: float, x: Array, y: Array) -> Trainer:
        start = next((network for seen, network in probes if seen is x), None)
        if start is None:
            start = probe(proto.source, proto.features, x, y, lam)
            probes.append((x, start))
        return _trainer(start, proto.source, x, y, lam, params.model_copy(update={"regularisation": mu}),
                        generator(seed, Stream.MINIBATCH_ORDER, len(labels)))

    return _tuned(make_trainer, tuning.anchor_strengths, params.epochs, True, inputs, labels, tuning, held)


def simulate(samples: TargetSamples, alphas: Sequence[float], seeds: Sequence[int], *,
             readouts: dict[str, ReadoutProtocol], networks: dict[str, ScratchProtocol | FinetuneProtocol],
             tuning: Tuning | None = None, probe_readout: ReadoutProtocol | None = None,
             progress: ProgressFn | None = None) -> dict[str, ProtocolSimulation]:
    """Test errors per protocol, seed and alpha. ``tuning`` chooses what the protocols leave to it
    (a readout's lambda None, ``tuned`` networks); ``probe_readout``: tf's readout for finetune's probe
    when tf is not among ``readouts`` (its lambda chosen like tf's, nothing of it returned)."""
    sizes = sample_sizes(alphas, samples.input_dim)
    results = _Results((len(seeds), len(alphas)))
    total = len(seeds) * len(alphas) * (len(readouts) + len(networks))
    lambda_readouts = dict(readouts)
    if probe_readout is not None and "tf" not in lambda_readouts:
        lambda_readouts["tf"] = probe_readout
    needs_tuning = any(p.regularisation is None for p in lambda_readouts.values()) or any(
        p.tuned for p in networks.values())
    if needs_tuning and tuning is None:
        raise ValueError("a protocol leaves a hyperparameter to tuning, but no tuning rule was given")
    validating = needs_tuning and tuning.rule == VALIDATION
    done = 0
    for s, seed in enumerate(seeds):
        test_inputs, test_labels = samples.test_set(seed)
        test_features = {name: proto.feature_map(test_inputs) for name, proto in readouts.items()}
        validation = samples.validation_set(seed, tuning.validation_samples) if validating else (None, None)
        validation_features = {name: proto.feature_map(validation[0]) for name, proto in lambda_readouts.items()
                               if validating and proto.regularisation is None}
        for a, n_train in enumerate(sizes):
            inputs, labels = samples.training_set(seed, n_train)
            assignment = (fold_assignment(n_train, tuning.folds, generator(seed, Stream.CV_FOLDS, n_train))
                          if needs_tuning and not validating else None)
            held = _Held(validation[0], validation[1], validation_features, assignment)
            lambdas: dict[str, float] = {}
            for name, proto in lambda_readouts.items():
                if name not in readouts and proto.regularisation is not None:
                    lambdas[name] = float(proto.regularisation[a])  # finetune's probe lambda alone, given
                    continue
                features = proto.feature_map(inputs)
                lam = lambdas[name] = _readout_lambda(proto, a, features, labels, tuning, held, name, seed)
                if name not in readouts:
                    continue  # finetune's probe lambda alone, chosen
                readout = fit_readout(features, labels, proto.loss, lam)
                slot = results.slot(name, True, proto.regularisation)
                slot.test_errors[s, a] = readout.error(test_features[name], test_labels)
                slot.train_errors[s, a] = readout.error(features, labels)
                slot.train_losses[s, a] = readout.mean_loss(features, labels, proto.loss)
                slot.converged[s, a] = readout.converged
                slot.record("regularisation", s, a, lam)
                done += 1
                if progress:
                    progress(done, total)
            for name, proto in networks.items():
                slot = results.slot(name, False)
                if isinstance(proto, ScratchProtocol):
                    network, train_error, decay, epochs = _scratch(proto, inputs, labels, tuning, held, seed,
                                                                   samples.input_dim)
                    slot.record("weight_decay", s, a, decay)
                else:
                    lam = float(proto.regularisation[a]) if proto.regularisation is not None else lambdas["tf"]
                    network, train_error, mu, epochs = _finetune(proto, lam, inputs, labels, tuning, held, seed)
                    if slot.epochs is None:
                        slot.epochs = np.zeros(results.shape)
                    slot.epochs[s, a] = epochs
                    slot.record("regularisation", s, a, lam)
                    slot.record("anchor_strength", s, a, mu)
                slot.record("epochs", s, a, epochs)
                slot.test_errors[s, a] = network.error(test_inputs, test_labels)
                slot.train_errors[s, a] = train_error
                slot.converged[s, a] = True
                done += 1
                if progress:
                    progress(done, total)
    return results.by_protocol
