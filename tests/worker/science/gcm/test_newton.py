"""Newton's method on the saddle-point equations, and the derivatives of the fixed point, against the
plain iteration and against finite differences of solved fixed points."""

import math

import numpy as np
import pytest

from tlprobe.contract.common import SolverParams
from worker.science.gcm.channels import make_channel
from worker.science.gcm.newton import (
    FixedPointMap,
    constrained,
    error_gradient,
    jacobian,
    moved,
    newton,
    tangents,
    unconstrained,
    valid,
)
from worker.science.gcm.prior import prior_hat_scaling_derivative, prior_lambda_derivative, prior_overlaps
from worker.science.gcm.solver import generalisation_error, solve
from worker.science.gcm.spectrum import Spectrum

TIGHT = SolverParams(tolerance=1e-13)


def _spectrum(p=150):
    omega, t = np.linspace(0.05, 3, p), np.linspace(2.0, 0.1, p)
    return Spectrum.checked(omega, t * 0.8 * 0.25 * p / np.sum(t / omega), 1.0, 0.25)


def _x(point):
    return np.array([point.overlaps.v, point.overlaps.q, point.overlaps.m])


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_prior_derivatives_are_the_finite_differences_of_the_prior(lam):
    rng = np.random.default_rng(0)
    omega, t = rng.uniform(0.1, 3, 50), rng.uniform(0, 1, 50)
    omega[:5] = t[:5] = 0.0  # directions the features do not see: dropped at lambda = 0
    spectrum = Spectrum(omega=omega, t=t, rho=1.0, gamma=0.5)
    hat = np.array([1.5, 0.7, 0.9])
    h = 1e-6  # central differences of a rational function: truncation ~h^2, rounding ~1e-16 / h = 1e-10

    def prior(lam_, scale=1.0):
        return np.array(prior_overlaps(spectrum, lam_, *(scale * hat)))

    by_scaling = (prior(lam, 1 + h) - prior(lam, 1 - h)) / (2 * h)
    np.testing.assert_allclose(prior_hat_scaling_derivative(spectrum, lam, *hat), by_scaling, rtol=1e-8, atol=1e-9)
    if lam > 0:
        by_lambda = (prior(lam + h) - prior(lam - h)) / (2 * h)
        np.testing.assert_allclose(prior_lambda_derivative(spectrum, lam, *hat), by_lambda, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("alpha, lam", [(0.3, 1e-3), (3.0, 0.05), (30.0, 1e-4)])
def test_newton_finds_the_plain_iterations_fixed_point(loss, alpha, lam):
    """From 5 % off, in a few evaluations; the plain iteration at tolerance 1e-13 is the reference (its
    distance to the fixed point is below 1e-11 relative, up to 1/(1 - contraction) times its last step)."""
    spectrum, channel = _spectrum(), make_channel(loss)
    plain = solve(spectrum, loss, lam, alpha, TIGHT, channel=channel)
    fmap = FixedPointMap(spectrum, channel, alpha, lam)
    root = newton(fmap, _x(plain) * np.array([1.05, 0.95, 0.97]))
    assert plain.converged and root is not None and root.residual <= 1e-12
    np.testing.assert_allclose(root.x, _x(plain), rtol=1e-9)
    assert fmap.evaluations <= 15 < plain.iterations or loss == "square"


def test_newton_where_the_plain_iteration_crawls():
    """Alpha 50, lambda 1.2e-4, features explaining 99.9 % of the teacher: V* = rho - m^2/q ~ 0.003, the
    plain iteration contracts by 0.994 a step (3046 iterations from the uninformed start) and its
    relative residual rises along Newton's first step although that step lands 1e-4 from the root (J
    is far from normal); the natural monotonicity test accepts it, and Newton ends on the plain
    iteration's fixed point from the point where the plain iteration at tolerance 1e-4 stopped (1.7 %
    away)."""
    omega, t = np.linspace(0.05, 3, 200), np.linspace(2.0, 0.1, 200)
    spectrum = Spectrum.checked(omega, t * 0.999 * 0.25 * 200 / np.sum(t / omega), 1.0, 0.25)
    channel, lam = make_channel("logistic"), 10**-3.91312
    loose = solve(spectrum, "logistic", lam, 50.0, SolverParams(tolerance=1e-4), channel=channel)
    tight = solve(spectrum, "logistic", lam, 50.0, channel=channel)
    fmap = FixedPointMap(spectrum, channel, 50.0, lam)
    root = newton(fmap, _x(loose))
    assert root is not None and root.residual <= 1e-12 and fmap.evaluations <= 24 < loose.iterations
    np.testing.assert_allclose(root.x, _x(tight), rtol=2e-8)  # the plain iteration's own distance to it


def test_steps_in_unconstrained_coordinates_stay_in_the_domain():
    rho, x = 1.0, np.array([0.6, 100.0, 9.98])  # V* = 1 - 99.6 / 100 = 0.004
    np.testing.assert_allclose(constrained(unconstrained(x, rho), rho), x, rtol=1e-12)
    direction = np.array([0.3, 80.0, 4.0])  # a straight step would give V* < 0
    assert not valid(x + direction, rho) and valid(moved(x, direction, rho), rho)
    small = 1e-6 * direction  # to first order, the straight step
    np.testing.assert_allclose(moved(x, small, rho) - x, small, rtol=1e-4)


def test_newton_gives_up_rather_than_raising():
    spectrum, channel = _spectrum(), make_channel("logistic")
    fmap = FixedPointMap(spectrum, channel, 1.0, 1e-2)
    assert newton(fmap, np.array([1.0, 1.0, 2.0])) is None  # V* = rho - m^2/q < 0: outside the domain
    assert newton(fmap, np.array([1e3, 1e-2, 1e-2]), max_evaluations=4) is None  # far away, too few evaluations
    impossible = Spectrum(omega=np.ones(50), t=np.full(50, 25.0), rho=1.0, gamma=1.0)
    assert newton(FixedPointMap(impossible, channel, 5.0, 0.01), np.array([0.5, 0.5, 0.5])) is None


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("alpha, lam", [(0.3, 1e-3), (3.0, 0.05)])
def test_tangents_and_slope_are_the_finite_differences_of_fixed_points(loss, alpha, lam):
    """dx/dlambda, dx/dlog(alpha) and dE/dlog10(lambda) against central differences (relative step 1e-3) of
    fixed points solved to 1e-13: the differences' truncation error is ~1e-6 relative; the tangents carry
    the finite-difference Jacobian's ~1e-6, times up to 1/(1 - contraction) (measured: 4e-7 to 2e-6)."""
    spectrum, channel = _spectrum(), make_channel(loss)
    plain = solve(spectrum, loss, lam, alpha, TIGHT, channel=channel)
    fmap = FixedPointMap(spectrum, channel, alpha, lam)
    root = newton(fmap, _x(plain))
    lambda_tangent, alpha_tangent = tangents(fmap, root, jacobian(fmap, root.x, root.fx))
    h = 1e-3

    def fixed_point(lam_, alpha_):
        point = solve(spectrum, loss, lam_, alpha_, TIGHT, start=plain.overlaps, channel=channel)
        return _x(point), point.test_error

    (up, e_up), (down, e_down) = fixed_point(lam * (1 + h), alpha), fixed_point(lam * (1 - h), alpha)
    np.testing.assert_allclose(lambda_tangent, (up - down) / (2 * h * lam), rtol=2e-5)
    (up_a, _), (down_a, _) = fixed_point(lam, alpha * math.exp(h)), fixed_point(lam, alpha * math.exp(-h))
    np.testing.assert_allclose(alpha_tangent, (up_a - down_a) / (2 * h), rtol=2e-5)
    terms = error_gradient(root.x, spectrum.rho) * lambda_tangent * lam * math.log(10)
    slope = (e_up - e_down) / (2 * h / math.log(10))
    assert terms.sum() == pytest.approx(slope, abs=1e-4 * np.abs(terms).sum())


def test_error_gradient_is_the_derivative_of_the_test_error():
    x, rho, h = np.array([0.7, 1.3, 0.8]), 1.2, 1e-6
    numeric = [(generalisation_error(_overlaps(x + h * e), rho) - generalisation_error(_overlaps(x - h * e), rho)) / (2 * h)
               for e in np.eye(3)]
    np.testing.assert_allclose(error_gradient(x, rho), numeric, rtol=1e-7, atol=1e-12)


def _overlaps(x):
    from worker.science.gcm.solver import Overlaps

    return Overlaps(*x)
