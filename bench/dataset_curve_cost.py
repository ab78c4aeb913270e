"""What the Gaussian-equivalent curve and the tuning cost on datasets, in one run: one row of the digits
diagram (examples/digits_diagram.py: n_s = 719, K = 100, six alphas, tf and scratch, 5 seeds), by the
engine alone, with and without ``theory``, with the oracle or a fixed lambda under the fixed rule, and
under the default practitioner rule (every hyperparameter cross-validated).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m bench.dataset_curve_cost [OUT.json]

Prints each variant's seconds and stage timings, and ratios: the Gaussian-equivalent stage's share of
a run with the oracle lambda (which it chooses) and with a fixed one; and the practitioner's run against
the fixed rule's, without theory (what cross-validating lambda, weight decay and epochs costs).
(Science version 3's numbers, docs/data/dataset_diagram_cost.json, compared the Gaussian-equivalent stage
with the pooled cross-validation of lambda that replaced it without theory, a stage that no longer exists.)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data import Dataset
from worker.science.dataset_source import DatasetSplitSource

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "data" / "digits.npz"
SOURCE, TARGET = "ds-" + "1" * 40, "ds-" + "2" * 40  # ids only name the sets here
FIXED = {"tuning": {"rule": "fixed"}}
VARIANTS = {
    "theory, oracle lambda (the Gaussian-equivalent model chooses it)": {"readout": {"regularisation": "oracle"}, **FIXED},
    "theory, fixed lambda 0.01": {"readout": {"regularisation": 0.01}, **FIXED},
    "no theory, fixed lambda 0.01": {"theory": None, "readout": {"regularisation": 0.01}, **FIXED},
    "no theory, practitioner (the default rule)": {"theory": None},
}


def digit_sets() -> tuple[Dataset, Dataset]:
    """The source (digit < 5) and the related target (digit < 4) of the digits example."""
    with np.load(DIGITS, allow_pickle=False) as data:
        images, digits = data["images"].astype(np.float64), data["digits"]
    order = np.random.default_rng(0).permutation(len(images))
    source, target = order[:899], order[899:]
    return (Dataset(images[source], np.where(digits[source] < 5, 1.0, -1.0)),
            Dataset(images[target], np.where(digits[target] < 4, 1.0, -1.0)))


def run_dataset_curve(request: LearningCurveRequest, source: Dataset, target: Dataset) -> dict:
    return run_learning_curve(DatasetSplitSource(request, source, target)).model_dump(mode="json")


def main(out: str | None = None) -> dict:
    source, target = digit_sets()
    base = {"source": {"dataset": SOURCE}, "target": {"dataset": TARGET},
            "network": {"hidden_units": 100, "epochs": 300, "n_samples": 719},
            "alphas": [0.25, 0.5, 1.0, 2.0, 4.0, 8.0], "protocols": ["tf", "scratch"], "simulation": {"seeds": 5}}
    run_dataset_curve(LearningCurveRequest.model_validate({**base, "theory": None, "simulation": {"seeds": [0]},
                                                           "alphas": [0.25]}), source, target)  # warm-up
    seconds: dict[str, float] = {}
    timings: dict[str, dict[str, float]] = {}
    for name, changes in VARIANTS.items():
        start = time.perf_counter()
        result = run_dataset_curve(LearningCurveRequest.model_validate({**base, **changes}), source, target)
        seconds[name], timings[name] = round(time.perf_counter() - start, 2), result["meta"]["timings"]
        print(f"[dataset curve cost] {name}: {seconds[name]:.1f} s (engine timings {timings[name]})")
    names = list(VARIANTS)
    equivalent = {name: timings[name].get("covariances:tf", 0.0) + timings[name].get("gaussian_equivalent:tf", 0.0)
                  for name in names}
    ratios = {"oracle lambda: Gaussian-equivalent stage / whole run": round(equivalent[names[0]] / seconds[names[0]], 2),
              "fixed lambda: Gaussian-equivalent stage / whole run": round(equivalent[names[1]] / seconds[names[1]], 2),
              "no theory: practitioner / fixed rule": round(seconds[names[3]] / seconds[names[2]], 2)}
    for name, ratio in ratios.items():
        print(f"[dataset curve cost] {name}: {ratio:.2f}")
    record = {"seconds": seconds, "timings": timings, "ratios": ratios, "request": base}
    if out:
        Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record


if __name__ == "__main__":
    main(*sys.argv[1:])
