"""Fine-tuning as practitioners run it (MODEL.md section 3; the study behind the defaults is
``docs/finetune.md``, ``bench/finetune_study.py``).

1. **Probe.** Fit the readout on the transferred features, exactly the ``tf`` protocol: logistic
   loss, the tf readout's lambda, features centred by their population mean. The network
   (W_s, a = the probe's weights, centre = the tf centring) then computes the tf readout's output.
   With a deeper source network and transfer layer l, the network is the source's first l layers
   under the probe (``features`` holds them), so that it too starts as the tf readout; with l = L it
   has the source network's architecture. Every fine-tuned layer is anchored to its source layer.
2. **Fine-tune** both layers with Adam on the sum of the logistic losses plus the penalty
   (mu / 2) |W - W_anchor|^2 + (lambda / 2) |a|^2 (divided by n: the optimiser sees the mean loss),
   where W_anchor is the source layer W_s (``anchor`` "source", L2-SP) or zero (``anchor`` "zero",
   plain weight decay) and lambda is the probe's own: the probe is a stationary point in a, and both
   penalties are priors whose pull weakens as n grows, like the readout's.
3. **Early stopping** (``validation_fraction`` > 0): a seeded part of the training set is held out,
   steps 1-2 run on the rest for at most ``epochs`` epochs, and the epoch with the lowest held-out
   logistic loss is chosen, epoch 0 (the probe) included: fine-tuning is kept only while it beats the
   probe on held-out data. Then steps 1-2 are re-run on the *whole* training set for the chosen
   number of epochs (0 epochs returns the probe, i.e. the tf readout). Without a held-out part (or
   with fewer than ``MIN_HELD_OUT`` held-out samples) step 2 runs ``epochs`` epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tlprobe.contract.learning_curve import FinetuneParams

from .features import FeatureMap
from .network import Penalty, Trainer, TwoLayerNetwork
from .readout import fit_readout

Array = np.ndarray
#: fewest held-out samples for early stopping: with fewer, the full epoch budget runs
MIN_HELD_OUT = 2


@dataclass(frozen=True)
class FinetuneOutcome:
    network: TwoLayerNetwork
    train_error: float
    epochs: int  # epochs of fine-tuning in the returned network (chosen by early stopping, or the budget)


def probe(source: TwoLayerNetwork, features: FeatureMap, inputs: Array, labels: Array,
          regularisation: float) -> TwoLayerNetwork:
    """The source first layer with the tf readout fitted on (inputs, labels) as its second layer."""
    readout = fit_readout(features(inputs), labels, "logistic", regularisation)
    return TwoLayerNetwork(source.first_layer, readout.weights, source.activation, centre=features.mean.copy(),
                           deeper_layers=features.deeper)


def _trainer(start: TwoLayerNetwork, source: TwoLayerNetwork, inputs: Array, labels: Array, regularisation: float,
             params: FinetuneParams, rng: np.random.Generator) -> Trainer:
    anchor = source.first_layer if params.anchor == "source" else None
    deeper = start.deeper_layers if params.anchor == "source" else None  # the source's layers 2 .. l
    n = inputs.shape[0]
    penalty = Penalty(params.regularisation / n, regularisation / n, anchor, deeper)
    return Trainer(start, inputs, labels, learning_rate=params.learning_rate, weight_decay=penalty,
                   batch_size=params.batch_size, rng=rng)


def split(n: int, fraction: float, rng: np.random.Generator) -> tuple[Array, Array] | None:
    """(fit, held-out) indices, or None when the held-out part would be too small to stop on."""
    held = int(np.floor(fraction * n))
    if held < MIN_HELD_OUT or n - held < 1:
        return None
    order = rng.permutation(n)
    return np.sort(order[held:]), np.sort(order[:held])


def stopping_epoch(source: TwoLayerNetwork, features: FeatureMap, inputs: Array, labels: Array, regularisation: float,
                   params: FinetuneParams, parts: tuple[Array, Array], rng: np.random.Generator) -> tuple[int, list[float]]:
    """Epoch (0 .. params.epochs) with the lowest held-out loss when fine-tuning on the fit part, and
    the held-out losses per epoch."""
    fit, held = parts
    start = probe(source, features, inputs[fit], labels[fit], regularisation)
    trainer = _trainer(start, source, inputs[fit], labels[fit], regularisation, params, rng)
    held_inputs, held_labels = inputs[held], labels[held]
    losses = [trainer.network.mean_loss(held_inputs, held_labels)]
    for _ in range(params.epochs):
        trainer.epoch()
        losses.append(trainer.network.mean_loss(held_inputs, held_labels))
    return int(np.argmin(losses)), losses


def finetune(source: TwoLayerNetwork, features: FeatureMap, inputs: Array, labels: Array, regularisation: float,
             params: FinetuneParams, split_rng: np.random.Generator, order_rng: np.random.Generator) -> FinetuneOutcome:
    """Probe, then fine-tune (module docstring). ``split_rng`` draws the held-out part (then the
    mini-batch order on the fit part), ``order_rng`` the mini-batch order on the whole set."""
    epochs = params.epochs
    parts = split(inputs.shape[0], params.validation_fraction, split_rng) if params.validation_fraction else None
    if parts is not None:
        epochs, _ = stopping_epoch(source, features, inputs, labels, regularisation, params, parts, split_rng)
    start = probe(source, features, inputs, labels, regularisation)
    trainer = _trainer(start, source, inputs, labels, regularisation, params, order_rng)
    for _ in range(epochs):
        trainer.epoch()
    network = trainer.result().network
    return FinetuneOutcome(network=network, train_error=network.error(inputs, labels), epochs=epochs)
