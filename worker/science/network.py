"""The network f(x) = sum_k a_k (h_L(x)_k - c_k) / sqrt(K) and its training, with L hidden layers of
width K: h_1 = sigma_h(W_1 x / sqrt(N)), h_l = sigma_h(W_l h_(l-1) / sqrt(K)) (MODEL.md sections 2 and 9).
L = 1 (no ``deeper_layers``) is the two-layer network f(x) = sum_k a_k (sigma_h(w_k . x / sqrt(N)) - c_k) / sqrt(K),
which keeps its own gradient and training path, unchanged to the bit (``bench/training_epoch.py``);
deeper networks (L = 2, 3) go through ``_deep_data_gradient``.

The centre c is fixed (zero unless given): a network fine-tuned from transferred features keeps the
centring of the ``tf`` readout it starts from (MODEL.md section 3), so that its start *is* that readout.

Objective (MODEL.md section 2): mean logistic loss over the training set plus an L2 penalty,
L(W, a) = mean_mu log(1 + exp(-y_mu f(x_mu))) + (mu_W / 2) |W - W_0|_F^2 + (mu_a / 2) |a|^2
(with L hidden layers, mu_W / 2 times the sum over the layers of |W_l - W_l,0|^2).
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
class Network:
    first_layer: Array  # W_1, shape (K, N)
    second_layer: Array  # a, shape (K,): the readout (the second layer of a two-layer network)
    activation: str
    centre: Array | None = None  # c, shape (K,): subtracted from the last hidden layer's units (None: zero)
    deeper_layers: tuple[Array, ...] = ()  # W_2 .. W_L, each (K, K); empty for the two-layer network

    @property
    def hidden_units(self) -> int:
        return self.first_layer.shape[0]

    @property
    def input_dim(self) -> int:
        return self.first_layer.shape[1]

    @property
    def hidden_layers(self) -> int:
        """L."""
        return 1 + len(self.deeper_layers)

    @property
    def layers(self) -> tuple[Array, ...]:
        """W_1 .. W_L."""
        return (self.first_layer, *self.deeper_layers)

    def hidden(self, inputs: Array) -> Array:
        """The last hidden layer's units h_L(x) - c."""
        act = get_activation(self.activation)
        hidden = act.value(inputs @ self.first_layer.T / np.sqrt(self.input_dim))
        for layer in self.deeper_layers:
            hidden = act.value(hidden @ layer.T / np.sqrt(layer.shape[1]))
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


#: its name from before deeper networks, used across the engine
TwoLayerNetwork = Network


@dataclass(frozen=True)
class Penalty:
    """(first / 2) |W - first_anchor|^2 + (second / 2) |a|^2; ``first_anchor`` None is zero. With deeper
    layers, (first / 2) |W_l - anchor_l|^2 for each, the anchors W_2 .. W_L in ``deeper_anchors`` (None:
    zero for all)."""

    first: float
    second: float
    first_anchor: Array | None = None
    deeper_anchors: tuple[Array, ...] | None = None

    @staticmethod
    def uniform(weight_decay: float) -> "Penalty":
        return Penalty(weight_decay, weight_decay)

    def anchors(self, hidden_layers: int) -> list[Array | None]:
        """The anchor of each hidden layer W_1 .. W_L (None: zero)."""
        deeper = list(self.deeper_anchors) if self.deeper_anchors is not None else [None] * (hidden_layers - 1)
        return [self.first_anchor, *deeper]


def initial_network(hidden_units: int, input_dim: int, activation: str, rng: np.random.Generator,
                    hidden_layers: int = 1) -> Network:
    """W_1 (K x N), then W_2 .. W_L (K x K), then a (K), i.i.d. N(0, 1) in that order from ``rng`` (so
    the two-layer network's draws are W_1 then a, as before deeper networks)."""
    first = rng.standard_normal((hidden_units, input_dim))
    deeper = tuple(rng.standard_normal((hidden_units, hidden_units)) for _ in range(hidden_layers - 1))
    second = rng.standard_normal(hidden_units)
    return Network(first_layer=first, second_layer=second, activation=activation, deeper_layers=deeper)


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


class _DeepWorkspace:
    """Buffers for one batch size and L hidden layers: pre-activations, values and derivatives per layer."""

    def __init__(self, batch: int, hidden: int, hidden_layers: int, input_dim: int | None = None) -> None:
        self.layers = [_Workspace(batch, hidden) for _ in range(hidden_layers)]
        self.backward = np.empty((batch, hidden))
        self.inputs = np.empty((batch, input_dim)) if input_dim is not None else None
        self.labels = np.empty(batch)


def _deep_data_gradient(layers: tuple[Array, ...], second: Array, activation: str, inputs: Array, labels: Array,
                        workspace: _DeepWorkspace, grads: list[Array], centre: Array | None = None
                        ) -> tuple[Array, Array]:
    """``_data_gradient`` for L >= 2 hidden layers: dL/dW_l written into ``grads[l - 1]``; returns the
    margins and dL/da. Back-propagation: delta_L = dL/dpre_L = (r a^T / sqrt(K)) * sigma'(pre_L),
    dL/dW_l = delta_l^T h_(l-1) / sqrt(width_(l-1)), delta_(l-1) = (delta_l W_l / sqrt(K)) * sigma'(pre_(l-1))."""
    n = inputs.shape[0]
    hidden = second.shape[0]
    act = get_activation(activation)
    values, derivatives = [], []
    previous = inputs
    for layer, buffers in zip(layers, workspace.layers):
        pre, value, derivative = buffers.view(n)
        np.matmul(previous, layer.T, out=pre)
        pre *= 1.0 / np.sqrt(layer.shape[1])
        act.value_and_derivative(pre, value, derivative)
        values.append(value)
        derivatives.append(derivative)
        previous = value
    top = values[-1]
    if centre is not None:
        top -= centre  # the last layer feeds no further layer: centred in place
    margin = top @ second
    margin *= labels / np.sqrt(hidden)
    residual = special.expit(-margin)
    residual *= -labels / n
    grad_second = top.T @ residual
    grad_second *= 1.0 / np.sqrt(hidden)
    delta = derivatives[-1]
    delta *= residual[:, None]
    delta *= second * (1.0 / np.sqrt(hidden))
    for index in range(len(layers) - 1, -1, -1):
        below = inputs if index == 0 else values[index - 1]
        np.matmul(delta.T, below, out=grads[index])
        grads[index] *= 1.0 / np.sqrt(layers[index].shape[1])
        if index > 0:
            back = workspace.backward[:n]
            np.matmul(delta, layers[index], out=back)
            back *= 1.0 / np.sqrt(layers[index].shape[1])
            back *= derivatives[index - 1]
            delta = derivatives[index - 1]
            delta[...] = back
    return margin, grad_second


def network_objective(network: Network, inputs: Array, labels: Array, penalty: Penalty | float
                      ) -> tuple[float, list[Array], Array]:
    """L and its gradient (dL/dW_l for l = 1 .. L, dL/da) for a network of any depth, on the given batch."""
    if not isinstance(penalty, Penalty):
        penalty = Penalty.uniform(penalty)
    if not network.deeper_layers:
        loss, grad_first, grad_second = objective_and_gradient(network.first_layer, network.second_layer,
                                                               network.activation, inputs, labels, penalty,
                                                               centre=network.centre)
        return loss, [grad_first], grad_second
    grads = [np.empty_like(layer) for layer in network.layers]
    workspace = _DeepWorkspace(inputs.shape[0], network.hidden_units, network.hidden_layers)
    margin, grad_second = _deep_data_gradient(network.layers, network.second_layer, network.activation, inputs,
                                              labels, workspace, grads, network.centre)
    loss = float(np.mean(np.logaddexp(0.0, -margin)))
    if penalty.first:
        for layer, grad, anchor in zip(network.layers, grads, penalty.anchors(network.hidden_layers)):
            offset = layer if anchor is None else layer - anchor
            loss += 0.5 * penalty.first * float(np.vdot(offset, offset))
            grad += penalty.first * offset
    if penalty.second:
        loss += 0.5 * penalty.second * float(np.vdot(network.second_layer, network.second_layer))
        grad_second += penalty.second * network.second_layer
    return loss, grads, grad_second


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
    network: Network
    train_loss: float  # objective (with weight decay) on the full training set at the end
    train_error: float


class Trainer:
    """Adam on the objective, one epoch at a time (``train_network`` runs it to the end). A two-layer
    network takes the path it always took; a deeper one back-propagates through its layers
    (``_deep_data_gradient``), with Adam over W_1 .. W_L and a."""

    def __init__(self, network: Network, inputs: Array, labels: Array, *, learning_rate: float,
                 weight_decay: float | Penalty, batch_size: int | None, rng: np.random.Generator) -> None:
        self.inputs, self.labels, self.rng = inputs, labels, rng
        self.first = network.first_layer.copy()
        self.deeper = tuple(layer.copy() for layer in network.deeper_layers)
        self.second = network.second_layer.copy()
        self.activation = network.activation
        self.centre = network.centre
        self.penalty = weight_decay if isinstance(weight_decay, Penalty) else Penalty.uniform(weight_decay)
        n = inputs.shape[0]
        self.batch = n if batch_size is None else min(batch_size, n)
        full = self.batch >= n
        penalty = self.penalty
        if not self.deeper:
            self.workspace = _Workspace(self.batch, self.first.shape[0], None if full else inputs.shape[1])
            self.optimiser = _Adam([self.first, self.second], learning_rate, [penalty.first, penalty.second],
                                   anchors=[penalty.first_anchor, None])
        else:
            depth = 1 + len(self.deeper)
            self.workspace = _DeepWorkspace(self.batch, self.first.shape[0], depth, None if full else inputs.shape[1])
            self.optimiser = _Adam([self.first, *self.deeper, self.second], learning_rate,
                                   [penalty.first] * depth + [penalty.second], anchors=[*penalty.anchors(depth), None])

    def _step(self, inputs: Array, labels: Array) -> None:
        *grad_layers, grad_second = self.optimiser.gradients
        if not self.deeper:
            _, g_second = _data_gradient(self.first, self.second, self.activation, inputs, labels, self.workspace,
                                         grad_layers[0], self.centre)
        else:
            _, g_second = _deep_data_gradient((self.first, *self.deeper), self.second, self.activation, inputs, labels,
                                              self.workspace, grad_layers, self.centre)
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
    def network(self) -> Network:
        """The current network (a view of the weights being trained: copy before training on)."""
        return Network(self.first, self.second, self.activation, self.centre, self.deeper)

    def result(self) -> TrainingResult:
        network = Network(first_layer=self.first.copy(), second_layer=self.second.copy(), activation=self.activation,
                          centre=self.centre, deeper_layers=tuple(layer.copy() for layer in self.deeper))
        full = self.batch >= self.inputs.shape[0]
        if not self.deeper:
            loss, _, _ = objective_and_gradient(self.first, self.second, self.activation, self.inputs, self.labels,
                                                self.penalty, self.workspace if full else None, self.centre)
        else:
            loss, _, _ = network_objective(network, self.inputs, self.labels, self.penalty)
        return TrainingResult(network=network, train_loss=loss, train_error=network.error(self.inputs, self.labels))


def train_network(network: Network, inputs: Array, labels: Array, *, epochs: int, learning_rate: float,
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
