"""Engine numbers as JSON-safe plain data: a non-finite float as null, a solved GCM curve as one list per
field (what the contract's result models take, and the worker stores and the API returns)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .gcm.solver import GCMPoint
from .gcm.spectrum import Spectrum


def finite_or_none(values: Sequence[float] | float) -> Any:
    """NaN and inf become None: a failed point is null, never a made-up value."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return [finite_or_none(v) for v in values]
    value = float(values)
    return value if math.isfinite(value) else None


def gcm_points(points: list[GCMPoint], model: Spectrum) -> dict[str, Any]:
    """A solved curve: one entry per point in every list, in the order the points were asked."""
    return {
        "sample_complexity": [p.sample_complexity for p in points],
        "regularisation": [float(p.regularisation) for p in points],
        "regularisation_at_bound": [p.regularisation_at_bound for p in points],
        "test_error": finite_or_none([p.test_error for p in points]),
        "train_loss": finite_or_none([p.train_loss for p in points]),
        "overlaps": {name: finite_or_none([getattr(p.overlaps, name) for p in points]) for name in ("v", "q", "m")},
        "converged": [p.converged for p in points],
        "status": [p.status.value for p in points],
        "iterations": [p.iterations for p in points],
        "residual": finite_or_none([p.residual for p in points]),
        "p": model.p,
        "rho": model.rho,
        "gamma": model.gamma,
    }
