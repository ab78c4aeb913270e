"""Why is the theory pessimistic for relu networks? (issue 9, section 4, second part)

Setting of the issue: tanh source (sigma = tanh), relu network, D = N / 5, K = N, target = source (no
noise), lambda = 0.1, alpha in ALPHAS; default N = 200 (D = 40) and larger N to see the trend. Per N
and protocol (tf, rf) it separates the candidate causes:

  centring      the feature mean used (MEAN_SAMPLES Monte Carlo) against a 10x larger estimate, and
                the mean of the centred features on the simulation's test set in units of its s.e.;
                the theory recomputed with the larger-sample mean;
  covariances   the theory from the default M with the plain sample moments (science version 1),
                with the regression estimator, and from 8x more samples (regression): how much of
                the gap estimation noise or bias can explain;
  Gaussian      a simulation of the Gaussian covariate model itself: (c, phi) drawn jointly Gaussian
  equivalence   with the estimated (Psi = I, Phi, Omega), the same readout, lambda and sample sizes.
                It differs from the theory only by the finite n of training, and from the real
                simulation only by the non-Gaussianity of the real features (what the GCM assumes away);
  simulation    the real readout on real features (the tool's simulation).

So: theory - real = (theory - Gaussian simulation) + (Gaussian simulation - real). A centring or
covariance error shows up in the first two checks; a finite-size failure of Gaussian equivalence in
the last difference, shrinking with N. Results are cached in docs/data/relu_gap.json:
`python -m bench.relu_gap [--sizes 200 400 800]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import versioned
from tlprobe.contract.learning_curve import (
    LearningCurveRequest,
    NetworkParams,
    ReadoutParams,
    SourceParams,
    TargetParams,
)
from worker.science import SCIENCE_VERSION
from worker.science.artifacts import MemoryArtifactStore
from worker.science.covariances import monte_carlo_covariances
from worker.science.curve_orchestrator import feature_map
from worker.science.curve_run import CurveRun
from worker.science.features import MEAN_SAMPLES, centred
from worker.science.gcm.solver import solve_curve
from worker.science.gcm.spectrum import reduce_to_spectrum
from worker.science.readout import fit_readout
from worker.science.simulate import ReadoutProtocol, TaskSamples, simulate
from worker.science.source_network import train_source_network
from worker.science.synthetic_source import SyntheticSource

DATA = Path("docs/data/relu_gap.json")
ALPHAS = [0.25, 1.0, 4.0]
LAMBDA = 0.1
MC_SAMPLES = 50_000  # the default TheoryParams.mc_samples
SEEDS = {200: 16, 400: 10, 800: 6}
TEST_SAMPLES = {200: 20_000, 400: 20_000, 800: 20_000}


def spec(n: int) -> LearningCurveRequest:
    # the defaults at N = 200 (n_s = 2000, 300 epochs); n_s = 10 N and 300 epochs would not fit
    # the budget at N = 800, so larger N use n_s = 5 N and 150 epochs (the source network only has to
    # give some learned feature map, the same one for theory and simulation)
    n_samples, epochs = (2000, 300) if n == 200 else (5 * n, 150)
    return LearningCurveRequest(
        source=SourceParams(latent_dim=n // 5, input_dim=n, activation="tanh"), target=TargetParams(),
        network=NetworkParams(hidden_units=n, activation="relu", n_samples=n_samples, epochs=epochs),
        readout=ReadoutParams(regularisation=LAMBDA), alphas=ALPHAS, protocols=["tf", "rf"])


def theory(omega: np.ndarray, phi: np.ndarray, teacher: np.ndarray, n: int) -> list[float]:
    spectrum = reduce_to_spectrum(omega, phi, teacher)
    return [p.test_error for p in solve_curve(spectrum, "logistic", LAMBDA, [a * n / spectrum.p for a in ALPHAS])]


def gaussian_simulation(omega: np.ndarray, phi: np.ndarray, teacher: np.ndarray, n: int, seeds: int,
                        test_samples: int) -> tuple[list[float], list[float]]:
    """Readout test error on data of the Gaussian covariate model with these covariances (Psi = I)."""
    k, p = phi.shape[1], phi.shape[0]
    residual = omega - phi @ phi.T
    eig, vec = np.linalg.eigh(residual)
    root = vec * np.sqrt(np.clip(eig, 0.0, None))  # residual = root root^T

    def draw(m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        latents = rng.standard_normal((m, k))
        features = latents @ phi.T + rng.standard_normal((m, p)) @ root.T
        return features, np.where(latents @ teacher >= 0, 1.0, -1.0)

    errors = np.zeros((seeds, len(ALPHAS)))
    for seed in range(seeds):
        rng = np.random.default_rng([seed, 7])
        test_x, test_y = draw(test_samples, rng)
        train_x, train_y = draw(int(round(ALPHAS[-1] * n)), rng)
        for a, alpha in enumerate(ALPHAS):
            m = int(round(alpha * n))
            readout = fit_readout(train_x[:m], train_y[:m], "logistic", LAMBDA)
            errors[seed, a] = readout.error(test_x, test_y)
    return errors.mean(axis=0).tolist(), (errors.std(axis=0, ddof=1) / np.sqrt(seeds)).tolist()


def study(n: int) -> dict[str, Any]:
    request = spec(n)
    run, data = CurveRun(MemoryArtifactStore()), SyntheticSource(request)
    target = data.target_task
    network, summary = train_source_network(run, data)
    out: dict[str, Any] = {"source_test_error": summary["test_error"], "alphas": ALPHAS, "protocols": {}}
    samples = TaskSamples(target, TEST_SAMPLES[n])
    for protocol in request.protocols:
        fmap = feature_map(run, data, protocol, network)
        big_mean = centred(fmap, target, np.random.default_rng([n, 11]), n_samples=10 * MEAN_SAMPLES).mean
        rng = lambda salt: np.random.default_rng([n, salt])  # noqa: E731
        plain = monte_carlo_covariances(target, fmap, MC_SAMPLES, rng(1), control_variate=False).full
        regression = monte_carlo_covariances(target, fmap, MC_SAMPLES, rng(1)).full
        large = monte_carlo_covariances(target, fmap, 8 * MC_SAMPLES, rng(2)).full
        refit = type(fmap)(fmap.protocol, fmap.weights, fmap.activation, big_mean)
        recentred = monte_carlo_covariances(target, refit, MC_SAMPLES, rng(1)).full
        sim = simulate(samples, ALPHAS, list(range(SEEDS[n])),
                       readouts={"r": ReadoutProtocol(fmap, "logistic", [LAMBDA] * len(ALPHAS))}, networks={},
                       network_spec=request.network)["r"]
        test_x, _ = samples.test_set(0)
        test_features = fmap(test_x)
        centred_mean = test_features.mean(axis=0)
        z = centred_mean / (test_features.std(axis=0) / np.sqrt(len(test_x)))
        gauss, gauss_sem = gaussian_simulation(large.omega, large.phi, target.teacher, n, SEEDS[n], TEST_SAMPLES[n])
        out["protocols"][protocol] = {
            "mean_raw_norm": float(np.linalg.norm(fmap.mean) / np.sqrt(fmap.dim)),
            "mean_change_norm": float(np.linalg.norm(big_mean - fmap.mean) / np.sqrt(fmap.dim)),
            "test_mean_z_rms": float(np.sqrt(np.mean(z**2))),
            "theory_plain": theory(plain.omega, plain.phi, target.teacher, n),
            "theory_regression": theory(regression.omega, regression.phi, target.teacher, n),
            "theory_large_m": theory(large.omega, large.phi, target.teacher, n),
            "theory_recentred": theory(recentred.omega, recentred.phi, target.teacher, n),
            "gaussian_simulation": gauss, "gaussian_simulation_sem": gauss_sem,
            "simulation": sim.mean.tolist(), "simulation_sem": sim.sem.tolist(),
        }
    return out


def render(path: Path = DATA) -> list[str]:
    """The section of docs/validation.md (raises FileNotFoundError without the cache)."""
    cache, version = versioned.newest(path)
    entries = sorted(((int(k.split("=")[1]), v) for k, v in versioned.at(cache, version).items()),
                     key=lambda item: item[0])
    lines = ["## The relu question: tanh source, relu network", "",
             "Written from `docs/data/relu_gap.json` (`python -m bench.relu_gap`, module docstring for the method),",
             f"computed at science version {version}.",
             f"tanh inputs, relu network, D = N/5, K = N, target = source, lambda = {LAMBDA}, theory from "
             f"M = {MC_SAMPLES} samples unless stated; at N = 200 the issue's network (n_s = 2000, 300 epochs),",
             "above it n_s = 5N, 150 epochs. Columns: theory with the plain sample moments (science version 1),",
             "with the regression estimator (version 3), with 8x more samples, with the feature mean from 10x",
             "more samples; a simulation of the Gaussian covariate model with the same covariances (\"Gauss sim\");",
             "the real simulation; gap = theory (8M) - real, split into theory - Gauss sim (solver and finite n",
             "of training) and Gauss sim - real (non-Gaussianity of the real features). The reading is in",
             "[model.md](model.md), \"Finite size\".", "",
             "| N | protocol | alpha | theory plain | theory reg. | theory 8M | theory recentred | Gauss sim | real sim | "
             "gap | theory - Gauss | Gauss - real |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for n, entry in entries:
        for protocol, r in entry["protocols"].items():
            for i, alpha in enumerate(entry["alphas"]):
                big, gauss, real = r["theory_large_m"][i], r["gaussian_simulation"][i], r["simulation"][i]
                gs, rs = r["gaussian_simulation_sem"][i], r["simulation_sem"][i]
                lines.append(
                    f"| {n} | {protocol} | {alpha:g} | {r['theory_plain'][i]:.4f} | {r['theory_regression'][i]:.4f} | "
                    f"{big:.4f} | {r['theory_recentred'][i]:.4f} | {gauss:.4f} ± {gs:.4f} | {real:.4f} ± {rs:.4f} | "
                    f"{big - real:+.4f} | {big - gauss:+.4f} | {gauss - real:+.4f} ± {np.hypot(gs, rs):.4f} |")
            notes.append(f"N = {n}, {protocol}: feature mean rms {r['mean_raw_norm']:.3f}; it moves by "
                         f"{r['mean_change_norm']:.1e} (rms) with 10x more samples; on the simulation's test set the "
                         f"centred features' means are {r['test_mean_z_rms']:.2f} standard errors from zero (rms; 1 "
                         f"if centred right).")
    return lines + [""] + [f"- {note}" for note in notes] + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 800])
    args = parser.parse_args(argv)
    cache = json.loads(DATA.read_text()) if DATA.exists() else {}
    for n in args.sizes:
        key = f"v{SCIENCE_VERSION}/N={n}"
        if key not in cache:
            start = time.perf_counter()
            cache[key] = study(n) | {"seconds": round(time.perf_counter() - start, 1)}
            DATA.parent.mkdir(parents=True, exist_ok=True)
            DATA.write_text(json.dumps(cache, indent=1, sort_keys=True))
        entry = cache[key]
        for protocol, r in entry["protocols"].items():
            for i, alpha in enumerate(ALPHAS):
                print(f"N={n} {protocol} alpha={alpha:g}: theory {r['theory_regression'][i]:.4f} "
                      f"(plain {r['theory_plain'][i]:.4f}, 8M {r['theory_large_m'][i]:.4f}, "
                      f"recentred {r['theory_recentred'][i]:.4f}) gauss-sim {r['gaussian_simulation'][i]:.4f} "
                      f"+- {r['gaussian_simulation_sem'][i]:.4f} sim {r['simulation'][i]:.4f} "
                      f"+- {r['simulation_sem'][i]:.4f}")
            print(f"   mean |mu| {r['mean_raw_norm']:.3f}, change with 10x samples {r['mean_change_norm']:.2e}, "
                  f"test-set mean of centred features: rms z {r['test_mean_z_rms']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
