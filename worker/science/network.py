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
preallocated buffers so that the epoch stays close to the cost of those GEMMs
(``bench/training_epoch.py`` measures the ratio). What remains on top, per step: the activation on
(batch x K) elements (scipy's erf costs ~0.24 of the GEMM pair whatever the batch size) and Adam's
one compiled pass over each K x N array (``adam_kernel``: ~0.15 of the GEMM pair at batch 256, where
8 numpy passes cost ~0.45; docs/operations.md, "Training: how fast").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from . import adam_kernel
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

    def __init__(self, batch: int, hidden: int, input_dim: int | None = None) -> None:
        self.pre = np.empty((batch, hidden))
        self.value = np.empty((batch, hidden))
        self.derivative = np.empty((batch, hidden))
        self.inputs = np.empty((batch, input_dim)) if input_dim is not None else None
        self.labels = np.empty(batch)

    def view(self, batch: int) -> tuple[Array, Array, Array]:
        return self.pre[:batch], self.value[:batch], self.derivative[:batch]


def _data_gradient(first: Array, second: Array, activation: str, inputs: Array, labels: Array,
                   workspace: _Workspace, grad_first: Array, centre: Array | None = None) -> tuple[Array, Array]:
    """Gradient of the mean logistic loss alone (no weight decay) on one batch: dL/dW is written into
    ``grad_first``; returns the margins y f(x) and dL/da. ``centre``: subtracted from the hidden units."""
    n, n_inputs = inputs.shape
    hidden = first.shape[0]
    pre, value, derivative = workspace.view(n)
    np.matmul(inputs, first.T, out=pre)
    pre *= 1.0 / np.sqrt(n_inputs)
    get_activation(activation).value_and_derivative(pre, value, derivative)
    if centre is not None:
        value -= centre
    margin = value @ second
    margin *= labels / np.sqrt(hidden)
    residual = special.expit(-margin)
    residual *= -labels / n  # dL/df per sample
    grad_second = value.T @ residual
    grad_second *= 1.0 / np.sqrt(hidden)
    # dL/dW = (residual_mu a_k sigma'(pre_mu k))^T x / sqrt(K N): both scalings ride on the (batch x K)
    # factor, so the (K x N) product needs no pass of its own
    derivative *= residual[:, None]
    derivative *= second * (1.0 / np.sqrt(hidden * n_inputs))
    np.matmul(derivative.T, inputs, out=grad_first)
    return margin, grad_second


def objective_and_gradient(first: Array, second: Array, activation: str, inputs: Array, labels: Array,
                           penalty: Penalty | float, workspace: _Workspace | None = None,
                           centre: Array | None = None) -> tuple[float, Array, Array]:
    """L(W, a) and its gradient (dL/dW, dL/da) on the given batch. A float ``penalty`` is plain
    weight decay."""
    if not isinstance(penalty, Penalty):
        penalty = Penalty.uniform(penalty)
    ws = workspace or _Workspace(inputs.shape[0], first.shape[0])
    grad_first = np.empty_like(first)
    margin, grad_second = _data_gradient(first, second, activation, inputs, labels, ws, grad_first, centre)
    loss = float(np.mean(np.logaddexp(0.0, -margin)))
    if penalty.first:
        offset = first if penalty.first_anchor is None else first - penalty.first_anchor
        loss += 0.5 * penalty.first * float(np.vdot(offset, offset))
        grad_first += penalty.first * offset
    if penalty.second:
        loss += 0.5 * penalty.second * float(np.vdot(second, second))
        grad_second += penalty.second * second
    return loss, grad_first, grad_second


class _Adam:
    """Adam with the weight-decay term folded in, updating parameters in place.

    torch.optim.Adam: g = grad + wd theta, m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    theta -= lr m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
    Here the moments are kept as M = m / (1 - b1) and V = v / (1 - b2), so that M = b1 M + g and
    V = b2 V + g^2, and
    theta -= [lr (1 - b1) / ((1 - b1^t) r)] M / (sqrt(V) + eps / r), r = sqrt((1 - b2) / (1 - b2^t)).
    The numbers differ from the textbook order by floating-point reassociation only (tests compare
    with it). The element-wise work is one compiled pass per array (``adam_kernel``): eight numpy
    passes over 5 MB arrays that the GEMMs have pushed out of cache cost 4.7 to 5.0 ms per step at
    K = N = 800, about half of a batch-256 step's GEMMs (docs/operations.md, "Training: how fast").
    """

    def __init__(self, params: list[Array], learning_rate: float, weight_decay: float | list[float] = 0.0,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 anchors: list[Array | None] | None = None) -> None:
        """``weight_decay``: one coefficient, or one per parameter; ``anchors``: what each parameter's
        decay pulls toward (None: zero), so g = grad + wd (theta - anchor)."""
        self.params = params
        self.lr, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.decays = list(weight_decay) if isinstance(weight_decay, (list, tuple)) else [weight_decay] * len(params)
        self.anchors = [adam_kernel.NO_ANCHOR if a is None else np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
                        for a in (anchors or [None] * len(params))]
        self.first_moments = [np.zeros(p.size) for p in params]
        self.second_moments = [np.zeros(p.size) for p in params]
        self._grads = [np.empty(p.shape) for p in params]
        self.steps = 0

    @property
    def gradients(self) -> list[Array]:
        """Where the caller writes the data gradients (without weight decay) before ``step``."""
        return self._grads

    def step(self) -> None:
        self.steps += 1
        root = np.sqrt((1.0 - self.beta2) / (1.0 - self.beta2**self.steps))
        step_size = self.lr * (1.0 - self.beta1) / ((1.0 - self.beta1**self.steps) * root)
        eps = self.eps / root
        for i, param in enumerate(self.params):
            adam_kernel.adam_update(param.reshape(-1), self._grads[i].reshape(-1), self.first_moments[i],
                                    self.second_moments[i], self.anchors[i], float(self.decays[i]), self.beta1,
                                    self.beta2, step_size, eps)


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
        full = self.batch >= n
        self.workspace = _Workspace(self.batch, self.first.shape[0], None if full else inputs.shape[1])
        penalty = self.penalty
        self.optimiser = _Adam([self.first, self.second], learning_rate, [penalty.first, penalty.second],
                               anchors=[penalty.first_anchor, None])

    def _step(self, inputs: Array, labels: Array) -> None:
        grad_first, grad_second = self.optimiser.gradients
        _, g_second = _data_gradient(self.first, self.second, self.activation, inputs, labels, self.workspace,
                                     grad_first, self.centre)
        grad_second[...] = g_second
        self.optimiser.step()

    def epoch(self) -> None:
        n = self.inputs.shape[0]
        if self.batch >= n:
            self._step(self.inputs, self.labels)
            return
        order = self.rng.permutation(n)
        ws = self.workspace
        for start in range(0, n, self.batch):
            idx = order[start:start + self.batch]
            inputs, labels = ws.inputs[:len(idx)], ws.labels[:len(idx)]
            np.take(self.inputs, idx, axis=0, out=inputs, mode="clip")  # "clip": no buffered copy
            np.take(self.labels, idx, out=labels, mode="clip")
            self._step(inputs, labels)

    @property
    def network(self) -> TwoLayerNetwork:
        """The current network (a view of the weights being trained: copy before training on)."""
        return TwoLayerNetwork(self.first, self.second, self.activation, self.centre)

    def result(self) -> TrainingResult:
        network = TwoLayerNetwork(first_layer=self.first.copy(), second_layer=self.second.copy(),
                                  activation=self.activation, centre=self.centre)
        full = self.batch >= self.inputs.shape[0]
        loss, _, _ = objective_and_gradient(self.first, self.second, self.activation, self.inputs, self.labels,
                                            self.penalty, self.workspace if full else None, self.centre)
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
