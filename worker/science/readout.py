"""Fitting the readout w on features (MODEL.md section 3), and choosing its lambda by cross-validation.

Minimises sum_mu loss(y_mu, w . phi_mu / sqrt(p)) + (lam / 2) |w|^2: the logistic loss by L-BFGS with
its analytic gradient (the objective is strictly convex for lam > 0), the square loss in closed form
(ridge). Test error: the fraction of samples with sign(w . phi) != y.

Without a theory to choose lambda, ``cross_validation_errors`` scores a grid of lambdas by k-fold
cross-validation on a training set (the held-out classification error summed over folds), warm
starting each fit from the previous lambda's solution along the path from strong to weak
regularisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from tlprobe.contract.common import CROSS_VALIDATION_FOLDS, CROSS_VALIDATION_GRID

Array = np.ndarray
LBFGS_OPTIONS = {"maxiter": 10_000, "gtol": 1e-9, "ftol": 1e-14, "maxcor": 20}
#: lambdas scored by cross-validation (half decades over the theory's search interval) and folds
CV_GRID, CV_FOLDS = CROSS_VALIDATION_GRID, CROSS_VALIDATION_FOLDS


@dataclass(frozen=True)
class Readout:
    weights: Array
    converged: bool

    def error(self, features: Array, labels: Array) -> float:
        return float(np.mean(np.where(features @ self.weights >= 0, 1.0, -1.0) != labels))

    def mean_loss(self, features: Array, labels: Array, loss: str) -> float:
        """Average training loss of the fitted readout, without the penalty (what the theory predicts)."""
        outputs = features @ self.weights / np.sqrt(features.shape[1])
        if loss == "square":
            return float(np.mean(0.5 * (labels - outputs) ** 2))
        return float(np.mean(np.logaddexp(0.0, -labels * outputs)))


def fit_readout(features: Array, labels: Array, loss: str, regularisation: float, start: Array | None = None) -> Readout:
    """The fitted readout; ``start``: initial weights of the logistic fit (a warm start), zeros by default."""
    n, p = features.shape
    scaled = features / np.sqrt(p)
    if loss == "square":
        gram = scaled.T @ scaled
        gram[np.diag_indices_from(gram)] += regularisation
        weights = np.linalg.lstsq(gram, scaled.T @ labels, rcond=None)[0]
        return Readout(weights=weights, converged=True)

    def objective(w: Array) -> tuple[float, Array]:
        margins = labels * (scaled @ w)
        value = np.sum(np.logaddexp(0.0, -margins)) + 0.5 * regularisation * (w @ w)
        grad = scaled.T @ (-labels * expit(-margins)) + regularisation * w
        return value / n, grad / n

    x0 = np.zeros(p) if start is None else start
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
    return Readout(weights=result.x, converged=bool(result.success))


def fold_assignment(n: int, folds: int, rng: np.random.Generator) -> Array:
    """The fold of each of n samples: a random partition from ``rng`` into ``folds`` folds of (nearly)
    equal size, fewer when there are fewer samples, at least two."""
    return rng.permutation(n) % max(2, min(folds, n))


def cross_validation_errors(features: Array, labels: Array, loss: str, rng: np.random.Generator,
                            grid: tuple[float, ...] = CV_GRID, folds: int = CV_FOLDS) -> Array:
    """Misclassified held-out samples per lambda of ``grid``, summed over ``folds`` folds (the
    partition ``fold_assignment`` draws from ``rng``)."""
    assignment = fold_assignment(features.shape[0], folds, rng)
    folds = int(assignment.max()) + 1 if assignment.size else 0
    wrong = np.zeros(len(grid))
    order = np.argsort(grid)[::-1]  # strong to weak regularisation, each fit warm-started from the last
    for fold in range(folds):
        train, held = assignment != fold, assignment == fold
        if not train.any():  # a single sample: nothing to fit on
            continue
        weights = None
        for index in order:
            readout = fit_readout(features[train], labels[train], loss, grid[index], start=weights)
            weights = readout.weights
            wrong[index] += np.sum(np.where(features[held] @ weights >= 0, 1.0, -1.0) != labels[held])
    return wrong


def best_regularisation(wrong: Array, grid: tuple[float, ...] = CV_GRID) -> float:
    """The lambda with the fewest held-out errors; ties go to the strongest regularisation."""
    fewest = np.min(wrong)
    return float(max(lam for lam, w in zip(grid, wrong) if w == fewest))
