"""Adam's element-wise update in one compiled pass (numba), for ``network._Adam``.

Per element, with the moments kept as M = m / (1 - b1) and V = v / (1 - b2) (``network._Adam``):
g = grad + decay theta - decay anchor, M = b1 M + g, V = b2 V + g^2,
theta -= step_size M / (sqrt(V) + eps), the scalars folded by the caller. One read of grad, theta,
M, V (and the anchor) and one write of theta, M, V: the same arithmetic in the same order as the
eight numpy passes it replaces, which each moved whole K x N arrays through memory.

Compiled on first use and cached on disk (``cache=True``, next to this file or in numba's user
cache): the first call in a fresh environment costs about a second, later processes load it in
milliseconds; workers call ``warm`` at start-up so that no job pays either.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def adam_update(param, grad, first, second, anchor, decay, beta1, beta2, step_size, eps):  # pragma: no cover - compiled
    """One Adam step on flat float64 arrays, in place on ``param``, ``first`` (M) and ``second`` (V).
    ``anchor``: empty for none (the decay then pulls toward zero)."""
    n = param.size
    if decay != 0.0 and anchor.size:
        for i in range(n):
            p = param[i]
            g = grad[i] + decay * p
            g = g - decay * anchor[i]
            m = beta1 * first[i] + g
            v = beta2 * second[i] + g * g
            first[i] = m
            second[i] = v
            param[i] = p - step_size * (m / (np.sqrt(v) + eps))
    elif decay != 0.0:
        for i in range(n):
            p = param[i]
            g = grad[i] + decay * p
            m = beta1 * first[i] + g
            v = beta2 * second[i] + g * g
            first[i] = m
            second[i] = v
            param[i] = p - step_size * (m / (np.sqrt(v) + eps))
    else:
        for i in range(n):
            g = grad[i]
            m = beta1 * first[i] + g
            v = beta2 * second[i] + g * g
            first[i] = m
            second[i] = v
            param[i] = param[i] - step_size * (m / (np.sqrt(v) + eps))


NO_ANCHOR = np.empty(0)


def warm() -> None:
    """Compile (or load from the cache) now rather than in the first job."""
    one = np.zeros(1)
    adam_update(one, np.zeros(1), np.zeros(1), np.zeros(1), NO_ANCHOR, 0.0, 0.9, 0.999, 0.0, 1.0)
