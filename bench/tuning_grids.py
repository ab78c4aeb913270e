"""The pilot behind the tuning rules' candidates (docs/model.md, "How hyperparameters are chosen"):
``python -m bench.tuning_grids`` (``--refresh`` recomputes; about ten minutes on one core).

At the default sizes (erf/erf, D = 50, N = K = 200, n_s = 2000), on four targets (the source task,
feature noise 0.5, teacher noise 0.5, feature noise 1), alpha 0.25, 1 and 4 and one simulation seed
(5, which no study of docs/ uses otherwise): scratch trained 600 epochs at each of seven weight decays
from 0 to 1e-2, finetune 300 epochs from the probe (tf's readout at the best of five lambdas on the test
set: a pilot, not a result) at each of six anchor strengths from 0 to 2000, the test error (5000
samples) at checkpoints along each run. It ranks candidates only where they differ by more than about
0.006 (one seed, binomial error of 5000 test samples at an error of 0.15). Cached in
docs/data/tuning_grids.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tlprobe.contract.learning_curve import FinetuneParams, LearningCurveRequest, TargetParams
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_run import CurveRun
from worker.science.features import transferred_features
from worker.science.finetune import _trainer, probe
from worker.science.network import Trainer, initial_network
from worker.science.seeding import Stream, generator
from worker.science.simulate import TaskSamples, sample_sizes
from worker.science.source_network import train_source_network
from worker.science.synthetic_source import SyntheticSource

DATA = Path("docs/data/tuning_grids.json")
TARGETS = {"same": {}, "fn0.5": {"feature_noise": 0.5}, "tn0.5": {"teacher_noise": 0.5}, "fn1": {"feature_noise": 1.0}}
ALPHAS = [0.25, 1.0, 4.0]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
ANCHORS = [0.0, 0.2, 2.0, 20.0, 200.0, 2000.0]
CHECKPOINTS = [10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600]
SEED = 5


def compute() -> dict:
    store, out = MemoryArtifactStore(), {}
    for name, knobs in TARGETS.items():
        spec = LearningCurveRequest(target=TargetParams(**knobs), alphas=ALPHAS, protocols=["tf"], simulation=None)
        data = SyntheticSource(spec)
        network, _ = train_source_network(CurveRun(store), data)
        features = transferred_features(network)  # erf/erf: the population mean is zero
        samples = TaskSamples(data.target_task, 5000)
        test_x, test_y = samples.test_set(SEED)
        for a, n in enumerate(sample_sizes(ALPHAS, 200)):
            x, y = samples.training_set(SEED, n)
            record = {"scratch": {}, "finetune": {}}
            for wd in WEIGHT_DECAYS:
                start = initial_network(200, 200, "erf", generator(SEED, Stream.SIM_NETWORK_INIT))
                trainer = Trainer(start, x, y, learning_rate=0.01, weight_decay=wd, batch_size=None,
                                  rng=np.random.default_rng(0))
                errors = {}
                for epoch in range(1, CHECKPOINTS[-1] + 1):
                    trainer.epoch()
                    if epoch in CHECKPOINTS:
                        errors[epoch] = trainer.network.error(test_x, test_y)
                record["scratch"][wd] = errors
            best = None
            for lam in [1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
                start = probe(network, features, x, y, lam)
                error = start.error(test_x, test_y)
                if best is None or error < best[0]:
                    best = (error, lam, start)
            record["tf"], record["lambda"] = best[0], best[1]
            for mu in ANCHORS:
                trainer = _trainer(best[2], network, x, y, best[1], FinetuneParams(regularisation=mu, epochs=300),
                                   np.random.default_rng(0))
                errors = {0: best[0]}
                for epoch in range(1, 301):
                    trainer.epoch()
                    if epoch in CHECKPOINTS:
                        errors[epoch] = trainer.network.error(test_x, test_y)
                record["finetune"][mu] = errors
            out[f"{name} {ALPHAS[a]}"] = record
            print(f"[tuning grids] {name} alpha={ALPHAS[a]:g}", flush=True)
    return out


def summary(data: dict) -> list[str]:
    """Per target and alpha: each candidate's best test error over the checkpoints (its epoch), and the
    best overall."""
    lines = ["| target, alpha | " + " | ".join(f"scratch wd {wd:g}" for wd in WEIGHT_DECAYS) + " |",
             "|---|" + "---|" * len(WEIGHT_DECAYS)]
    for key, record in data.items():
        cells = []
        for wd in WEIGHT_DECAYS:
            errors = record["scratch"][str(wd)]
            epoch = min(errors, key=lambda e: (errors[e], int(e)))
            cells.append(f"{errors[epoch]:.3f} ({epoch})")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", "| target, alpha | tf | " + " | ".join(f"finetune mu {mu:g}" for mu in ANCHORS) + " |",
              "|---|---|" + "---|" * len(ANCHORS)]
    for key, record in data.items():
        cells = []
        for mu in ANCHORS:
            errors = record["finetune"][str(mu)]
            epoch = min(errors, key=lambda e: (errors[e], int(e)))
            cells.append(f"{errors[epoch]:.3f} ({epoch})")
        lines.append(f"| {key} | {record['tf']:.3f} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv)
    if args.refresh or not DATA.exists():
        DATA.write_text(json.dumps({"note": "computed by this module", "records": compute()}, indent=1) + "\n")
    data = json.loads(DATA.read_text())["records"]
    print("best test error over the checkpoints (its epoch), one seed:")
    print("\n".join(summary(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
