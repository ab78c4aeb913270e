"""The two-layer network f(x) = sum_k a_k (sigma_h(w_k . x / sqrt(N)) - c_k) / sqrt(K) and its training.

The centre c is fixed (zero unless given): a network fine-tuned from transferred features keeps the
centring of the ``tf`` readout it starts from (MODEL.md section 3), so that its start *is* that readout.

Objective (MODEL.md section 2): mean logistic loss over the training set plus an L2 penalty,
L(W, a) = mean_mu log(1 + exp(-y_mu f(x_mu))) + (mu_W / 2) |W - W_0|_F^2 + (mu_a / 2) |a|^2.
By default (``Penalty.uniform``) mu_W = mu_a = weight_decay and W_0 = 0, plain weight decay; the
anchor W_0 = W_s of fine-tuning is L2-SP (Li et al. 2018). Minimised by Adam (beta1 = 0.9,
beta2 = 0.999, eps = 1e-8; the penalty's gradient enters the gradient, as in torch.optim.Adam).
Full batch (``batch_size`` None) or mini-batches reshuffled every epoch from a seeded generator.

An epoch's cost is two GEMMs per batch (x W^T and G^T x); everything else works in place on
preallocated (batch x K) buffers so that the epoch stays close to the cost of those GEMMs
(``bench/training_epoch.py`` measures the ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special
from scipy.linalg import blas

from .activations import get_activation

Array = np.ndarray
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class TwoLayerNetwork:
    first_layer: Array  # W, shape (K, N)
    second_layer: Array  # a, shape (K,)
    activation: str
    centre: Array | None = None  # c, shape (K,): subtracted from the hidden units (None: zero)

    @property
    def hidden_units(self) -> int:
        return self.first_layer.shape[0]

    @property
    def input_dim(self) -> int:
        return self.first_layer.shape[1]

    def hidden(self, inputs: Array) -> Array:
        act = get_activation(self.activation)
        hidden = act.value(inputs @ self.first_layer.T / np.sqrt(self.input_dim))
        if self.centre is not None:
            hidden -= self.centre
        return hidden

    def output(self, inputs: Array) -> Array:
        return self.hidden(inputs) @ self.second_layer / np.sqrt(self.hidden_units)

    def error(self, inputs: Array, labels: Array) -> float:
        return float(np.mean(np.where(self.output(inputs) >= 0, 1.0, -1.0) != labels))

    def mean_loss(self, inputs: Array, labels: Array) -> float:
        """Mean logistic loss, without penalty."""
        return float(np.mean(np.logaddexp(0.0, -labels * self.output(inputs))))


@dataclass(frozen=True)
class Penalty:
    """(first / 2) |W - first_anchor|^2 + (second / 2) |a|^2; ``first_anchor`` None is zero."""

    first: float
    second: float
    first_anchor: Array | None = None

    @staticmethod
    def uniform(weight_decay: float) -> "Penalty":
        return Penalty(weight_decay, weight_decay)


def initial_network(hidden_units: int, input_dim: int, activation: str, rng: np.random.Generator) -> TwoLayerNetwork:
    first = rng.standard_normal((hidden_units, input_dim))
    second = rng.standard_normal(hidden_units)
    return TwoLayerNetwork(first_layer=first, second_layer=second, activation=activation)


class _Workspace:
    """Buffers for one batch size, reused across steps."""

    def __init__(self, batch: int, hidden: int) -> None:
        self.pre = np.empty((batch, hidden))
        self.value = np.empty((batch, hidden))
        self.derivative = np.empty((batch, hidden))

    def view(self, batch: int) -> tuple[Array, Array, Array]:
        return self.pre[:batch], self.value[:batch], self.derivative[:batch]


def objective_and_gradient(first: Array, second: Array, activation: str, inputs: Array, labels: Array,
                           penalty: Penalty | float, workspace: _Workspace | None = None,
                           with_value: bool = True, centre: Array | None = None) -> tuple[float, Array, Array]:
    """L(W, a) and its gradient (dL/dW, dL/da) on the given batch (the value is NaN when not asked
    for: training steps skip the passes over the weights that only the value needs). A float
    ``penalty`` is plain weight decay."""
    if not isinstance(penalty, Penalty):
        penalty = Penalty.uniform(penalty)
    n, n_inputs = inputs.shape
    hidden = first.shape[0]
    ws = workspace or _Workspace(n, hidden)
    pre, value, derivative = ws.view(n)
    np.matmul(inputs, first.T, out=pre)
    pre *= 1.0 / np.sqrt(n_inputs)
    get_activation(activation).value_and_derivative(pre, value, derivative)
    if centre is not None:
        value -= centre
    output = value @ second / np.sqrt(hidden)
    margin = labels * output
    loss = float(np.mean(np.logaddexp(0.0, -margin))) if with_value else float("nan")
    residual = -labels * special.expit(-margin) / n  # dL/df per sample
    grad_second = value.T @ residual / np.sqrt(hidden)
    derivative *= residual[:, None]
    derivative *= second[None, :] / np.sqrt(hidden)
    grad_first = derivative.T @ inputs
    grad_first *= 1.0 / np.sqrt(n_inputs)
    if penalty.first:
        offset = first if penalty.first_anchor is None else first - penalty.first_anchor
        if with_value:
            loss += 0.5 * penalty.first * float(np.vdot(offset, offset))
        blas.daxpy(offset.reshape(-1), grad_first.reshape(-1), a=penalty.first)
    if penalty.second:
        if with_value:
            loss += 0.5 * penalty.second * float(np.vdot(second, second))
        grad_second += penalty.second * second
    return loss, grad_first, grad_second


class _Adam:
    """Adam, updating parameters in place with 9 passes over each array (BLAS axpy, no temporaries).

    theta -= lr / bias1 * m / (sqrt(v / bias2) + eps) is computed as
    theta -= (lr sqrt(bias2) / bias1) * m / (sqrt(v) + eps sqrt(bias2)).
    """

    def __init__(self, params: list[Array], learning_rate: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.params = params
        self.lr, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.first_moments = [np.zeros_like(p) for p in params]
        self.second_moments = [np.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: list[Array]) -> None:
        """Consumes ``grads`` (they are overwritten)."""
        self.steps += 1
        root_bias2 = np.sqrt(1.0 - self.beta2**self.steps)
        step_size = self.lr * root_bias2 / (1.0 - self.beta1**self.steps)
        for param, grad, m, v in zip(self.params, grads, self.first_moments, self.second_moments):
            flat_param, flat_grad, flat_m, flat_v = (a.reshape(-1) for a in (param, grad, m, v))
            flat_m *= self.beta1
            blas.daxpy(flat_grad, flat_m, a=1.0 - self.beta1)
            np.square(flat_grad, out=flat_grad)
            flat_v *= self.beta2
            blas.daxpy(flat_grad, flat_v, a=1.0 - self.beta2)
            np.sqrt(flat_v, out=flat_grad)
            flat_grad += self.eps * root_bias2
            np.divide(flat_m, flat_grad, out=flat_grad)
            blas.daxpy(flat_grad, flat_param, a=-step_size)


@dataclass(frozen=True)
class TrainingResult:
    network: TwoLayerNetwork
    train_loss: float  # objective (with weight decay) on the full training set at the end
    train_error: float


class Trainer:
    """Adam on the objective, one epoch at a time (``train_network`` runs it to the end)."""

    def __init__(self, network: TwoLayerNetwork, inputs: Array, labels: Array, *, learning_rate: float,
                 weight_decay: float | Penalty, batch_size: int | None, rng: np.random.Generator) -> None:
        self.inputs, self.labels, self.rng = inputs, labels, rng
        self.first = network.first_layer.copy()
        self.second = network.second_layer.copy()
        self.activation = network.activation
        self.centre = network.centre
        self.penalty = weight_decay if isinstance(weight_decay, Penalty) else Penalty.uniform(weight_decay)
        n = inputs.shape[0]
        self.batch = n if batch_size is None else min(batch_size, n)
        self.workspace = _Workspace(self.batch, self.first.shape[0])
        self.optimiser = _Adam([self.first, self.second], learning_rate)

    def epoch(self) -> None:
        n = self.inputs.shape[0]
        if self.batch >= n:
            batches = [(self.inputs, self.labels)]
        else:
            order = self.rng.permutation(n)
            batches = ((self.inputs[idx], self.labels[idx])
                       for idx in (order[start:start + self.batch] for start in range(0, n, self.batch)))
        for inputs, labels in batches:
            _, g_first, g_second = objective_and_gradient(self.first, self.second, self.activation, inputs, labels,
                                                          self.penalty, self.workspace, with_value=False,
                                                          centre=self.centre)
            self.optimiser.step([g_first, g_second])

    @property
    def network(self) -> TwoLayerNetwork:
        """The current network (a view of the weights being trained: copy before training on)."""
        return TwoLayerNetwork(self.first, self.second, self.activation, self.centre)

    def result(self) -> TrainingResult:
        network = TwoLayerNetwork(first_layer=self.first.copy(), second_layer=self.second.copy(),
                                  activation=self.activation, centre=self.centre)
        loss, _, _ = objective_and_gradient(self.first, self.second, self.activation, self.inputs, self.labels,
                                            self.penalty, centre=self.centre)
        return TrainingResult(network=network, train_loss=loss, train_error=network.error(self.inputs, self.labels))


def train_network(network: TwoLayerNetwork, inputs: Array, labels: Array, *, epochs: int, learning_rate: float,
                  weight_decay: float | Penalty, batch_size: int | None, rng: np.random.Generator,
                  progress: ProgressFn | None = None) -> TrainingResult:
    """Adam on the objective above; returns a new network (the input is not modified)."""
    trainer = Trainer(network, inputs, labels, learning_rate=learning_rate, weight_decay=weight_decay,
                      batch_size=batch_size, rng=rng)
    for epoch in range(epochs):
        trainer.epoch()
        if progress is not None:
            progress(epoch + 1, epochs)
    return trainer.result()
