"""The optimal-lambda search against the bounded Brent search it replaced (kept verbatim in
bench/reference_lambda_search.py), the fixed-lambda path against the old one, and the halves.

Tolerances. Both searches stop within about 1e-3 in log10(lambda) of the minimum (Brent: its xatol;
ours: the next secant step would move less than that and gain less than 1e-9 in test error), where
the test error is quadratic with a curvature below 0.05 per decade squared in these cases: their
optimal test errors agree to 1e-8 (measured on this grid: 5.8e-10, the plain iteration's own
convergence error being 1e-10), and their lambdas to 3e-3 decades (measured: 3.5e-4). At a bound
the reference stops within xatol of it and ours on it, both flag it, and ours is not worse.
bench/optimal_lambda_agreement.py compares the two on a wider grid (252 points).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import worker.science.gcm.optimal as optimal
from bench.reference_lambda_search import reference_solve_curve
from tlprobe.contract.common import SolverParams
from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.gcm.optimal import OPTIMAL_LAMBDA_XATOL, LambdaSearch
from worker.science.gcm.solver import OPTIMAL_LAMBDA_BOUNDS, SolverStatus, solve_curve, solve_nearby
from worker.science.gcm.spectrum import Spectrum
from worker.science.synthetic_source import SyntheticSource
from worker.science.theory_curve import spectrum_from_arrays

ERROR_TOLERANCE = 1e-8
LAMBDA_TOLERANCE = 3e-3  # decades
ALPHAS = [0.05, 0.5, 3.0, 30.0]


@pytest.fixture(scope="module")
def engine_spectra() -> dict[str, dict[str, Spectrum]]:
    """tf, rf and linear spectra (full and the two Monte-Carlo halves) of a small learning curve."""
    spec = LearningCurveRequest.model_validate({
        "source": {"latent_dim": 10, "input_dim": 40}, "target": {"feature_noise": 0.3, "teacher_noise": 0.1},
        "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60}, "alphas": [0.5], "simulation": None,
        "readout": {"regularisation": 0.1}, "theory": {"mc_samples": 20_000}})
    store = MemoryArtifactStore()
    result = run_learning_curve(SyntheticSource(spec), store)
    spectra = {}
    for protocol in ("tf", "rf", "linear"):
        arrays = store.arrays[result.meta["artifacts"][f"spectra:{protocol}"]["key"]]
        spectra[protocol] = {label: spectrum_from_arrays(arrays, label) for label in ("", "_a", "_b")
                             if f"omega{label}" in arrays}
    return spectra


def _synthetic(omega, t, gamma, explained, rho=1.0):
    """A valid spectrum: t rescaled so that the features explain ``explained`` of the teacher variance."""
    omega, t = np.asarray(omega, float), np.asarray(t, float)
    return Spectrum.checked(omega, t * explained * rho * gamma * len(omega) / np.sum(t / omega), rho, gamma)


def _assert_same_optimum(reference, ours):
    for ref, new in zip(reference, ours):
        assert new.status is ref.status is SolverStatus.CONVERGED
        assert new.regularisation_at_bound == ref.regularisation_at_bound
        assert abs(new.test_error - ref.test_error) <= ERROR_TOLERANCE, (ref, new)
        limit = 10 * OPTIMAL_LAMBDA_XATOL if ref.regularisation_at_bound else LAMBDA_TOLERANCE
        assert abs(math.log10(new.regularisation / ref.regularisation)) <= limit, (ref, new)


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("protocol", ["tf", "rf", "linear"])
def test_the_optimum_is_the_brent_searchs(engine_spectra, protocol, loss):
    spectrum = engine_spectra[protocol][""]
    ours = solve_curve(spectrum, loss, "optimal", ALPHAS)
    _assert_same_optimum(reference_solve_curve(spectrum, loss, "optimal", ALPHAS), ours)
    assert not any(p.regularisation_at_bound for p in ours)


@pytest.mark.parametrize("loss", ["logistic", "square"])
def test_the_optimum_along_a_dense_curve_in_any_order(engine_spectra, loss):
    """Twelve alphas asked out of order: each search starts from the previous alpha's optimum."""
    spectrum = engine_spectra["tf"][""]
    alphas = list(np.geomspace(0.1, 10.0, 12)[::-1])
    ours = solve_curve(spectrum, loss, "optimal", alphas)
    assert [p.sample_complexity for p in ours] == alphas
    _assert_same_optimum(reference_solve_curve(spectrum, loss, "optimal", alphas), ours)


@pytest.mark.parametrize("case, loss, bound", [
    # features that explain 1 % of the teacher: the larger lambda the better (the Hebbian limit)
    ("explains-1%", "square", 1),
    # a well-explained teacher with many samples: the smaller lambda the better
    ("explains-99.9%", "square", 0),
    ("decaying, explains-1%", "logistic", 0),
])
def test_an_optimum_at_a_bound_is_flagged_and_sits_on_it(case, loss, bound):
    spectrum = {"explains-1%": _synthetic(np.ones(100), np.ones(100), 1.0, 0.01),
                "explains-99.9%": _synthetic(np.linspace(0.05, 3, 200), np.linspace(2.0, 0.1, 200), 0.25, 0.999),
                "decaying, explains-1%": _synthetic(np.linspace(0.05, 3, 200), np.linspace(2.0, 0.1, 200), 0.25, 0.01),
                }[case]
    alphas = [0.05, 5.0, 50.0] if bound else [5.0, 50.0]
    reference = reference_solve_curve(spectrum, loss, "optimal", alphas)
    ours = solve_curve(spectrum, loss, "optimal", alphas)
    _assert_same_optimum(reference, ours)
    for ref, new in zip(reference, ours):
        assert new.regularisation_at_bound and new.regularisation == OPTIMAL_LAMBDA_BOUNDS[bound]
        assert new.test_error <= ref.test_error + 1e-10


@pytest.mark.parametrize("loss", ["logistic", "square"])
def test_the_brent_fallback_finds_the_same_optimum(engine_spectra, loss):
    """The search the secant search falls back on (it did not need it on 252 points of
    bench/optimal_lambda_agreement.py), run directly: the same optimum, its Newton solves started from
    the previous alpha's optimum."""
    spectrum = engine_spectra["rf"][""]
    search = LambdaSearch(spectrum, loss)
    search.point(0.5)
    _assert_same_optimum(reference_solve_curve(spectrum, loss, "optimal", [2.0]), [search._brent(2.0)])


@pytest.mark.parametrize("loss", ["logistic", "square"])
def test_a_fixed_lambda_is_solved_exactly_as_before(engine_spectra, loss):
    for spectrum in (engine_spectra["tf"][""], engine_spectra["rf"]["_a"]):
        for lam in (1e-3, 0.5) if loss == "logistic" else (0.0, 1e-3, 0.5):  # logistic at 0: thousands of iterations
            assert solve_curve(spectrum, loss, lam, ALPHAS) == reference_solve_curve(spectrum, loss, lam, ALPHAS)


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("model, status", [
    (Spectrum(omega=np.ones(50), t=np.full(50, 25.0), rho=1.0, gamma=1.0), SolverStatus.NEGATIVE_TEACHER_VARIANCE),
    (Spectrum(omega=np.zeros(3), t=np.zeros(3), rho=1.0, gamma=1.0), SolverStatus.DEGENERATE),
    (Spectrum(omega=np.full(10, 1e300), t=np.full(10, 1e-300), rho=1.0, gamma=1.0), SolverStatus.NON_FINITE),
], ids=["negative-teacher-variance", "degenerate", "non-finite"])
def test_a_model_where_the_iteration_fails_reports_it_as_before(model, status, loss):
    """Not valid Gaussian models (the constructor skips the checks on purpose): every lambda fails."""
    ours = solve_curve(model, loss, "optimal", [0.5, 5.0])
    reference = reference_solve_curve(model, loss, "optimal", [0.5, 5.0])
    assert [p.status for p in ours] == [p.status for p in reference] == [status, status]
    assert all(math.isnan(p.test_error) for p in ours)


def test_too_few_iterations_end_with_a_status():
    """Three iterations per solve: the searches fail wholly or in part; every point still says how it ended,
    and a point called converged passed the plain iteration's convergence test at its lambda."""
    spectrum = _synthetic(np.linspace(0.2, 2.5, 100), np.linspace(1.0, 0.2, 100), 0.5, 0.8)
    settings = SolverParams(max_iterations=3)
    for loss in ("logistic", "square"):
        for point in solve_curve(spectrum, loss, "optimal", [0.5, 5.0], settings):
            assert point.status in (SolverStatus.CONVERGED, SolverStatus.MAX_ITERATIONS)
            assert 0.0 <= point.test_error <= 0.5 and point.iterations <= 3
            assert (point.residual < settings.tolerance) == point.converged


@pytest.mark.parametrize("protocol", ["tf", "rf"])
def test_the_halves_solved_nearby_are_the_cold_solves(engine_spectra, protocol):
    """What the engine solved on each Monte-Carlo half (every alpha from the uninformed start, at the full
    curve's lambda), from the full curve's points instead: the same fixed points, to the plain
    iteration's tolerance (measured 1e-12 in test error)."""
    spectra = engine_spectra[protocol]
    points = solve_curve(spectra[""], "logistic", "optimal", ALPHAS)
    for label in ("_a", "_b"):
        cold = [solve_curve(spectra[label], "logistic", p.regularisation, [p.sample_complexity])[0] for p in points]
        nearby = solve_nearby(spectra[label], "logistic", points)
        assert [p.sample_complexity for p in nearby] == ALPHAS
        assert [p.regularisation for p in nearby] == [p.regularisation for p in points]
        assert all(p.converged for p in nearby)
        np.testing.assert_allclose([p.test_error for p in nearby], [p.test_error for p in cold], rtol=0, atol=1e-9)
        assert max(abs(p.test_error - q.test_error) for p, q in zip(nearby, points)) > 1e-5  # another spectrum
        assert sum(p.iterations for p in nearby) < sum(p.iterations for p in cold) / 10


def test_a_point_that_did_not_converge_is_solved_from_the_last_that_did(engine_spectra):
    spectra = engine_spectra["rf"]
    points = solve_curve(spectra[""], "logistic", 0.01, [0.5, 2.0, 4.0])
    failed = points[1].__class__(**{**points[1].__dict__, "status": SolverStatus.MAX_ITERATIONS})
    nearby = solve_nearby(spectra["_a"], "logistic", [points[0], failed, points[2]])
    cold = solve_curve(spectra["_a"], "logistic", 0.01, [0.5, 2.0, 4.0])
    assert all(p.converged for p in nearby)
    np.testing.assert_allclose([p.test_error for p in nearby], [p.test_error for p in cold], rtol=0, atol=1e-9)


PLATEAU = Path(__file__).with_name("data") / "plateau_spectrum.json"


@pytest.mark.parametrize("alphas", [[0.25, 0.5, 1.0, 2.0, 4.0, 8.0], [1.0]])
def test_a_plateau_in_lambda_does_not_hold_the_search(alphas):
    """A deep layer's features on an unrelated target: the test error is lowest at the lower bound and flat
    (near chance) above 1e-3. A search that stays local settles on the plateau (0.49 against 0.36 at
    alpha 1, found by the first version of this search); every point must be no worse than the best of a
    dense grid of fixed lambdas, and no worse than the former bounded Brent search."""
    data = json.loads(PLATEAU.read_text())
    spectrum = Spectrum(omega=np.array(data["omega"]), t=np.array(data["t"]), rho=data["rho"], gamma=data["gamma"])
    alphas_p = [alpha * 150 / spectrum.p for alpha in alphas]
    found = solve_curve(spectrum, "logistic", "optimal", alphas_p)
    grid = [solve_curve(spectrum, "logistic", float(lam), alphas_p) for lam in np.logspace(-5, 2, 29)]
    reference = reference_solve_curve(spectrum, "logistic", "optimal", alphas_p)
    for index, point in enumerate(found):
        best_on_grid = min(curve[index].test_error for curve in grid if curve[index].converged)
        assert point.converged and point.test_error <= best_on_grid + 1e-9, (alphas[index], point.regularisation)
        assert point.test_error <= reference[index].test_error + 1e-9


@pytest.mark.slow
def test_a_second_interior_minimum_that_becomes_the_lower_is_found_along_a_curve():
    """tf at latent_change -30 (the findings' tf-vs-rf diagram): at alpha = 2, E(lambda) has two interior
    minima, 0.072255 near lambda = 3.5e-3 (where the optimum of alpha = 1.5, 5.5e-3, leads) and 0.071811
    near 1.8e-4 (measured on a grid of lambdas, 4 per decade). The search of a lone alpha scans the
    interval and finds the lower; along the curve [1.5, 2], up to science version 4, the search settled
    in the other one (0.07225, 4.4e-4 higher): it compared the local optimum with the bounds only."""
    store = MemoryArtifactStore()

    def theory(alphas: list[float]) -> dict:
        request = LearningCurveRequest.model_validate({
            "target": {"latent_change": -30}, "alphas": alphas, "protocols": ["tf"], "simulation": None,
            "readout": {"regularisation": "oracle"}})
        return run_learning_curve(SyntheticSource(request), store).model_dump()["curves"]["tf"]["theory"]

    lone, along = theory([2.0]), theory([1.5, 2.0])
    assert lone["test_error"][0] == pytest.approx(0.071811, abs=2e-6)  # the grid's minimum, to its spacing
    assert along["test_error"][1] == pytest.approx(lone["test_error"][0], abs=ERROR_TOLERANCE)


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("protocol", ["tf", "rf", "linear"])
def test_skipping_scan_points_that_are_clearly_above_keeps_the_optimum(engine_spectra, protocol, loss, monkeypatch):
    """The rule that leaves a scan point unprobed at an alpha where its error, moved along its slope in
    log(alpha), stays clearly above the local optimum (``optimal._clearly_above``) against probing every
    point at every alpha, along a 20-alpha curve (a diagram row's): the same optima to the search's
    tolerance (bench.scan_skip: at most 4e-12 apart over 1,848 points) with fewer evaluations of the map."""
    spectrum = engine_spectra[protocol][""]
    alphas = [float(a) for a in np.geomspace(0.1, 4.0, 20)]
    evaluations = {}
    counted = optimal.FixedPointMap.__call__

    def counting(fmap, x):
        evaluations[mode] += 1
        return counted(fmap, x)

    monkeypatch.setattr(optimal.FixedPointMap, "__call__", counting)
    curves = {}
    for mode, margin in (("every point", math.inf), ("rule", optimal.GRID_MARGIN)):
        evaluations[mode] = 0
        monkeypatch.setattr(optimal, "GRID_MARGIN", margin)
        curves[mode] = solve_curve(spectrum, loss, "optimal", alphas)
    for every, rule in zip(curves["every point"], curves["rule"]):
        assert rule.converged and every.converged
        assert rule.test_error == pytest.approx(every.test_error, abs=optimal.OPTIMAL_ERROR_TOLERANCE)
    assert evaluations["rule"] < evaluations["every point"]


def _probe(log_alpha: float, error: float, alpha_slope: float) -> optimal.Probe:
    zero = np.zeros(3)
    root = optimal.Root(np.ones(3), np.ones(3), None, np.eye(3), 0.0)
    return optimal.Probe(log_alpha, -3.0, root, np.eye(3), zero, zero, error, 0.0, alpha_slope)


@pytest.mark.parametrize("last, skipped", [
    ((0.0, 0.20, -0.10), True),  # moved to 0.19 at log alpha 0.1: 0.09 above, the move 0.01
    ((0.0, 0.11, -0.10), False),  # moved to 0.10: 0.00 above
    ((0.0, 0.13, -0.10), False),  # 0.02 above, within GRID_MARGIN = 2 times the move
    ((-0.35, 0.50, 0.0), True),  # flat in alpha, far above, 0.45 behind: not too stale
    ((-0.35, 0.50, float("nan")), False),  # no slope: probed
    ((-1.0, 0.50, 0.0), False),  # staler than GRID_STALENESS: probed
    ((0.1, 0.50, 0.0), False),  # at the same alpha: probed
    ((-math.inf, 0.50, 0.0), False),  # from alpha = 0: probed
    ((0.3, 0.50, 0.0), False),  # ahead (alphas asked out of order): probed
])
def test_a_scan_point_is_skipped_only_when_clearly_above_and_recent(last, skipped):
    best = _probe(0.1, 0.10, 0.0)
    assert optimal._clearly_above(_probe(*last), best) is skipped


def test_the_alpha_tangent_does_not_need_the_lambda_refinement(engine_spectra, monkeypatch):
    """A scan point's probe skips the refinement of dx/dlambda (one evaluation of the map): dx/dlog(alpha),
    what it keeps, is the same; refined afterwards (``_exact_slope``, where it restarts the search) it has
    the full probe's slope."""
    search = LambdaSearch(engine_spectra["tf"][""], "logistic")
    near = search.probe(0.8, -2.0, None)
    evaluations = []
    counted = optimal.FixedPointMap.__call__
    monkeypatch.setattr(optimal.FixedPointMap, "__call__", lambda fmap, x: evaluations.append(1) or counted(fmap, x))
    full = search.probe(1.0, -2.0, near)
    made = len(evaluations)
    rough = search.probe(1.0, -2.0, near, exact_slope=False)
    assert len(evaluations) - made == made - 1
    # the same fixed point to Newton's ROUGH_TOLERANCE (1e-7): the channel's warm start differs between the two
    np.testing.assert_allclose(rough.alpha_tangent, full.alpha_tangent, rtol=1e-6)
    assert rough.error == pytest.approx(full.error, abs=optimal.OPTIMAL_ERROR_TOLERANCE)
    assert rough.alpha_slope == pytest.approx(full.alpha_slope, rel=1e-6)
    assert rough.slope != full.slope and rough.slope == pytest.approx(full.slope, rel=1e-3)
    refined = search._exact_slope(1.0, rough)
    assert refined.root is rough.root and refined.slope != rough.slope
    assert refined.slope == pytest.approx(full.slope, rel=1e-6)
    np.testing.assert_allclose(refined.tangent, full.tangent, rtol=1e-6)
