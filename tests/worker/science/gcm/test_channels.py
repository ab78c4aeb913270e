"""Channels: the quadrature machinery against closed forms and against brute-force integration."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import erf, expit

from bench.reference_channel import ReferenceLogisticChannel
from worker.science.gcm.channels import QuadratureChannel, SquareChannel, sign_teacher_rule
from worker.science.gcm.losses import LOSSES, logistic_prox_positive

# (V, q, m, rho): from an uninformed start (V = 1e3) to a well-aligned student (test error 0.014)
POINTS = [(1000.0, 0.01, 0.01, 1.0), (10.0, 1.0, 0.5, 1.0), (1.0, 3.0, 1.5, 1.2), (0.3, 10.0, 3.0, 1.0),
          (0.5, 2.0, 1.38, 1.0), (0.05, 30.0, 5.4, 1.0), (0.02, 100.0, 9.99, 1.0)]


def _as_array(integrals):
    return np.array([integrals.i_m, integrals.i_v, integrals.i_q, integrals.train_loss])


@pytest.mark.parametrize("point", POINTS)
def test_quadrature_channel_reproduces_square_loss_closed_forms(point):
    quadrature = QuadratureChannel(LOSSES["square"])
    np.testing.assert_allclose(_as_array(quadrature.integrals(*point)), _as_array(SquareChannel().integrals(*point)),
                               rtol=1e-10)


@pytest.mark.parametrize("point", POINTS[:5])
def test_logistic_channel_matches_adaptive_quadrature(point):
    # The reference finds each proximal point by scalar minimisation, which is accurate to
    # ~sqrt(machine eps) relative; measured agreement 1e-9..6e-8 (5e-7 at the extreme last point).
    ref = _as_array(ReferenceLogisticChannel().integrals(*point))
    np.testing.assert_allclose(_as_array(QuadratureChannel(LOSSES["logistic"]).integrals(*point)), ref, rtol=2e-7)


@pytest.mark.parametrize("width", [1e-3, 0.05, 0.3, 2.0])
def test_panel_rule_integrates_the_label_step_exactly(width):
    # E[xi erf(xi / w)] = (2 / sqrt(pi)) / sqrt(w^2 + 2) for xi ~ N(0, 1)
    nodes, weights = sign_teacher_rule(width, 16)
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.dot(weights, nodes * erf(nodes / width)) == pytest.approx(2 / np.sqrt(np.pi) / np.sqrt(width**2 + 2),
                                                                         abs=1e-12)


def test_panel_rule_without_a_step_is_a_gaussian_rule():
    # m = 0 gives an infinite width (no label step): the rule must still integrate smooth moments
    nodes, weights = sign_teacher_rule(np.inf, 16)
    for power, moment in ((0, 1.0), (2, 1.0), (4, 3.0), (6, 15.0)):
        assert np.dot(weights, nodes**power) == pytest.approx(moment, rel=1e-12)
    assert np.dot(weights, np.abs(nodes)) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-12)


@pytest.mark.parametrize("variance", [1e5, 1e3, 30.0, 1.0, 1e-2, 1e-4])
@pytest.mark.parametrize("scale", [1e-2, 1.0, 10.0, 100.0])
def test_logistic_prox_solves_its_stationarity_condition(variance, scale):
    omega = scale * np.linspace(-10, 10, 61)
    z = logistic_prox_positive(omega, variance)
    assert np.all((z >= omega) & (z <= omega + variance))
    for o, zz in zip(omega[::4], z[::4]):
        f = lambda t, o=o: (t - o) - variance * expit(-t)  # noqa: E731
        if f(o) < 0 < f(o + variance):
            root = brentq(f, o, o + variance, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
            assert zz == pytest.approx(root, rel=1e-12, abs=1e-12)


def test_logistic_prox_from_a_warm_start_gives_the_same_point():
    omega = np.linspace(-20, 20, 101)
    cold = logistic_prox_positive(omega, 50.0)
    warm = logistic_prox_positive(omega, 50.0, start=cold + 0.3)
    np.testing.assert_allclose(warm, cold, rtol=1e-12, atol=1e-12)


# --- label noise (MODEL.md section 8) --------------------------------------------------------------

@pytest.mark.parametrize("label_noise", [0.1, 0.35])
@pytest.mark.parametrize("point", POINTS[1:6:2])
def test_noisy_channel_is_the_mixture_of_the_clean_one_and_its_mirror(point, label_noise):
    # P(y | omega*) = (1 - p) P_clean(y | omega*) + p P_clean(-y | omega*), and the clean law of -y is the
    # clean law of y under the mirrored teacher m -> -m: I_V, I_q and the loss, linear in the law, are that
    # mixture; I_m, linear in the law's derivative in omega* (that of -y is minus that of y), is (1 - 2p) I_m
    v, q, m, rho = point
    noisy = _as_array(QuadratureChannel(LOSSES["logistic"], label_noise=label_noise).integrals(*point))
    clean = _as_array(QuadratureChannel(LOSSES["logistic"]).integrals(*point))
    mirror = _as_array(QuadratureChannel(LOSSES["logistic"]).integrals(v, q, -m, rho))
    assert noisy[0] == pytest.approx((1 - 2 * label_noise) * clean[0], rel=1e-12)
    np.testing.assert_allclose(noisy[1:], (1 - label_noise) * clean[1:] + label_noise * mirror[1:], rtol=1e-11)


def test_noisy_logistic_channel_matches_the_label_law_integrated_from_its_definition():
    # the reference integrates P(y | omega* + sqrt(V*) z) over z and differentiates by Stein's lemma
    # (no erf forms); measured agreement 2e-9 .. 9e-9 at p = 0.1, 0.3 and three points
    point = POINTS[2]
    ref = _as_array(ReferenceLogisticChannel(label_noise=0.2).integrals(*point))
    np.testing.assert_allclose(_as_array(QuadratureChannel(LOSSES["logistic"], label_noise=0.2).integrals(*point)), ref,
                               rtol=2e-7)


@pytest.mark.parametrize("point", POINTS[1:5])
def test_noisy_square_channel_closed_forms_match_the_quadrature(point):
    quadrature = QuadratureChannel(LOSSES["square"], label_noise=0.25)
    np.testing.assert_allclose(_as_array(quadrature.integrals(*point)), _as_array(SquareChannel(0.25).integrals(*point)),
                               rtol=1e-10)


def test_channels_without_label_noise_are_unchanged_to_the_bit():
    for point in POINTS:
        for loss in ("logistic", "square"):
            assert QuadratureChannel(LOSSES[loss], label_noise=0.0).integrals(*point) == \
                QuadratureChannel(LOSSES[loss]).integrals(*point)
        assert SquareChannel(0.0).integrals(*point) == SquareChannel().integrals(*point)


def test_logistic_prox_keeps_its_input_shape_and_refuses_a_start_of_another_shape():
    omega = np.linspace(-3, 3, 12)
    flat = logistic_prox_positive(omega, 2.0)
    np.testing.assert_array_equal(logistic_prox_positive(omega.reshape(3, 4), 2.0), flat.reshape(3, 4))
    assert logistic_prox_positive(np.float64(0.5), 2.0).shape == ()
    assert logistic_prox_positive(np.array([np.nan, 0.5]), 2.0, start=np.array([0.0, 1.0]))[0] != 0.0  # NaN stays NaN
    with pytest.raises(ValueError):
        logistic_prox_positive(omega, 2.0, start=np.zeros(5))
