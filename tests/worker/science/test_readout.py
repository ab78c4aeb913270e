"""The readout fit and its cross-validated lambda."""

import numpy as np
import pytest

from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.readout import CV_GRID, best_regularisation, cross_validation_errors, fit_readout
from worker.science.synthetic_source import SyntheticSource


def _problem(n: int, p: int, seed: int):
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal(p)
    features = rng.standard_normal((n, p))
    labels = np.where(features @ teacher + 0.5 * np.sqrt(p) * rng.standard_normal(n) >= 0, 1.0, -1.0)
    return features, labels


def test_a_warm_start_reaches_the_same_readout():
    features, labels = _problem(200, 40, 0)
    cold = fit_readout(features, labels, "logistic", 0.01)
    warm = fit_readout(features, labels, "logistic", 0.01, start=fit_readout(features, labels, "logistic", 1.0).weights)
    np.testing.assert_allclose(warm.weights, cold.weights, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["logistic", "square"])
def test_cross_validation_counts_held_out_errors_fold_by_fold(loss):
    # the warm-started path equals independent cold fits on every fold (a strictly convex objective)
    features, labels = _problem(90, 15, 1)
    grid = (1e-3, 1e-1, 10.0)
    wrong = cross_validation_errors(features, labels, loss, np.random.default_rng(5), grid=grid, folds=3)
    assignment = np.random.default_rng(5).permutation(90) % 3
    expected = np.zeros(3)
    for fold in range(3):
        train, held = assignment != fold, assignment == fold
        for i, lam in enumerate(grid):
            readout = fit_readout(features[train], labels[train], loss, lam)
            expected[i] += np.sum(np.where(features[held] @ readout.weights >= 0, 1.0, -1.0) != labels[held])
    np.testing.assert_array_equal(wrong, expected)


def test_ties_go_to_the_strongest_regularisation():
    assert best_regularisation(np.array([3.0, 2.0, 2.0, 5.0]), grid=(1e-3, 1e-2, 1e-1, 1.0)) == 1e-1
    assert len(CV_GRID) == 15 and CV_GRID[0] == pytest.approx(1e-5) and CV_GRID[-1] == pytest.approx(1e2)


@pytest.mark.slow
def test_tuned_lambdas_do_as_well_as_the_theory_optimum():
    # the oracle (the theory's optimum, which needs the teacher) is the limit of the best_achievable rule;
    # the practitioner's cross-validation on n_t samples approaches it. Against the simulation at the
    # oracle lambda, same seeds and samples, the paired difference must be within noise (3 standard
    # errors of the paired difference, plus 0.01 for the grid's half-decade resolution)
    base = {"source": {"latent_dim": 25, "input_dim": 100}, "target": {"feature_noise": 0.3, "teacher_noise": 0.2},
            "network": {"hidden_units": 100, "n_samples": 1000, "epochs": 200}, "alphas": [0.5, 2.0],
            "theory": {"mc_samples": 20_000}, "simulation": {"seeds": 4, "test_samples": 4000}}
    bodies = {"oracle": {**base, "readout": {"regularisation": "oracle"}},
              "validation": {**base, "tuning": {"rule": "best_achievable", "validation_samples": 4000}},
              "cross_validation": {**base, "theory": None, "tuning": {"rule": "practitioner"}}}
    curves = {rule: run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate(body))).model_dump(mode="json")
              for rule, body in bodies.items()}
    for protocol in ("tf", "rf", "linear"):
        oracle = curves["oracle"]["curves"][protocol]["simulation"]
        assert oracle["regularisation_chosen_by"] == "oracle"
        for rule in ("validation", "cross_validation"):
            tuned = curves[rule]["curves"][protocol]["simulation"]
            assert tuned["regularisation_chosen_by"] == rule
            difference = np.array(tuned["test_errors"]) - np.array(oracle["test_errors"])  # [alpha][seed], paired
            sem = difference.std(axis=1, ddof=1) / np.sqrt(difference.shape[1])
            assert np.all(difference.mean(axis=1) <= 3 * sem + 0.01), (protocol, rule, difference.mean(axis=1), sem,
                                                                      tuned["hyperparameters"], oracle["regularisation"])
