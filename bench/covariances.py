"""Monte Carlo covariance estimation vs the bare matrix products it needs.

Per chunk of B samples the estimate needs c F (B x D x N), x W^T (B x N x K), the symmetric
phi^T phi (a rank-B update, dsyrk), phi^T c (B x K x D) and c^T c (B x D x D, for the regression
estimator). The bare baseline runs exactly those
products on preallocated arrays; the ratio is what sampling, activations, centring and bookkeeping
add. Target: <= 1.5x.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.linalg.blas import dsyrk

from bench.timing import interleaved
from tlprobe.contract.learning_curve import SourceParams
from worker.science.chmm import make_source
from worker.science.covariances import monte_carlo_covariances
from worker.science.features import random_features


def run(latent_dim: int = 200, input_dim: int = 800, hidden: int = 800, samples: int = 40_960,
        chunk: int = 2048, repeats: int = 3) -> dict[str, float]:
    task = make_source(SourceParams(latent_dim=latent_dim, input_dim=input_dim))
    fmap = random_features(hidden, input_dim, "erf", np.random.default_rng(0))
    rng = np.random.default_rng(1)
    c = rng.standard_normal((chunk, latent_dim))
    x = rng.standard_normal((chunk, input_dim))
    phi = rng.standard_normal((chunk, hidden))
    weights_t = np.ascontiguousarray(fmap.weights.T)

    def bare() -> None:
        second = np.zeros((hidden, hidden), order="F")
        cross = np.zeros((hidden, latent_dim))
        latent = np.zeros((latent_dim, latent_dim))
        for _ in range(samples // chunk):
            np.matmul(c, task.features, out=x)
            np.matmul(x, weights_t, out=phi)
            second = dsyrk(1.0, phi.T, beta=1.0, c=second, trans=0, overwrite_c=1)
            cross += phi.T @ c
            latent += c.T @ c

    def ours() -> None:
        monte_carlo_covariances(task, fmap, samples, np.random.default_rng(2), chunk_size=chunk)

    t_ours, t_bare = interleaved(ours, bare, repeats)
    return {"ours_s": t_ours, "bare_matmuls_s": t_bare, "ratio": t_ours / t_bare}


def main_with(samples: int = 40_960) -> None:
    r = run(samples=samples)
    print(f"[covariances] D=200 N=K=800 M={samples}: ours {r['ours_s']:.3f}s, bare matmuls "
          f"{r['bare_matmuls_s']:.3f}s, ratio {r['ratio']:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=40_960)
    main_with(parser.parse_args().samples)


if __name__ == "__main__":
    main()
