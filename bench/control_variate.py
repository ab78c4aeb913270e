"""Theory Monte Carlo noise: plain sample moments against the regression (control-variate) estimator.

At the defaults (erf/erf, D = 50, N = K = 200, M = 50000, lambda = 0.1) for rf, and for linear: the
test error of the theory from RUNS independent Monte Carlo estimates with each estimator, against a
reference (rf: the regression estimator on 32 M samples; linear: the exact erf covariances,
arcsin formula). Prints each estimator's bias and spread and the ratio of their root-mean-square
errors, measured in this one run: `python -m bench.control_variate`. Also prints the linear theory
on the first-order closed form the engine uses against the exact erf covariances (teacher noise 0.5,
optimal lambda, N = 200 and 400, D = N / 4): what the closed form's dropped terms move.
"""

from __future__ import annotations

import numpy as np

from tlprobe.contract.learning_curve import SourceParams, TargetParams
from worker.science.chmm import make_source, make_target
from worker.science.covariances import linear_covariances, monte_carlo_covariances
from worker.science.features import centred, linear_features, random_features
from worker.science.gcm.solver import solve_curve
from worker.science.gcm.spectrum import reduce_to_spectrum

ALPHAS = [0.5, 2.0]
RUNS = 6
M = 50_000


def exact_erf_linear(task) -> tuple[np.ndarray, np.ndarray]:
    f, d = task.features, task.latent_dim
    cov = f.T @ f / d
    var = np.diag(cov)
    omega = (2 / np.pi) * np.arcsin(2 * cov / np.sqrt(np.outer(1 + 2 * var, 1 + 2 * var)))
    return omega, (2 / np.sqrt(np.pi) / np.sqrt(1 + 2 * var))[:, None] * f.T / np.sqrt(d)


def closed_form_against_exact() -> None:
    for n in (200, 400):
        target = make_target(make_source(SourceParams(latent_dim=n // 4, input_dim=n)), TargetParams(teacher_noise=0.5))
        closed = linear_covariances(target)
        curves = {}
        for name, (omega, phi) in {"closed form": (closed.omega, closed.phi), "exact": exact_erf_linear(target)}.items():
            spectrum = reduce_to_spectrum(omega, phi, target.teacher)
            curves[name] = np.array([p.test_error for p in solve_curve(spectrum, "logistic", "optimal", [0.5, 1, 2, 4])])
        print(f"[closed form] linear N={n} alpha 0.5..4: exact - closed form "
              + ", ".join(f"{d:+.4f}" for d in curves["exact"] - curves["closed form"]))


def main() -> None:
    task = make_source(SourceParams(latent_dim=50, input_dim=200))

    def errors(omega, phi) -> np.ndarray:
        spectrum = reduce_to_spectrum(omega, phi, task.teacher)
        return np.array([p.test_error for p in solve_curve(spectrum, "logistic", 0.1, [a * 200 / spectrum.p
                                                                                        for a in ALPHAS])])

    maps = {"rf": centred(random_features(200, 200, "erf", np.random.default_rng(0)), task, np.random.default_rng(1)),
            "linear": centred(linear_features(200), task, np.random.default_rng(1))}
    for name, fmap in maps.items():
        if name == "linear":
            reference = errors(*exact_erf_linear(task))
        else:
            big = monte_carlo_covariances(task, fmap, 32 * M, np.random.default_rng(99)).full
            reference = errors(big.omega, big.phi)
        deviations = {}
        for control_variate in (False, True):
            deviations[control_variate] = np.array([
                errors(*(lambda c: (c.omega, c.phi))(monte_carlo_covariances(
                    task, fmap, M, np.random.default_rng(run), control_variate=control_variate).full)) - reference
                for run in range(RUNS)])
        rms = {cv: np.sqrt(np.mean(d**2, axis=0)) for cv, d in deviations.items()}
        for i, alpha in enumerate(ALPHAS):
            plain, reg = deviations[False][:, i], deviations[True][:, i]
            print(f"[control variate] {name} alpha={alpha:g} M={M}: plain bias {plain.mean():+.5f} sd {plain.std(ddof=1):.5f}; "
                  f"regression bias {reg.mean():+.5f} sd {reg.std(ddof=1):.5f}; rms ratio {rms[False][i] / rms[True][i]:.1f}x")
    closed_form_against_exact()


if __name__ == "__main__":
    main()
