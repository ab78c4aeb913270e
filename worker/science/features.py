"""Feature maps of the readout protocols (MODEL.md section 3) and their population mean.

``tf``: sigma_h(W_s x / sqrt(N)) with the trained first layer (p = K);
``rf``: sigma_h(W_0 x / sqrt(N)) with W_0 i.i.d. N(0, 1) (p = K);
``linear``: x itself (p = N).
Features are centred by their population mean. The mean is exactly zero when the map is odd in the
latent vector (odd sigma and, for tf/rf, odd sigma_h); for ``linear`` it is computed by quadrature
per input (x_i = sigma(u_i), u_i ~ N(0, |F_i|^2 / D)); otherwise it is a Monte Carlo estimate over
``MEAN_SAMPLES`` target samples, computed once and shared by theory and simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .activations import gaussian_moments, get_activation
from .chmm import Task
from .network import TwoLayerNetwork

Array = np.ndarray
MEAN_SAMPLES = 50_000


@dataclass(frozen=True)
class FeatureMap:
    protocol: str  # tf | rf | linear
    weights: Array | None  # (K, N) first layer for tf / rf; None for linear
    activation: str | None  # sigma_h for tf / rf
    mean: Array  # (p,) centring vector

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def raw(self, inputs: Array) -> Array:
        if self.weights is None:
            return inputs
        pre = inputs @ self.weights.T
        pre *= 1.0 / np.sqrt(self.weights.shape[1])
        return get_activation(self.activation).value(pre)

    def __call__(self, inputs: Array) -> Array:
        features = self.raw(inputs)
        if features is inputs:
            features = features.copy()
        features -= self.mean
        return features


def transferred_features(network: TwoLayerNetwork) -> FeatureMap:
    return FeatureMap("tf", network.first_layer, network.activation, np.zeros(network.hidden_units))


def random_features(hidden_units: int, input_dim: int, activation: str, rng: np.random.Generator) -> FeatureMap:
    return FeatureMap("rf", rng.standard_normal((hidden_units, input_dim)), activation, np.zeros(hidden_units))


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
