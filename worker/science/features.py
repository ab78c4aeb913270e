"""Feature maps of the readout protocols (MODEL.md section 3) and their population mean.

``tf``: sigma_h(W_s x / sqrt(N)) with the trained first layer (p = K); with a deeper source network,
its l-th hidden layer h_l (``readout.transfer_layer``, MODEL.md section 9): the first l trained layers;
``rf``: sigma_h(W_0 x / sqrt(N)) with W_0 i.i.d. N(0, 1) (p = K); at depth l, a random network of l
layers (W_0 from ``network.seed``'s RANDOM_FEATURES stream, as for one layer; layer j >= 2, K x K, from
(RANDOM_FEATURES, j): a deeper random network extends a shallower one);
``linear``: x itself (p = N).
Features are centred by their population mean. The mean is exactly zero when the map is odd in the
latent vector (odd sigma and, for tf/rf, odd sigma_h); for ``linear`` it is computed by quadrature
per input (x_i = sigma(u_i), u_i ~ N(0, |F_i|^2 / D)); otherwise it is a Monte Carlo estimate over
``MEAN_SAMPLES`` target samples, computed once and shared by theory and simulation.

``READOUT_FEATURES`` says, per readout protocol, how a request's map is built (tf from the trained source
network, rf from ``network.seed``), what determines it besides source and target (part of the keys of
the artifacts made from it), and whether its covariances on a synthetic task need Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest

from .activations import gaussian_moments, get_activation
from .chmm import Task
from .network import TwoLayerNetwork
from .seeding import Stream, generator

Array = np.ndarray
MEAN_SAMPLES = 50_000


@dataclass(frozen=True)
class FeatureMap:
    protocol: str  # tf | rf | linear
    weights: Array | None  # (K, N) first layer for tf / rf; None for linear
    activation: str | None  # sigma_h for tf / rf
    mean: Array  # (p,) centring vector
    deeper: tuple[Array, ...] = ()  # layers 2 .. l (K x K) of a deeper map: h_j = sigma_h(W_j h_(j-1) / sqrt(K))

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    @property
    def depth(self) -> int:
        """l: hidden layers the map goes through (0 for the raw inputs)."""
        return 0 if self.weights is None else 1 + len(self.deeper)

    def raw(self, inputs: Array) -> Array:
        if self.weights is None:
            return inputs
        pre = inputs @ self.weights.T
        pre *= 1.0 / np.sqrt(self.weights.shape[1])
        act = get_activation(self.activation)
        features = act.value(pre)
        for layer in self.deeper:
            pre = features @ layer.T
            pre *= 1.0 / np.sqrt(layer.shape[1])
            features = act.value(pre)
        return features

    def __call__(self, inputs: Array) -> Array:
        features = self.raw(inputs)
        if features is inputs:
            features = features.copy()
        features -= self.mean
        return features


def transferred_features(network: TwoLayerNetwork, layer: int | None = None) -> FeatureMap:
    """The source network's ``layer``-th hidden layer (default: its last)."""
    layer = network.hidden_layers if layer is None else layer
    if not 1 <= layer <= network.hidden_layers:
        raise ValueError(f"layer {layer} of a network with {network.hidden_layers} hidden layers")
    return FeatureMap("tf", network.first_layer, network.activation, np.zeros(network.hidden_units),
                      network.deeper_layers[:layer - 1])


def random_features(hidden_units: int, input_dim: int, activation: str, rng: np.random.Generator,
                    deeper: tuple[Array, ...] = ()) -> FeatureMap:
    """A random first layer W_0 drawn from ``rng``; ``deeper``: the random layers 2 .. l, if any."""
    return FeatureMap("rf", rng.standard_normal((hidden_units, input_dim)), activation, np.zeros(hidden_units), deeper)


def random_network_features(spec: LearningCurveRequest, input_dim: int) -> FeatureMap:
    """rf at depth l = the request's transfer layer: W_0 from (network.seed, RANDOM_FEATURES), layer j >= 2
    from (network.seed, RANDOM_FEATURES, j)."""
    net, depth = spec.network, spec.transfer_layer
    deeper = tuple(generator(net.seed, Stream.RANDOM_FEATURES, j).standard_normal((net.hidden_units, net.hidden_units))
                   for j in range(2, depth + 1))
    return random_features(net.hidden_units, input_dim, net.activation.value,
                           generator(net.seed, Stream.RANDOM_FEATURES), deeper)


def _tf_dependencies(spec: LearningCurveRequest) -> dict[str, Any]:
    """The network, and the layer when the network has more than one (so that the one-layer key is as
    it was before deeper networks)."""
    deps: dict[str, Any] = {"protocol": "tf", "network": spec.network}
    if spec.network.hidden_layers > 1:
        deps["layer"] = spec.transfer_layer
    return deps


def _rf_dependencies(spec: LearningCurveRequest) -> dict[str, Any]:
    deps: dict[str, Any] = {"protocol": "rf", "hidden_units": spec.network.hidden_units,
                            "activation": spec.network.activation.value, "seed": spec.network.seed}
    if spec.transfer_layer > 1:
        deps["depth"] = spec.transfer_layer
    return deps


def linear_features(input_dim: int) -> FeatureMap:
    return FeatureMap("linear", None, None, np.zeros(input_dim))


def is_odd(feature_map: FeatureMap, task: Task) -> bool:
    odd_inputs = get_activation(task.activation).odd
    if feature_map.weights is None:
        return odd_inputs
    return odd_inputs and get_activation(feature_map.activation).odd


def input_variances(task: Task) -> Array:
    """Var(F_i^T c / sqrt(D)) = |F_i|^2 / D for each input i."""
    return np.einsum("di,di->i", task.features, task.features) / task.latent_dim


def centred(feature_map: FeatureMap, task: Task, rng: np.random.Generator,
            n_samples: int = MEAN_SAMPLES, chunk_size: int = 4096) -> FeatureMap:
    """The same map with its population mean on ``task`` subtracted (see the module docstring)."""
    if is_odd(feature_map, task):
        mean = np.zeros(feature_map.dim)
    elif feature_map.weights is None:
        mean = gaussian_moments(task.activation, input_variances(task)).mean
    else:
        total = np.zeros(feature_map.dim)
        for _, inputs, _ in task.sample_chunks(n_samples, rng, chunk_size):
            total += feature_map.raw(inputs).sum(axis=0)
        mean = total / n_samples
    return replace(feature_map, mean=mean)


@dataclass(frozen=True)
class ReadoutFeatures:
    """How a readout protocol's feature map is made, and what determines it."""

    build: Callable[[LearningCurveRequest, int, TwoLayerNetwork], FeatureMap]  # (spec, N, source network)
    #: what, besides source and target, determines the map (part of its artifacts' keys)
    dependencies: Callable[[LearningCurveRequest], dict[str, Any]]
    #: covariances on a synthetic task by Monte Carlo (True) or in closed form (False)
    monte_carlo: bool


READOUT_FEATURES: dict[Protocol, ReadoutFeatures] = {
    Protocol.tf: ReadoutFeatures(
        build=lambda spec, input_dim, network: transferred_features(network, spec.transfer_layer),
        dependencies=_tf_dependencies, monte_carlo=True),
    Protocol.rf: ReadoutFeatures(
        build=lambda spec, input_dim, network: random_network_features(spec, input_dim),
        dependencies=_rf_dependencies, monte_carlo=True),
    Protocol.linear: ReadoutFeatures(
        build=lambda spec, input_dim, network: linear_features(input_dim),
        dependencies=lambda spec: {"protocol": "linear"}, monte_carlo=False),
}
