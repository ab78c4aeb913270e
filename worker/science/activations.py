"""Element-wise activations and their Gaussian moments.

The registry maps a name (``erf``, ``sign``, ``tanh``, ``relu``) to an :class:`Activation`. The
Gaussian moments of sigma(sqrt(v) z), z ~ N(0, 1), are computed numerically for any activation by a
piecewise Gauss-Legendre rule split at 0 (every activation here is smooth on each half-line, and
``sign``/``relu`` have their kink or jump exactly there), so no closed form is needed; tests compare
the rule with the closed forms that exist.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np
from scipy import special

from .invalid_spec import InvalidSpec

Array = np.ndarray

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
#: arrays at least this large are split across threads (below it, thread hand-off costs more)
_PARALLEL_MIN_SIZE = 1 << 17


def elementwise_threads() -> int:
    """Threads for element-wise work: the BLAS budget of this process (the worker sets it per
    process so that workers x threads <= cores), else the machine's cores."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tlprobe-elementwise")


def parallel_erf(z: Array, out: Array | None = None) -> Array:
    """scipy's erf (single-threaded, ~10-20 ns per element) split by rows over the thread budget.

    The result is bit-for-bit that of ``special.erf``; scipy ufuncs release the GIL.
    """
    threads = elementwise_threads()
    if out is None:
        out = np.empty_like(z)
    if threads < 2 or z.size < _PARALLEL_MIN_SIZE or z.ndim != 2 or z.shape[0] < threads:
        return special.erf(z, out=out)
    bounds = np.linspace(0, z.shape[0], threads + 1).astype(int)
    futures = [_pool(threads).submit(special.erf, z[a:b], out=out[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()
    return out


#: sigma(pre) into ``value`` and sigma'(pre) into ``derivative``, in place (what training needs per step)
ValueAndDerivative = Callable[[Array, Array, Array], None]


@dataclass(frozen=True)
class Activation:
    name: str
    value: Callable[[Array], Array]
    odd: bool
    #: None for an activation no network layer may use (``sign``: its derivative is zero almost everywhere)
    value_and_derivative: ValueAndDerivative | None = None


def _erf_value_and_derivative(pre: Array, value: Array, derivative: Array) -> None:
    parallel_erf(pre, out=value)
    np.square(pre, out=derivative)
    np.negative(derivative, out=derivative)
    np.exp(derivative, out=derivative)
    derivative *= _TWO_OVER_SQRT_PI


def _tanh_value_and_derivative(pre: Array, value: Array, derivative: Array) -> None:
    np.tanh(pre, out=value)
    np.square(value, out=derivative)
    np.subtract(1.0, derivative, out=derivative)


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_value_and_derivative(pre: Array, value: Array, derivative: Array) -> None:
    np.maximum(pre, 0.0, out=value)
    np.greater(pre, 0.0, out=derivative)


def _sign(z: Array) -> Array:
    return np.where(z >= 0, 1.0, -1.0).astype(z.dtype, copy=False)


ACTIVATIONS: dict[str, Activation] = {
    "erf": Activation("erf", parallel_erf, odd=True, value_and_derivative=_erf_value_and_derivative),
    "tanh": Activation("tanh", np.tanh, odd=True, value_and_derivative=_tanh_value_and_derivative),
    "relu": Activation("relu", _relu, odd=False, value_and_derivative=_relu_value_and_derivative),
    "sign": Activation("sign", _sign, odd=True),
}


def get_activation(name: str, field: str = "activation") -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InvalidSpec(field, f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


@cache
def _half_line_rule(n_nodes: int = 200, cutoff: float = 12.0) -> tuple[Array, Array]:
    """Nodes and weights of E[g(z)], z ~ N(0,1), as two Gauss-Legendre rules on [-L, 0] and [0, L].

    The Gaussian mass beyond |z| = 12 is below 1e-32, far under double precision.
    """
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    half_nodes = 0.5 * cutoff * (x + 1.0)
    half_weights = 0.5 * cutoff * w * np.exp(-0.5 * half_nodes**2) / np.sqrt(2 * np.pi)
    nodes = np.concatenate([-half_nodes[::-1], half_nodes])
    weights = np.concatenate([half_weights[::-1], half_weights])
    return nodes, weights


@dataclass(frozen=True)
class GaussianMoments:
    """Moments of sigma(u), u ~ N(0, v), per variance v (arrays broadcast like the input).

    mean = E[sigma(u)], slope = E[sigma'(u)] = E[u sigma(u)] / v (Stein), second = E[sigma(u)^2].
    For v = 1 these are the Hermite coefficients kappa_0 = mean, kappa_1 = slope and
    kappa_star^2 = second - mean^2 - slope^2.
    """

    mean: Array
    slope: Array
    second: Array

    @property
    def kappa_star_squared(self) -> Array:
        return self.second - self.mean**2 - self.slope**2


def gaussian_moments(activation: str, variance: Array | float) -> GaussianMoments:
    act = get_activation(activation)
    v = np.asarray(variance, dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise InvalidSpec("variance", "Gaussian moments need finite positive variances")
    nodes, weights = _half_line_rule()
    sd = np.sqrt(v)[..., None]
    values = act.value(sd * nodes)
    mean = values @ weights
    slope = (values * nodes) @ weights / np.sqrt(v)
    second = np.square(values) @ weights
    return GaussianMoments(mean=mean, slope=slope, second=second)
