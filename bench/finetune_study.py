"""The study behind the scratch and finetune defaults (docs/finetune.md): one command,
``python -m bench.finetune_study`` (add ``--refresh`` to recompute what is cached).

Two stages, each cached as JSON under docs/data/ (computed once, committed, read back):

1. **sweep** (docs/data/finetune_sweep.json): on a related target (feature noise 0.3) and an unrelated
   one (feature noise 1), one simulation seed, fine-tuning configurations (Adam learning rate x
   penalty: L2-SP toward the source layer with mu in {0, 1e-3, 1e-2, 1e-1}, or weight decay toward
   zero) started from the probe, with the target test error after every epoch and the held-out loss of
   the same run on 80 % of the training set (what early stopping would choose); scratch's test error
   along its own training. This is where the defaults come from.
2. **check** (docs/data/finetune_study.json): the defaults as a user gets them (``run_learning_curve``
   with every default, tf at its theory-optimal lambda) on seven targets (feature noise and teacher
   noise at 0, 0.3, 0.6 and 1), alpha from 0.1 to 8, three seeds; the table of docs/finetune.md and
   the must-show checks: on related targets finetune no worse than tf nor scratch beyond two standard
   errors at any alpha; on the unrelated target (feature noise 1) it approaches scratch.

Sizes are the defaults (D = 50, N = K = 200, n_s = 2000). Run it with OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 on a shared machine; the check stage takes about 15 minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from tlprobe.contract.learning_curve import (
    FinetuneParams,
    LearningCurveRequest,
    SimulationParams,
    TargetParams,
)
from worker.science import SCIENCE_VERSION
from worker.science.artifacts import MemoryArtifactStore
from worker.science.chmm import make_source, make_target
from worker.science.features import transferred_features
from worker.science.finetune import _trainer, probe, split
from worker.science.learning_curve import CurveRun, _silent, run_learning_curve
from worker.science.network import Trainer, initial_network
from worker.science.seeding import Stream, generator
from worker.science.simulate import TaskSamples, sample_sizes

DATA = Path("docs/data")
SWEEP_FILE, CHECK_FILE = DATA / "finetune_sweep.json", DATA / "finetune_study.json"

#: stage 1: (name, target, alphas, learning rates, penalties (anchor, mu), epochs, scratch runs (lr, wd, epochs))
SWEEPS = [
    ("related", {"feature_noise": 0.3}, [0.1, 0.5, 2.0, 8.0], [3e-4, 1e-3, 3e-3, 1e-2],
     [("source", 0.0), ("source", 0.01), ("source", 0.1), ("zero", 1e-4)], 200, [(0.01, 1e-4, 600), (0.01, 1e-3, 600)]),
    ("unrelated", {"feature_noise": 1.0}, [0.5, 2.0, 8.0], [1e-3, 3e-3, 1e-2],
     [("source", 1e-3), ("source", 0.01), ("zero", 1e-4)], 300, [(0.01, 1e-4, 300)]),
    ("unrelated, stiffer anchors", {"feature_noise": 1.0}, [2.0, 8.0], [3e-3], [("source", 0.03), ("source", 0.1)],
     150, []),
    ("new teacher", {"teacher_noise": 1.0}, [0.1, 2.0, 8.0], [3e-3], [("source", 0.01), ("source", 0.03),
                                                                       ("source", 0.1)], 150, [(0.01, 1e-4, 300)]),
]
SWEEP_SEED, SWEEP_TEST = 0, 2000

#: stage 2
CHECK_TARGETS = [("feature_noise", 0.0), ("feature_noise", 0.3), ("feature_noise", 0.6), ("feature_noise", 1.0),
                 ("teacher_noise", 0.3), ("teacher_noise", 0.6), ("teacher_noise", 1.0)]
#: computed hardest first (targets where tf and scratch differ most), shown in CHECK_TARGETS order
RUN_ORDER = [("teacher_noise", 0.6), ("feature_noise", 1.0), ("teacher_noise", 1.0), ("feature_noise", 0.6),
             ("feature_noise", 0.3), ("teacher_noise", 0.3), ("feature_noise", 0.0)]
CHECK_ALPHAS = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
CHECK_SEEDS = 3
UNRELATED = ("feature_noise", 1.0)


# --- stage 1 -------------------------------------------------------------------------------------
def sweep_one(name, target_knobs, alphas, learning_rates, penalties, epochs, scratch_runs, store) -> list[dict]:
    target_params = TargetParams(**target_knobs)
    spec = LearningCurveRequest(target=target_params, alphas=alphas, protocols=["tf"], simulation=None)
    lambdas = run_learning_curve(spec, store=store)["curves"]["tf"]["theory"]["regularisation"]
    run = CurveRun(spec, store, _silent)
    source = make_source(spec.source)
    network, _ = run.synthetic_source_network(source)
    features = transferred_features(network)  # erf/erf: the population mean is zero
    samples = TaskSamples(make_target(source, target_params), SWEEP_TEST)
    seed = SWEEP_SEED
    test_x, test_y = samples.test_set(seed)
    records = []
    for a, n in enumerate(sample_sizes(alphas, spec.source.input_dim)):
        x, y = samples.training_set(seed, n)
        lam = lambdas[a]
        start = probe(network, features, x, y, lam)
        record = {"sweep": name, **target_knobs, "seed": seed, "alpha": alphas[a], "lambda": lam,
                  "tf": start.error(test_x, test_y), "configs": {}, "scratch": {}}
        parts = split(n, 0.2, generator(seed, Stream.MINIBATCH_ORDER, a, 7))
        for lr in learning_rates:
            for anchor, mu in penalties:
                params = FinetuneParams(learning_rate=lr, weight_decay=mu, anchor=anchor, epochs=epochs)
                trainer = _trainer(start, network, x, y, lam, params, np.random.default_rng(0))
                test = [start.error(test_x, test_y)]
                for _ in range(epochs):
                    trainer.epoch()
                    test.append(trainer.network.error(test_x, test_y))
                held = None
                if parts is not None:
                    fit, out = parts
                    fit_start = probe(network, features, x[fit], y[fit], lam)
                    fit_trainer = _trainer(fit_start, network, x[fit], y[fit], lam, params, np.random.default_rng(0))
                    held = [fit_start.mean_loss(x[out], y[out])]
                    for _ in range(epochs):
                        fit_trainer.epoch()
                        held.append(fit_trainer.network.mean_loss(x[out], y[out]))
                record["configs"][f"{lr}|{anchor}|{mu}"] = {"test": test, "held": held}
        for lr, wd, scratch_epochs in scratch_runs:
            init = initial_network(spec.network.hidden_units, spec.source.input_dim, spec.network.activation.value,
                                   generator(seed, Stream.SIM_NETWORK_INIT))
            trainer = Trainer(init, x, y, learning_rate=lr, weight_decay=wd, batch_size=None,
                              rng=np.random.default_rng(0))
            errors = {}
            for epoch in range(1, scratch_epochs + 1):
                trainer.epoch()
                if epoch % 50 == 0:
                    errors[epoch] = trainer.network.error(test_x, test_y)
            record["scratch"][f"{lr}|{wd}"] = errors
        records.append(record)
        print(f"[sweep] {name} alpha={alphas[a]:g} tf={record['tf']:.3f}", flush=True)
    return records


def run_sweep() -> list[dict]:
    store = MemoryArtifactStore()
    records = []
    for sweep in SWEEPS:
        records += sweep_one(*sweep, store=store)
    return records


def summarise_sweep(records: list[dict], caps=(25, 50, 100, 200)) -> list[str]:
    lines = ["| target | alpha | tf | scratch (300 ep.) | lr | penalty | fixed epochs: " +
             " / ".join(str(c) for c in caps) + " | early stopping (cap 200): error (epoch) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in records:
        scratch = r["scratch"].get("0.01|0.0001", {}).get("300")
        for cfg, run in r["configs"].items():
            lr, anchor, mu = cfg.split("|")
            fixed = " / ".join(f"{run['test'][c]:.3f}" if c < len(run["test"]) else "-" for c in caps)
            stop = "-"
            if run["held"]:
                e = int(np.argmin(run["held"][:201]))
                stop = f"{run['test'][e]:.3f} ({e})"
            penalty = f"L2-SP {mu}" if anchor == "source" else f"to zero {mu}"
            lines.append(f"| {r['sweep']} | {r['alpha']:g} | {r['tf']:.3f} | "
                         f"{'-' if scratch is None else f'{scratch:.3f}'} | {lr} | {penalty} | {fixed} | {stop} |")
    return lines


# --- stage 2 -------------------------------------------------------------------------------------
def check_target(knob: str, value: float, store: MemoryArtifactStore) -> dict:
    spec = LearningCurveRequest(target=TargetParams(**{knob: value}), alphas=CHECK_ALPHAS,
                                protocols=["tf", "scratch", "finetune"],
                                simulation=SimulationParams(seeds=CHECK_SEEDS))
    result = run_learning_curve(spec, store=store)
    out = {"knob": knob, "value": value, "alphas": CHECK_ALPHAS, "source_test_error": result["source_test_error"],
           "simulation": spec.simulation.model_dump(mode="json")}
    for protocol in ("tf", "scratch", "finetune"):
        sim = result["curves"][protocol]["simulation"]
        out[protocol] = {"test_errors": sim["test_errors"], "mean": sim["test_error_mean"], "sem": sim["test_error_sem"],
                         "epochs": sim.get("epochs"), "regularisation": sim["regularisation"]}
    out["theory_tf"] = result["curves"]["tf"]["theory"]["test_error"]
    return out


def run_check(cached: list[dict]) -> list[dict]:
    store = MemoryArtifactStore()
    done = {(r["knob"], r["value"]) for r in cached}
    results = list(cached)
    for knob, value in RUN_ORDER:
        if (knob, value) in done:
            continue
        start = time.perf_counter()
        results.append(check_target(knob, value, store))
        print(f"[check] {knob}={value:g} in {time.perf_counter() - start:.0f} s", flush=True)
        _save(CHECK_FILE, {"science_version": SCIENCE_VERSION, "results": results})  # resumable
    return sorted(results, key=lambda r: CHECK_TARGETS.index((r["knob"], r["value"])))


def margins(r: dict, a: int) -> dict[str, float]:
    """finetune minus tf and minus scratch, and two standard errors of each difference (independent
    standard errors of the two means, combined)."""
    ft, tf, sc = (r[p] for p in ("finetune", "tf", "scratch"))
    return {"vs_tf": ft["mean"][a] - tf["mean"][a], "two_se_tf": 2 * float(np.hypot(ft["sem"][a], tf["sem"][a])),
            "vs_scratch": ft["mean"][a] - sc["mean"][a],
            "two_se_scratch": 2 * float(np.hypot(ft["sem"][a], sc["sem"][a]))}


def checks(results: list[dict]) -> list[str]:
    """The must-show, as failures (empty: all hold)."""
    failures = []
    for r in results:
        related = (r["knob"], r["value"]) != UNRELATED
        for a, alpha in enumerate(r["alphas"]):
            m = margins(r, a)
            if related and m["vs_tf"] > m["two_se_tf"]:
                failures.append(f"{r['knob']}={r['value']:g} alpha={alpha:g}: finetune worse than tf by "
                                f"{m['vs_tf']:.4f} > 2 SE {m['two_se_tf']:.4f}")
            if related and m["vs_scratch"] > m["two_se_scratch"]:
                failures.append(f"{r['knob']}={r['value']:g} alpha={alpha:g}: finetune worse than scratch by "
                                f"{m['vs_scratch']:.4f} > 2 SE {m['two_se_scratch']:.4f}")
    return failures


def table(results: list[dict]) -> list[str]:
    lines = ["| target | alpha | tf | scratch | finetune | finetune - tf (2 SE) | finetune - scratch (2 SE) | "
             "epochs kept |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for a, alpha in enumerate(r["alphas"]):
            m = margins(r, a)
            cells = [f"{r[p]['mean'][a]:.3f} ± {r[p]['sem'][a]:.3f}" for p in ("tf", "scratch", "finetune")]
            epochs = r["finetune"]["epochs"]
            kept = "-" if not epochs else "/".join(str(e) for e in epochs[a])
            lines.append(f"| {r['knob']} {r['value']:g} | {alpha:g} | " + " | ".join(cells) +
                         f" | {m['vs_tf']:+.3f} ({m['two_se_tf']:.3f}) | {m['vs_scratch']:+.3f} "
                         f"({m['two_se_scratch']:.3f}) | {kept} |")
    return lines


# --- cache ---------------------------------------------------------------------------------------
def _load(path: Path) -> dict | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data.get("science_version") != SCIENCE_VERSION:
        return None
    # check results ran at the defaults of their time: drop any that are not today's
    expected = SimulationParams(seeds=CHECK_SEEDS).model_dump(mode="json")
    if "results" in data:
        data["results"] = [r for r in data["results"] if r["simulation"] == expected]
    return data


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the cached stages")
    parser.add_argument("--stage", choices=["sweep", "check", "both"], default="both")
    args = parser.parse_args(argv)
    if args.stage in ("sweep", "both"):
        sweep = None if args.refresh else _load(SWEEP_FILE)
        if sweep is None:
            sweep = {"science_version": SCIENCE_VERSION, "records": run_sweep()}
            _save(SWEEP_FILE, sweep)
        print("\n".join(summarise_sweep(sweep["records"])))
    if args.stage in ("check", "both"):
        cached = None if args.refresh else _load(CHECK_FILE)
        results = run_check(cached["results"] if cached else [])
        _save(CHECK_FILE, {"science_version": SCIENCE_VERSION, "results": results})
        print("\n".join(table(results)))
        failures = checks(results)
        print("\n".join(failures) if failures else "must-show holds: on related targets finetune is no worse than tf "
                                                    "or scratch beyond 2 SE at every alpha")
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
