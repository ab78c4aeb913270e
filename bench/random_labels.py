"""Random labels on datasets (issue 19, part 2): with labels drawn independently of the inputs, no rule fits
them out of sample and no protocol can beat chance on the held-out split unless held-out labels entered
a choice. ``python -m bench.random_labels`` (``--refresh`` recomputes; a few minutes on one core).

Per draw: a source and a target set of standard normal inputs (N = 100) with labels +-1 at random; the
target's training split holds n = 1.2 N, 2 N or 5 N samples and its held-out split 1000. Reported: the
learning curve's ``teacher_fit_error`` (out of sample since science version 4) and ``teacher_fit_note``,
the in-sample error of the same least-squares teacher (what version 3 reported), and every protocol's
held-out test error at alpha = 0.5 and 1 under the default (practitioner) rule. Expected: 0.5 within the
binomial spread, sqrt(0.25 / n) for a fit error over n samples (times up to 1.35 for the folds'
correlation, tests/worker/science/test_dataset_curve.py) and sqrt(0.25 / 1000) = 0.016 for a test error.
Cached in docs/data/random_labels.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data import Dataset
from worker.science.dataset_source import DatasetSplitSource
from worker.science.gaussian_equivalent import linear_teacher

DATA = Path("docs/data/random_labels.json")
SOURCE, TARGET = "ds-" + "5" * 40, "ds-" + "6" * 40  # ids only name the sets here
INPUTS, HELD_OUT, DRAWS = 100, 1000, 4
PER_INPUT = [1.2, 2.0, 5.0]
PROTOCOLS = ["tf", "rf", "linear", "scratch", "finetune"]


def random_set(samples: int, rng: np.random.Generator) -> Dataset:
    return Dataset(rng.standard_normal((samples, INPUTS)), np.where(rng.random(samples) < 0.5, 1.0, -1.0))


def one(per_input: float, draw: int) -> dict:
    rng = np.random.default_rng([draw, int(per_input * 10)])
    pool = int(round(per_input * INPUTS))
    source, target = random_set(600, rng), random_set(pool + HELD_OUT, rng)
    request = LearningCurveRequest.model_validate({
        "source": {"dataset": SOURCE}, "target": {"dataset": TARGET, "test_fraction": HELD_OUT / (pool + HELD_OUT)},
        "network": {"hidden_units": 50, "n_samples": 480, "epochs": 60}, "alphas": [0.5, 1.0],
        "protocols": PROTOCOLS, "theory": {"mc_samples": 5000},
        "simulation": {"seeds": 2, "test_samples": HELD_OUT, "scratch": {"epochs": 60}, "finetune": {"epochs": 30}}})
    split = DatasetSplitSource(request, source, target)
    result = run_learning_curve(split).model_dump(mode="json")
    training = split.target_split[0]
    in_sample = linear_teacher(training).wrong(training.inputs, training.labels) / training.samples
    return {"per_input": per_input, "draw": draw, "training_split": training.samples,
            "teacher_fit_error": result["data"]["teacher_fit_error"], "teacher_fit_note": result["data"]["teacher_fit_note"],
            "in_sample_fit_error": in_sample, "tuning": result["tuning"],
            "test_errors": {p: result["curves"][p]["simulation"]["test_errors"] for p in PROTOCOLS}}


def summary(records: list[dict]) -> list[str]:
    lines = ["| n / N | teacher_fit_error (out of sample) | in-sample (version 3) | note | " +
             " | ".join(PROTOCOLS) + " |", "|---|---|---|---|" + "---|" * len(PROTOCOLS)]
    for per_input in PER_INPUT:
        rows = [r for r in records if r["per_input"] == per_input]
        fit = np.array([r["teacher_fit_error"] for r in rows])
        inside = np.array([r["in_sample_fit_error"] for r in rows])
        cells = []
        for p in PROTOCOLS:
            errors = np.array([e for r in rows for row in r["test_errors"][p] for e in row])
            cells.append(f"{errors.mean():.3f} [{errors.min():.3f}, {errors.max():.3f}]")
        note = "set" if all(r["teacher_fit_note"] for r in rows) else ("none" if not any(r["teacher_fit_note"] for r in rows)
                                                                     else "some")
        lines.append(f"| {per_input:g} | {fit.mean():.3f} [{fit.min():.3f}, {fit.max():.3f}] | "
                     f"{inside.mean():.3f} [{inside.min():.3f}, {inside.max():.3f}] | {note} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv)
    if args.refresh or not DATA.exists():
        records = []
        for per_input in PER_INPUT:
            for draw in range(DRAWS):
                records.append(one(per_input, draw))
                print(f"[random labels] n/N = {per_input:g}, draw {draw}: fit error "
                      f"{records[-1]['teacher_fit_error']:.3f} (in sample {records[-1]['in_sample_fit_error']:.3f})",
                      flush=True)
        DATA.write_text(json.dumps({"records": records}, indent=1) + "\n")
    records = json.loads(DATA.read_text())["records"]
    print(f"mean [min, max] over {DRAWS} draws; test errors over draws, 2 seeds and alpha 0.5, 1 (1000 held-out samples):")
    print("\n".join(summary(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
