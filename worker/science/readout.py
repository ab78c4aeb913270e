"""Fitting the readout w on features (MODEL.md section 3).

Minimises sum_mu loss(y_mu, w . phi_mu / sqrt(p)) + (lam / 2) |w|^2: the logistic loss by L-BFGS with
its analytic gradient (the objective is strictly convex for lam > 0), the square loss in closed form
(ridge). Test error: the fraction of samples with sign(w . phi) != y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

Array = np.ndarray
LBFGS_OPTIONS = {"maxiter": 10_000, "gtol": 1e-9, "ftol": 1e-14, "maxcor": 20}


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


def fit_readout(features: Array, labels: Array, loss: str, regularisation: float) -> Readout:
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

    result = minimize(objective, np.zeros(p), jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
    return Readout(weights=result.x, converged=bool(result.success))
