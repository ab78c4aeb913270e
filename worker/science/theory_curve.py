"""A readout protocol's GCM curve over a request's alphas, from the spectra its data source estimated.

Spectra are stored as arrays (``spectrum_arrays``): ``omega``, ``t``, ``rho``, ``gamma`` of the full
estimate, and, for an estimate from samples, the same with suffixes ``_a`` and ``_b`` for the two halves
of the samples and ``relative_spread`` for their distance. A synthetic source's are the GCM of the
target task (Monte Carlo for tf / rf, closed form for linear); a dataset's, its Gaussian-equivalent
model (``gaussian_equivalent``).

The curve is solved over alpha_p = alpha N / p, for training labels flipped with probability
``label_noise`` (the data source's: the synthetic target's, MODEL.md section 8), and its test error is
the error against labels flipped the same way, p + (1 - 2p) arccos(m / sqrt(rho q)) / pi, as the
simulation measures it on its (noisy) test samples. The error of an estimated curve is
|e_full - (e_a + e_b)/2| + |e_a - e_b| / 2, with e_a, e_b the test errors on the spectra of the two
halves (at the same lambda): the first term estimates the bias of using M samples (it scales like 1/M,
and the halves have twice the full sample's bias), the second the statistical spread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlprobe.contract.common import OPTIMAL
from tlprobe.contract.learning_curve import LearningCurveRequest, TheoryParams

from .gcm.channels import noisy_error
from .gcm.solver import GCMPoint, solve_curve, solve_nearby
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


def _solve_half(spectrum: Spectrum, loss: str, points: list[GCMPoint], alphas_p: list[float], optimal: bool,
                theory: TheoryParams, label_noise: float) -> list[GCMPoint]:
    """A Monte Carlo half's curve at the full spectrum's lambda per point: one solve along the curve for a
    fixed lambda; for lambdas chosen per point, each point from the full spectrum's fixed point (a half
    is a small perturbation of the whole)."""
    if not optimal:
        return solve_curve(spectrum, loss, points[0].regularisation, alphas_p, theory.solver, label_noise)
    return solve_nearby(spectrum, loss, points, theory.solver, label_noise)


def theory_curve(spec: LearningCurveRequest, arrays: Arrays, input_dim: int, label_noise: float = 0.0) -> dict[str, Any]:
    """The GCM curve on the spectra in ``arrays`` at the request's loss and regularisation: its number,
    or otherwise the oracle per point (the lambda minimising this curve's test error), with its error from
    the two halves when the spectra were estimated from samples (``test_error_mc_error`` None otherwise);
    the fields of the contract's ``TheoryCurve``. ``label_noise``: the labels' flip probability p; test
    errors are against the noisy labels."""
    theory, loss = spec.theory, spec.readout.loss.value
    full = spectrum_from_arrays(arrays, "")
    alphas_p = [alpha * input_dim / full.p for alpha in spec.alphas]
    lam = spec.readout.regularisation if spec.readout.fixed else OPTIMAL  # 'tuned': the oracle is its limit
    points = solve_curve(full, loss, lam, alphas_p, theory.solver, label_noise)
    mc_error: list[float] | None = None
    if "omega_a" in arrays:
        halves = [_solve_half(spectrum_from_arrays(arrays, label), loss, points, alphas_p, not spec.readout.fixed,
                              theory, label_noise)
                  for label in ("_a", "_b")]
        mc_error = [abs(p.test_error - 0.5 * (a.test_error + b.test_error)) + 0.5 * abs(a.test_error - b.test_error)
                    for p, a, b in zip(points, *halves)]
    curve = gcm_points(points, full)
    if label_noise:  # against the noisy labels: an affine map of the clean error, slope 1 - 2p
        curve["test_error"] = finite_or_none([noisy_error(p.test_error, label_noise) for p in points])
        mc_error = None if mc_error is None else [(1.0 - 2.0 * label_noise) * e for e in mc_error]
    return {**curve, "test_error_mc_error": None if mc_error is None else finite_or_none(mc_error),
            "regularisation_chosen_by": "fixed" if spec.readout.fixed else "oracle"}
