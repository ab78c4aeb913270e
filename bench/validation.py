"""Theory against simulation at the sizes of MODEL.md (long: about 10 minutes on two cores).

Runs the learning curve of tf, rf and linear at D = 200, N = K = 800, n_s = 8000 for two targets,
with 4 simulation seeds at alpha in {0.5, 1, 2, 4}, and writes the table to docs/validation.md.
Acceptance (issue 2): |theory - simulation| <= 0.01 for every protocol and alpha.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

from tlprobe.contract.learning_curve import (
    LearningCurveRequest,
    NetworkParams,
    SimulationParams,
    SourceParams,
    TargetParams,
    TheoryParams,
)
from worker.science import SCIENCE_VERSION
from worker.science.learning_curve import run_learning_curve

TARGETS = {"feature_noise=0.3, teacher_noise=0.1": TargetParams(feature_noise=0.3, teacher_noise=0.1),
           "feature_substitution=0.5": TargetParams(feature_substitution=0.5)}
THRESHOLD = 0.01


def spec(target: TargetParams) -> LearningCurveRequest:
    return LearningCurveRequest(
        source=SourceParams(latent_dim=200, input_dim=800), target=target,
        network=NetworkParams(hidden_units=800, n_samples=8000, epochs=300, learning_rate=0.01, weight_decay=1e-4),
        alphas=[0.5, 1.0, 2.0, 4.0], protocols=["tf", "rf", "linear"], theory=TheoryParams(mc_samples=200_000),
        simulation=SimulationParams(seeds=[0, 1, 2, 3], test_samples=20_000))


def main(out: Path = Path("docs/validation.md")) -> int:
    lines = [
        "# Validation: theory against simulation at N = K = 800",
        "",
        "Written by `make validate` (`python -m bench.validation`); do not edit by hand.",
        f"Science version {SCIENCE_VERSION}, Python {platform.python_version()}.",
        "",
        "Setting (MODEL.md section 4): erf/erf, D = 200, N = K = 800, n_s = 8000 source samples, Adam",
        "(300 full-batch epochs, learning rate 0.01, weight decay 1e-4), logistic readout with lambda = 0.1,",
        "theory from M = 200000 Monte Carlo samples, simulation mean over 4 seeds with 20000 test samples.",
        f"Acceptance: |theory - simulation| <= {THRESHOLD} for every protocol and alpha.",
        "",
    ]
    worst = 0.0
    for label, target in TARGETS.items():
        start = time.perf_counter()
        result = run_learning_curve(spec(target))
        elapsed = time.perf_counter() - start
        lines += [f"## Target: {label}", "",
                  f"Source test error {result['source_test_error']:.4f}; run time {elapsed:.0f} s.", "",
                  "| protocol | alpha | theory | MC error | simulation | s.e.m. | gap |",
                  "|---|---|---|---|---|---|---|"]
        for protocol, curve in result["curves"].items():
            theory, sim = curve["theory"], curve["simulation"]
            mc = theory["test_error_mc_error"] or [0.0] * len(result["alphas"])
            for i, alpha in enumerate(result["alphas"]):
                gap = abs(theory["test_error"][i] - sim["test_error_mean"][i])
                worst = max(worst, gap)
                lines.append(f"| {protocol} | {alpha:g} | {theory['test_error'][i]:.4f} | {mc[i]:.4f} | "
                             f"{sim['test_error_mean'][i]:.4f} | {sim['test_error_sem'][i]:.4f} | {gap:.4f} |")
        lines.append("")
        print(f"{label}: done in {elapsed:.0f}s", file=sys.stderr)
    verdict = "PASS" if worst <= THRESHOLD else "FAIL"
    lines += [f"Largest gap: {worst:.4f} ({verdict}, threshold {THRESHOLD}).", ""]
    out.write_text("\n".join(lines))
    print(f"largest gap {worst:.4f}: {verdict}; table in {out}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
