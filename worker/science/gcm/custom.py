"""Bring-your-own Gaussian covariate model: a spectrum or raw covariances in, a curve out."""

from __future__ import annotations

from typing import Any

from tlprobe.contract.gcm import GCMRequest

from ..json_safe import gcm_points
from .solver import solve_curve
from .spectrum import Spectrum


def custom_spectrum(request: GCMRequest) -> Spectrum:
    """The request's model as a validated spectrum (the numerical checks: PSD, consistency)."""
    if request.spectrum is not None:
        spectrum = request.spectrum
        return Spectrum.checked(spectrum.omega, spectrum.t, spectrum.rho, spectrum.gamma)
    covariances = request.covariances
    return Spectrum.from_covariances(covariances.omega, covariances.phi, covariances.theta, covariances.psi)


def solve_custom(request: GCMRequest) -> dict[str, Any]:
    """GCM learning curve over alpha = n / p for a user's model; raises InvalidSpec on bad input."""
    model = custom_spectrum(request)
    points = solve_curve(model, request.loss.value, request.regularisation, list(request.sample_complexities),
                         request.solver)
    return gcm_points(points, model)
