"""The finite-size study: the theory - simulation gap against N (issue 9, section 4).

For N in SIZES = 200, 400, 800, 1600 (D = N / 4, K = N), network activation sigma_h in {erf, relu}
(inputs sigma = erf), two targets and alpha in ALPHAS, one learning curve of tf, rf and linear: theory (GCM on the Monte
Carlo covariances, regression estimator) against simulation (mean over seeds). The readout lambda is
the oracle ('oracle'; 'optimal', the default, until science version 3): the theory picks lambda per
protocol and alpha, and the simulation fits the readout at that same lambda, so theory and simulation
always describe the same estimator.

The budget (at most about an hour of one core for the whole study) fixes the scaling of the
settings with N, chosen so that the gap, not the budget, is measured:
  source network  n_s = 5 N samples, 100 full-batch Adam epochs (lr 0.01, wd 1e-4): it only has to
                  give *some* learned feature map, the same one to theory and simulation; tf stops at
                  N = 800 (at N = 1600 training alone would exceed the budget);
  Monte Carlo     M = max(50000, 40 p) samples for the tf / rf covariances;
  simulation      SEEDS[N] seeds with TEST_SAMPLES[N] test samples each: fewer seeds at larger N,
                  where the training set's fluctuation shrinks, and more test samples, since the
                  test set's binomial noise (about 0.0036 per 10000 samples at an error of 0.15)
                  does not shrink with N while the gap does.
Linear features do not depend on the network, so linear runs once per (N, target) (with erf).

Each curve is cached in docs/data/finite_size.json under its key (science version included), so a
re-run computes only what is missing: `python -m bench.finite_size [--sizes 200 400 ...]`.
``pooled`` averages the signed gap (theory - simulation) over targets and alphas per (protocol,
sigma_h, N), and ``fit`` fits gap = c N^-gamma to those averages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tlprobe.contract.learning_curve import (
    LearningCurveRequest,
    NetworkParams,
    ReadoutParams,
    SimulationParams,
    SourceParams,
    TargetParams,
    TheoryParams,
)
from worker.science import SCIENCE_VERSION
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.synthetic_source import SyntheticSource

DATA = Path("docs/data/finite_size.json")
SIZES = [200, 400, 800, 1600]
TF_MAX_N = 800
ALPHAS = [0.5, 1.0, 2.0, 4.0]
ACTIVATIONS = ["erf", "relu"]
TARGETS = {"feature_noise=0.3, teacher_noise=0.1": {"feature_noise": 0.3, "teacher_noise": 0.1},
           "teacher_noise=0.5": {"teacher_noise": 0.5}}
SEEDS = {200: 16, 400: 12, 800: 8, 1600: 6}
TEST_SAMPLES = {200: 10_000, 400: 20_000, 800: 30_000, 1600: 30_000}


@dataclass(frozen=True)
class Cell:
    n: int
    activation: str
    target: str

    @property
    def key(self) -> str:
        return f"v{SCIENCE_VERSION}/N={self.n}/{self.activation}/{self.target}"

    def protocols(self) -> list[str]:
        protocols = ["tf"] if self.n <= TF_MAX_N else []
        protocols.append("rf")
        if self.activation == ACTIVATIONS[0]:
            protocols.append("linear")
        return protocols


def spec(cell: Cell) -> LearningCurveRequest:
    n = cell.n
    return LearningCurveRequest(
        source=SourceParams(latent_dim=n // 4, input_dim=n), target=TargetParams(**TARGETS[cell.target]),
        network=NetworkParams(hidden_units=n, activation=cell.activation, n_samples=5 * n, epochs=100,
                              learning_rate=0.01, weight_decay=1e-4),
        alphas=ALPHAS, protocols=cell.protocols(), theory=TheoryParams(mc_samples=max(50_000, 40 * n)),
        readout=ReadoutParams(regularisation="oracle"),
        simulation=SimulationParams(seeds=SEEDS[n], test_samples=TEST_SAMPLES[n]))


def summary(result: dict[str, Any], elapsed: float) -> dict[str, Any]:
    curves = {}
    for protocol, curve in result["curves"].items():
        theory, sim = curve["theory"], curve["simulation"]
        curves[protocol] = {
            "theory": theory["test_error"], "mc_error": theory["test_error_mc_error"] or [0.0] * len(result["alphas"]),
            "regularisation": theory["regularisation"], "simulation": sim["test_error_mean"],
            "sem": sim["test_error_sem"], "test_errors": sim["test_errors"]}
    return {"alphas": result["alphas"], "source_test_error": result["source_test_error"], "curves": curves,
            "timings": result["meta"]["timings"], "seconds": round(elapsed, 1)}


def load(path: Path = DATA) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def assertions_and_cells(checks: list[tuple[str, bool, str]], table: list[dict[str, Any]], column: str) -> list[str]:
    """A study section's tail: its PASS/FAIL lines, then every cell, the activation's place holding
    ``column`` (the noise level, the layer) with its two-character prefix dropped."""
    lines = ["", "### Assertions", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {what} ({detail})" for what, ok, detail in checks]
    lines += ["", "### Every cell", "",
              f"| protocol | {column} | target | alpha | lambda | theory | MC error | simulation | s.e.m. | gap |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(table, key=lambda r: (r["protocol"], r["activation"], r["target"], r["alpha"])):
        lines.append(f"| {r['protocol']} | {r['activation'][2:]} | {r['target']} | {r['alpha']:g} | {r['lambda']:.2g} | "
                     f"{r['theory']:.4f} | {r['mc_error']:.4f} | {r['simulation']:.4f} | {r['sem']:.4f} | "
                     f"{r['gap']:+.4f} |")
    return lines


def save(path: Path, key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Add one computed entry to a study's cache file (keeping what another run saved meanwhile), print
    its time, and return the whole cache."""
    cache = {**load(path), key: entry}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cache, indent=1, sort_keys=True))
    print(f"{key}: {entry['seconds']:.0f}s", file=sys.stderr, flush=True)
    return cache


def run(sizes: list[int], path: Path = DATA) -> dict[str, Any]:
    """Compute every missing cell of ``sizes`` (saving after each), and return the whole cache."""
    cache = load(path)
    for n in sizes:
        for activation in ACTIVATIONS:
            store = MemoryArtifactStore()  # one source network per (N, sigma_h), shared by the targets
            for target in TARGETS:
                cell = Cell(n, activation, target)
                if cell.key in cache:
                    continue
                start = time.perf_counter()
                result = run_learning_curve(SyntheticSource(spec(cell)), store).model_dump(mode="json")
                cache = save(path, cell.key, summary(result, time.perf_counter() - start))
    return cache


# --- analysis ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pooled:
    """The signed gap theory - simulation of one (protocol, sigma_h, N), pooled over targets and alphas."""

    protocol: str
    activation: str
    n: int
    mean: float  # mean signed gap
    se: float  # its standard error (simulation s.e.m. and theory MC error, independent per cell)
    largest: float  # largest |gap| of a single cell
    cells: int


def rows(cache: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (N, sigma_h, target, protocol, alpha) of the current science version."""
    out = []
    for key, entry in cache.items():
        version, size, activation, target = key.split("/", 3)
        if version != f"v{SCIENCE_VERSION}":
            continue
        for protocol, curve in entry["curves"].items():
            for i, alpha in enumerate(entry["alphas"]):
                out.append({"n": int(size.split("=")[1]), "activation": activation, "target": target,
                            "protocol": protocol, "alpha": alpha, "theory": curve["theory"][i],
                            "mc_error": curve["mc_error"][i], "lambda": curve["regularisation"][i],
                            "simulation": curve["simulation"][i], "sem": curve["sem"][i],
                            "per_seed": curve["test_errors"][i],
                            "gap": curve["theory"][i] - curve["simulation"][i]})
    return sorted(out, key=lambda r: (r["protocol"], r["activation"], r["target"], r["alpha"], r["n"]))


def pooled(table: list[dict[str, Any]]) -> list[Pooled]:
    """Mean signed gap per (protocol, sigma_h, N). Its standard error comes from the spread over seeds
    of each seed's mean gap (the cells of one seed share its test and training samples, so they are
    not independent), with the theory's Monte Carlo errors added in quadrature."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for row in table:
        groups.setdefault((row["protocol"], row["activation"], row["n"]), []).append(row)
    out = []
    for (protocol, activation, n), members in sorted(groups.items()):
        gaps = np.array([r["gap"] for r in members])
        per_seed = np.array([[r["theory"] - e for e in r["per_seed"]] for r in members]).mean(axis=0)
        mc = np.sqrt(np.sum([r["mc_error"] ** 2 for r in members])) / len(members)
        se = float(np.hypot(per_seed.std(ddof=1) / np.sqrt(len(per_seed)), mc))
        out.append(Pooled(protocol, activation, n, float(gaps.mean()), se, float(np.max(np.abs(gaps))),
                          len(members)))
    return out


@dataclass(frozen=True)
class PowerLaw:
    """gap = c N^-gamma, fitted to the signed pooled gaps by weighted least squares; gamma's interval
    is where chi^2 rises by at most 1 (times the reduced chi^2 when that exceeds 1), within GAMMAS."""

    c: float
    gamma: float
    gamma_low: float
    gamma_high: float
    chi2: float
    dof: int

    def __call__(self, n: float) -> float:
        return self.c * n ** (-self.gamma)


GAMMAS = np.linspace(0.0, 4.0, 801)


def fit(points: list[Pooled]) -> PowerLaw | None:
    """The fit over every size (unresolved gaps included, with their errors); None with fewer than
    three sizes or no resolved gap at all."""
    if len(points) < 3 or not any(abs(p.mean) > 2 * p.se for p in points):
        return None
    n = np.array([p.n for p in points], dtype=float) / points[0].n
    g = np.array([p.mean for p in points])
    w = 1.0 / np.array([p.se for p in points]) ** 2
    x = n[None, :] ** -GAMMAS[:, None]  # (gammas, points)
    c = (x * g * w).sum(axis=1) / (x**2 * w).sum(axis=1)
    chi2 = ((g - c[:, None] * x) ** 2 * w).sum(axis=1)
    best = int(np.argmin(chi2))
    dof = len(points) - 2
    scale = max(1.0, chi2[best] / max(dof, 1))
    inside = GAMMAS[chi2 <= chi2[best] + scale]
    return PowerLaw(c=float(c[best] * points[0].n ** GAMMAS[best]), gamma=float(GAMMAS[best]),
                    gamma_low=float(inside.min()), gamma_high=float(inside.max()), chi2=float(chi2[best]), dof=dof)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--data", type=Path, default=DATA, help="the JSON cache")
    args = parser.parse_args(argv)
    cache = run(args.sizes, args.data)
    for point in pooled(rows(cache)):
        print(f"{point.protocol:6s} {point.activation:4s} N={point.n:5d} gap {point.mean:+.4f} +- {point.se:.4f} "
              f"(largest {point.largest:.4f}, {point.cells} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
