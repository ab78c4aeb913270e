"""Bring-your-own Gaussian covariate model: a spectrum or raw covariances in, a curve out."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import InvalidSpec
from ..results import gcm_points
from ..specs import LOSSES, OPTIMAL, SolverSettings
from .solver import solve_curve
from .spectrum import Spectrum


def custom_spectrum(spectrum: Mapping[str, Any] | None, covariances: Mapping[str, Any] | None) -> Spectrum:
    if (spectrum is None) == (covariances is None):
        raise InvalidSpec("spectrum", "give exactly one of 'spectrum' or 'covariances'")
    if spectrum is not None:
        return Spectrum.checked(spectrum.get("omega"), spectrum.get("t"), spectrum.get("rho"), spectrum.get("gamma"))
    return Spectrum.from_covariances(covariances.get("omega"), covariances.get("phi"), covariances.get("theta"),
                                     covariances.get("psi"))


def solve_custom(*, spectrum: Mapping[str, Any] | None = None, covariances: Mapping[str, Any] | None = None,
                 loss: str = "logistic", regularisation: float | str = 0.1,
                 sample_complexities: Sequence[float] = (1.0,),
                 solver: SolverSettings = SolverSettings()) -> dict[str, Any]:
    """GCM learning curve over alpha = n / p for a user's model; raises InvalidSpec on bad input."""
    if loss not in LOSSES:
        raise InvalidSpec("loss", f"must be one of {list(LOSSES)}, got {loss!r}")
    if regularisation != OPTIMAL and not (isinstance(regularisation, (int, float)) and regularisation >= 0):
        raise InvalidSpec("regularisation", "must be a number >= 0 or 'optimal'")
    if not sample_complexities or any(not (a > 0) for a in sample_complexities):
        raise InvalidSpec("sample_complexities", "needs at least one value, all > 0")
    model = custom_spectrum(spectrum, covariances)
    points = solve_curve(model, loss, regularisation, list(sample_complexities), solver)
    return gcm_points(points, model)
