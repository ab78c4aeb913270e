"""A readout protocol's GCM curve over a request's alphas, from the spectra its data source estimated.

Spectra are stored as arrays (``spectrum_arrays``): ``omega``, ``t``, ``rho``, ``gamma`` of the full
estimate, and, for an estimate from samples, the same with suffixes ``_a`` and ``_b`` for the two halves
of the samples and ``relative_spread`` for their distance. A synthetic source's are the GCM of the
target task (Monte Carlo for tf / rf, closed form for linear); a dataset's, its Gaussian-equivalent
model (``gaussian_equivalent``).

The curve is solved over alpha_p = alpha N / p. The error of an estimated curve is
|e_full - (e_a + e_b)/2| + |e_a - e_b| / 2, with e_a, e_b the test errors on the spectra of the two
halves (at the same lambda): the first term estimates the bias of using M samples (it scales like 1/M,
and the halves have twice the full sample's bias), the second the statistical spread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlprobe.contract.common import OPTIMAL
from tlprobe.contract.learning_curve import LearningCurveRequest, TheoryParams

from .gcm.solver import GCMPoint, solve_curve
from .gcm.spectrum import Spectrum
from .json_safe import finite_or_none, gcm_points

Arrays = dict[str, np.ndarray]


def spectrum_arrays(spectrum: Spectrum, label: str) -> Arrays:
    """A spectrum as artifact arrays, their names ending in ``label`` ("", "_a" or "_b")."""
    return {f"omega{label}": spectrum.omega, f"t{label}": spectrum.t,
            f"rho{label}": np.array(spectrum.rho), f"gamma{label}": np.array(spectrum.gamma)}


def spectrum_from_arrays(arrays: Arrays, label: str) -> Spectrum:
    return Spectrum(omega=arrays[f"omega{label}"], t=arrays[f"t{label}"], rho=float(arrays[f"rho{label}"]),
                    gamma=float(arrays[f"gamma{label}"]))


def _solve_at(spectrum: Spectrum, loss: str, lambdas: list[float], alphas_p: list[float],
              theory: TheoryParams) -> list[GCMPoint]:
    """The curve at one lambda per point (one solve when they are all equal)."""
    if len(set(lambdas)) == 1:
        return solve_curve(spectrum, loss, lambdas[0], alphas_p, theory.solver)
    return [solve_curve(spectrum, loss, lam, [alpha], theory.solver)[0] for lam, alpha in zip(lambdas, alphas_p)]


def theory_curve(spec: LearningCurveRequest, arrays: Arrays, input_dim: int) -> dict[str, Any]:
    """The GCM curve on the spectra in ``arrays`` at the request's loss and regularisation: its number,
    or otherwise the oracle per point (the lambda minimising this curve's test error), with its error from
    the two halves when the spectra were estimated from samples (``test_error_mc_error`` None otherwise);
    the fields of the contract's ``TheoryCurve``.
    """
    theory, loss = spec.theory, spec.readout.loss.value
    full = spectrum_from_arrays(arrays, "")
    alphas_p = [alpha * input_dim / full.p for alpha in spec.alphas]
    lam = spec.readout.regularisation if spec.readout.fixed else OPTIMAL  # 'tuned': the oracle is its limit
    points = solve_curve(full, loss, lam, alphas_p, theory.solver)
    mc_error: list[float] | None = None
    if "omega_a" in arrays:
        lambdas = [p.regularisation for p in points]
        halves = [_solve_at(spectrum_from_arrays(arrays, label), loss, lambdas, alphas_p, theory) for label in ("_a", "_b")]
        mc_error = [abs(p.test_error - 0.5 * (a.test_error + b.test_error)) + 0.5 * abs(a.test_error - b.test_error)
                    for p, a, b in zip(points, *halves)]
    return {**gcm_points(points, full), "test_error_mc_error": None if mc_error is None else finite_or_none(mc_error),
            "regularisation_chosen_by": "fixed" if spec.readout.fixed else "oracle"}
