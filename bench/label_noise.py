"""Label noise: theory against simulation at N = K = 400 (issue 19, part 3; MODEL.md section 8).

The finite-size study's setting at N = 400 (``bench/finite_size.py``: D = N/4, K = N, erf inputs and
network, n_s = 5N samples and 100 full-batch Adam epochs, M = 50000 Monte Carlo samples, 12 seeds x 20000
test samples, alpha in {0.5, 1, 2, 4}, each readout at the theory's optimal lambda, the same two targets),
with every label flipped with probability p in {0.1, 0.25}, on the source and on the target alike: the
source network trains on flipped labels, the target's readouts train on flipped labels and are tested
against flipped labels, and the theory's channel has the flips (``gcm/channels.py``). Errors are against
the noisy labels in theory and simulation (a clean error e_c is p + (1 - 2p) e_c against them).

Each curve is cached in docs/data/label_noise.json; ``render`` writes its section of docs/validation.md
beside the noiseless gaps at N = 400 from the finite-size study's cache.
`python -m bench.label_noise` computes what is missing and prints the pooled gaps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import finite_size as fs
from bench import versioned
from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science import SCIENCE_VERSION
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.synthetic_source import SyntheticSource

DATA = Path("docs/data/label_noise.json")
N = 400
NOISE = [0.1, 0.25]
PROTOCOLS = ["tf", "rf", "linear"]
#: the gap allowed at N = 400 (the transfer-layer validation's, and above every noiseless pooled gap there)
THRESHOLD = 0.015


def key(noise: float, target: str) -> str:
    return f"v{SCIENCE_VERSION}/N={N}/p={noise:g}/{target}"


def spec(noise: float, target: str) -> LearningCurveRequest:
    body = fs.spec(fs.Cell(N, "erf", target)).model_dump(mode="json")
    body["source"]["label_noise"] = body["target"]["label_noise"] = noise
    return LearningCurveRequest.model_validate({**body, "protocols": PROTOCOLS})


def run(path: Path = DATA) -> dict[str, Any]:
    cache = fs.load(path)
    for noise in NOISE:
        store = MemoryArtifactStore()  # one source network per p, shared by the two targets
        for target in fs.TARGETS:
            if key(noise, target) in cache:
                continue
            start = time.perf_counter()
            result = run_learning_curve(SyntheticSource(spec(noise, target)), store).model_dump(mode="json")
            entry = fs.summary(result, time.perf_counter() - start)
            entry["source_train_error"] = result["source_train_error"]
            cache = fs.save(path, key(noise, target), entry)
    return cache


def rows(cache: dict[str, Any], version: int) -> list[dict[str, Any]]:
    """The finite-size study's rows of ``version``'s curves, with the noise level in place of the network's
    activation."""
    out = []
    for name, entry in versioned.at(cache, version).items():
        _, noise, target = name.split("/", 2)
        out += [{**row, "activation": noise} for row in versioned.finite_size_rows({f"N={N}/erf/{target}": entry})]
    return out


def noiseless(version: int) -> dict[str, fs.Pooled]:
    """The finite-size study's pooled gaps at N = 400 (erf network) at ``version``, by protocol."""
    table = versioned.finite_size_rows(versioned.at(fs.load(), version))
    return {p.protocol: p for p in fs.pooled(table) if p.n == N and p.activation == "erf"}


def checks(points: list[fs.Pooled], version: int) -> list[tuple[str, bool, str]]:
    """Per (protocol, p): the pooled gap within THRESHOLD, and within 3 standard errors of the noiseless
    gap at N = 400 (agreement like the noiseless case) of the same science version."""
    clean = noiseless(version)
    out = []
    for p in points:
        out.append((f"{p.protocol} at {p.activation}: |pooled gap| <= {THRESHOLD}", abs(p.mean) <= THRESHOLD,
                    f"{p.mean:+.4f} ± {p.se:.4f}"))
        if p.protocol in clean:
            base = clean[p.protocol]
            noise = 3 * float(np.hypot(p.se, base.se))
            out.append((f"{p.protocol} at {p.activation}: gap within 3 s.e. of the noiseless one",
                        abs(p.mean - base.mean) <= noise, f"{p.mean:+.4f} vs {base.mean:+.4f}, allowed {noise:.4f}"))
    return out


def render(path: Path = DATA) -> list[str]:
    cache, version = versioned.newest(path)
    table = rows(cache, version)
    points = fs.pooled(table)
    clean = noiseless(version)
    sources = {name.split("/")[1]: entry["source_test_error"] for name, entry in versioned.at(cache, version).items()}
    lines = ["", "## Label noise: theory against simulation at N = K = 400", "",
             "Written from `docs/data/label_noise.json` (`python -m bench.label_noise`, module docstring for the",
             f"method), computed at science version {version}. The finite-size study's setting at N = 400 (D = 100,",
             "erf inputs and network, n_s = 2000, 100 epochs, M = 50000, 12 seeds x 20000 test samples, the theory's",
             "optimal lambda, its two targets) with",
             "every label flipped with probability p, on source and target alike. Test errors are against the",
             "noisy labels, in theory and simulation. Source network's test error (noisy labels): "
             + ", ".join(f"{sources[f'p={p:g}']:.4f} at p = {p:g}" for p in NOISE if f"p={p:g}" in sources) + ".",
             "", "Pooled signed gap theory - simulation over 2 targets x 4 alphas (± one standard error, as in the",
             "finite-size study), beside the noiseless gap at N = 400:", "",
             "| protocol | p = 0 (finite-size study) | " + " | ".join(f"p = {p:g}" for p in NOISE) + " | largest cell |",
             "|---|---|" + "---|" * len(NOISE) + "---|"]
    for protocol in PROTOCOLS:
        line = {p.activation: p for p in points if p.protocol == protocol}
        cells = [f"{line[f'p={p:g}'].mean:+.4f} ± {line[f'p={p:g}'].se:.4f}" if f"p={p:g}" in line else "—"
                 for p in NOISE]
        base = f"{clean[protocol].mean:+.4f} ± {clean[protocol].se:.4f}" if protocol in clean else "—"
        largest = max((p.largest for p in line.values()), default=float("nan"))
        lines.append(f"| {protocol} | {base} | " + " | ".join(cells) + f" | {largest:.4f} |")
    return lines + fs.assertions_and_cells(checks(points, version), table, "p")


def main() -> int:
    cache = run()
    points = fs.pooled(rows(cache, int(SCIENCE_VERSION)))
    for point in points:
        print(f"{point.protocol:6s} {point.activation:6s} gap {point.mean:+.4f} +- {point.se:.4f} "
              f"(largest {point.largest:.4f}, {point.cells} cells)")
    results = checks(points, int(SCIENCE_VERSION))
    for what, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'} {what}: {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
