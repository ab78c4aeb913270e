"""Choosing a protocol's hyperparameters by a tuning rule (MODEL.md section 10; docs/model.md, "How
hyperparameters are chosen").

Two rules choose, and both count misclassified held-out samples (ties: ``readout.best_regularisation`` for
a readout's lambda, the order of the candidates for a network's):

- **validation** (the best_achievable comparison): the candidates are fitted on the n_t training
  samples and scored on fresh validation samples drawn from the generator, independent of the test
  samples. The chosen fit is the one returned: nothing is refitted.
- **cross_validation** (the practitioner's comparison): the n_t training samples are split into k
  folds (``readout.fold_assignment``, the same partition for every protocol of a seed and alpha); each
  candidate is fitted on k - 1 folds and scored on the last, the errors summed over the folds; the
  chosen candidate is then fitted on all n_t samples.

A readout's candidates are the lambdas of a grid. A network's are a penalty (scratch's weight decay,
finetune's anchor strength) crossed with the epochs of its run: each penalty is trained once for the
epoch budget, scored at the checkpoints of ``checkpoints`` along the way (for finetune also at epoch 0,
the probe), so tuning costs one run per penalty (per fold). Ties go to the most regularised candidate:
the largest lambda or penalty, then the fewest epochs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .network import Trainer, TwoLayerNetwork
from .readout import fit_readout

Array = np.ndarray


def checkpoints(budget: int, with_start: bool = False) -> list[int]:
    """The epochs at which a run is scored: round(budget / sqrt(2)^j) for j = 0, 1, ... down to 1,
    increasing (``with_start``: also 0, the network before training)."""
    marks, j = set(), 0
    while True:
        epoch = int(np.floor(budget / 2.0 ** (j / 2) + 0.5))  # exact powers of 2 at even j
        if epoch < 1:
            break
        marks.add(epoch)
        j += 1
    return ([0] if with_start else []) + sorted(marks)


def wrong(predictions: Array, labels: Array) -> int:
    """Misclassified samples, sign(0) counted as +1 (as the test error counts them)."""
    return int(np.sum(np.where(predictions >= 0, 1.0, -1.0) != labels))


# --- readouts ----------------------------------------------------------------------------------
def readout_validation_errors(features: Array, labels: Array, held_features: Array, held_labels: Array, loss: str,
                              grid: Sequence[float]) -> Array:
    """Misclassified held-out samples of the readout fitted on (features, labels) at each lambda of
    ``grid``, fitted along the path from strong to weak regularisation, each fit warm-started from the
    last (as ``readout.cross_validation_errors`` does fold by fold)."""
    errors = np.zeros(len(grid))
    weights = None
    for index in np.argsort(grid)[::-1]:
        readout = fit_readout(features, labels, loss, grid[index], start=weights)
        weights = readout.weights
        errors[index] = wrong(held_features @ weights, held_labels)
    return errors


# --- networks ----------------------------------------------------------------------------------
#: a training run of one candidate penalty on (inputs, labels) from its start: the trainer after 0 epochs
MakeTrainer = Callable[[float, Array, Array], Trainer]


@dataclass(frozen=True)
class NetworkChoice:
    penalty: float
    epochs: int
    network: TwoLayerNetwork | None  # validation: the chosen network itself; cross-validation: None (refit)
    errors: Array  # (penalties, checkpoints) held-out errors, summed over folds


def _score_runs(make_trainer: MakeTrainer, penalties: Sequence[float], marks: list[int], inputs: Array,
                labels: Array, held_inputs: Array, held_labels: Array, errors: Array,
                keep: Callable[[int, int, TwoLayerNetwork], None] | None = None) -> None:
    """Train each penalty for max(marks) epochs on (inputs, labels), adding the held-out errors at each
    checkpoint to ``errors`` (rows in the order of ``penalties``); ``keep(row, column, network)`` sees
    every scored network (a view: copy to keep it)."""
    budget = marks[-1]
    for row, penalty in enumerate(penalties):
        trainer = make_trainer(penalty, inputs, labels)
        column = 0
        if marks[0] == 0:
            errors[row, 0] += wrong(trainer.network.output(held_inputs), held_labels)
            if keep is not None:
                keep(row, 0, trainer.network)
            column = 1
        for epoch in range(1, budget + 1):
            trainer.epoch()
            if epoch == marks[column]:
                errors[row, column] += wrong(trainer.network.output(held_inputs), held_labels)
                if keep is not None:
                    keep(row, column, trainer.network)
                column += 1


def _order(penalties: Sequence[float]) -> list[float]:
    """Penalties from the strongest: the order in which ties are broken."""
    return sorted(penalties, reverse=True)


def _first_fewest(errors: Array) -> tuple[int, int]:
    """(row, column) of the fewest errors, the first in row-major order among ties."""
    flat = int(np.argmin(errors))  # argmin returns the first occurrence
    return divmod(flat, errors.shape[1])


def network_on_validation(make_trainer: MakeTrainer, penalties: Sequence[float], budget: int, with_start: bool,
                          inputs: Array, labels: Array, held_inputs: Array, held_labels: Array) -> NetworkChoice:
    """The (penalty, epochs) with the fewest errors on the validation samples, and its network."""
    order, marks = _order(penalties), checkpoints(budget, with_start)
    errors = np.zeros((len(order), len(marks)))
    best: dict[str, object] = {"errors": np.inf}

    def keep(row: int, column: int, network: TwoLayerNetwork) -> None:
        if errors[row, column] < best["errors"]:  # strictly fewer: ties keep the earlier (more regularised)
            best.update(errors=errors[row, column], network=TwoLayerNetwork(
                network.first_layer.copy(), network.second_layer.copy(), network.activation, network.centre,
                tuple(layer.copy() for layer in network.deeper_layers)))  # a deeper network's layers 2 .. L too

    _score_runs(make_trainer, order, marks, inputs, labels, held_inputs, held_labels, errors, keep)
    row, column = _first_fewest(errors)
    return NetworkChoice(penalty=order[row], epochs=marks[column], network=best["network"], errors=errors)


def network_by_cross_validation(make_trainer: MakeTrainer, penalties: Sequence[float], budget: int, with_start: bool,
                                inputs: Array, labels: Array, assignment: Array) -> NetworkChoice:
    """The (penalty, epochs) with the fewest held-out errors summed over the folds of ``assignment``
    (fold index per sample); the caller refits it on every sample."""
    order, marks = _order(penalties), checkpoints(budget, with_start)
    errors = np.zeros((len(order), len(marks)))
    for fold in range(int(assignment.max()) + 1):
        fit, held = assignment != fold, assignment == fold
        if not held.any() or not fit.any():
            continue
        _score_runs(make_trainer, order, marks, inputs[fit], labels[fit], inputs[held], labels[held], errors)
    row, column = _first_fewest(errors)
    return NetworkChoice(penalty=order[row], epochs=marks[column], network=None, errors=errors)


def train_for(trainer: Trainer, epochs: int) -> TwoLayerNetwork:
    """The network after ``epochs`` epochs of ``trainer``."""
    for _ in range(epochs):
        trainer.epoch()
    return trainer.result().network
