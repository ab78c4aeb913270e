"""Gaussian moments by the piecewise quadrature rule against closed forms and adaptive quadrature."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from worker.science.activations import gaussian_moments
from worker.science.invalid_spec import InvalidSpec

VARIANCES = np.array([0.3, 1.0, 1.7])


def test_erf_moments_match_closed_forms():
    m = gaussian_moments("erf", VARIANCES)
    np.testing.assert_allclose(m.mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(m.slope, 2 / np.sqrt(np.pi) / np.sqrt(1 + 2 * VARIANCES), rtol=1e-13)
    np.testing.assert_allclose(m.second, 2 / np.pi * np.arcsin(2 * VARIANCES / (1 + 2 * VARIANCES)), rtol=1e-13)


def test_relu_moments_match_closed_forms():
    m = gaussian_moments("relu", VARIANCES)
    np.testing.assert_allclose(m.mean, np.sqrt(VARIANCES / (2 * np.pi)), rtol=1e-13)
    np.testing.assert_allclose(m.slope, 0.5, rtol=1e-13)
    np.testing.assert_allclose(m.second, VARIANCES / 2, rtol=1e-13)


def test_sign_moments_match_closed_forms():
    m = gaussian_moments("sign", VARIANCES)
    np.testing.assert_allclose(m.mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(m.slope, np.sqrt(2 / np.pi) / np.sqrt(VARIANCES), rtol=1e-13)
    np.testing.assert_allclose(m.second, 1.0, rtol=1e-13)


def test_tanh_moments_match_adaptive_quadrature():
    m = gaussian_moments("tanh", VARIANCES)
    for v, slope, second in zip(VARIANCES, m.slope, m.second):
        density = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        ref_slope = quad(lambda z, v=v, density=density: z * math.tanh(math.sqrt(v) * z) * density(z), -np.inf, np.inf,
                         epsabs=1e-14)[0]
        ref_second = quad(lambda z, v=v, density=density: math.tanh(math.sqrt(v) * z) ** 2 * density(z), -np.inf, np.inf,
                          epsabs=1e-14)[0]
        assert slope == pytest.approx(ref_slope / math.sqrt(v), rel=1e-11)
        assert second == pytest.approx(ref_second, rel=1e-11)


def test_hermite_coefficients_at_unit_variance():
    # kappa_star^2 of erf: 2/pi arcsin(2/3) - 4/(3 pi)
    m = gaussian_moments("erf", 1.0)
    assert float(m.kappa_star_squared) == pytest.approx(2 / np.pi * np.arcsin(2 / 3) - 4 / (3 * np.pi), rel=1e-12)


def test_bad_activation_and_variance_are_refused():
    with pytest.raises(InvalidSpec, match="activation"):
        gaussian_moments("softplus", 1.0)
    with pytest.raises(InvalidSpec, match="variance"):
        gaussian_moments("erf", [1.0, np.nan])
