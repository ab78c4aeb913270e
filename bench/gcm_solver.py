"""A 30-point logistic learning curve at p = 800: our solver vs a straightforward reference.

Both iterate the same equations with the same settings (start, damping, tolerance, warm starts)
on the same spectrum, in this process; only the channel differs: ours uses panel quadrature and
the vectorised safeguarded-Newton prox, the reference adaptive ``scipy.integrate.quad`` with
``minimize_scalar`` at every integrand point. Prints the speed ratio and the largest difference in
test error. Targets: >= 300x faster, agreement <= 1e-6.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.reference_channel import ReferenceLogisticChannel
from tlprobe.contract.common import SolverParams
from tlprobe.contract.learning_curve import SourceParams
from worker.science.chmm import make_source
from worker.science.covariances import linear_covariances
from worker.science.gcm.solver import solve_curve
from worker.science.gcm.spectrum import reduce_to_spectrum

SETTINGS = SolverParams(tolerance=1e-9)


def spectrum_p800():
    task = make_source(SourceParams(latent_dim=200, input_dim=800, seed=0))
    cov = linear_covariances(task)
    return reduce_to_spectrum(cov.omega, cov.phi, task.teacher)


def reference_curve(spectrum, regularisation: float, alphas) -> list:
    """The same warm-started iteration with the reference channel."""
    from worker.science.gcm.solver import solve

    points, start = [], None
    for alpha in alphas:
        point = solve(spectrum, "logistic", regularisation, alpha, SETTINGS, start=start,
                      channel=ReferenceLogisticChannel(xatol=1e-9, epsabs=1e-9, epsrel=1e-8))
        start = point.overlaps if point.converged else start
        points.append(point)
    return points


def run(n_points: int = 30, regularisation: float = 0.1, repeats: int = 5) -> dict[str, float]:
    import warnings

    spectrum = spectrum_p800()
    alphas = list(np.linspace(0.2, 4.0, n_points))
    ours_time = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ours = solve_curve(spectrum, "logistic", regularisation, alphas, SETTINGS)
        ours_time = min(ours_time, time.perf_counter() - start)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quad's round-off notes near machine precision
        ref = reference_curve(spectrum, regularisation, alphas)
    ref_time = time.perf_counter() - start
    diff = max(abs(a.test_error - b.test_error) for a, b in zip(ours, ref))
    return {"ours_s": ours_time, "reference_s": ref_time, "speedup": ref_time / ours_time, "max_abs_diff": diff,
            "all_converged": all(p.converged for p in ours + ref),
            "iterations": sum(p.iterations for p in ours), "reference_iterations": sum(p.iterations for p in ref)}


def main_with(points: int = 30) -> None:
    r = run(points)
    print(f"[gcm solver] {points}-point logistic curve, p=800, lambda=0.1: ours {r['ours_s']:.3f}s "
          f"({r['iterations']} iterations), reference {r['reference_s']:.1f}s ({r['reference_iterations']} "
          f"iterations), speed-up {r['speedup']:.0f}x (target >= 300x), max |delta test error| "
          f"{r['max_abs_diff']:.1e} (target <= 1e-6), all converged: {r['all_converged']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=30)
    main_with(parser.parse_args().points)


if __name__ == "__main__":
    main()
