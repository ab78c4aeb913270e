"""The study behind the scratch and finetune defaults (docs/finetune.md): one command,
``python -m bench.finetune_study`` (add ``--refresh`` to recompute what is cached).

Two stages, each cached as JSON under docs/data/ (computed once, committed, read back):

1. **sweep** (docs/data/finetune_sweep.json): on a related target (feature noise 0.3) and an unrelated
   one (feature noise 1), one simulation seed, fine-tuning configurations (Adam learning rate x
   penalty: L2-SP toward the source layer with mu in {0, 1e-3, 1e-2, 1e-1}, or weight decay toward
   zero) started from the probe, with the target test error after every epoch and the held-out loss of
   the same run on 80 % of the training set (what early stopping would choose); scratch's test error
   along its own training. This is where the defaults come from.
2. **check** (docs/data/finetune_check/, one file per target): the defaults as a user gets them (``run_learning_curve``
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
import multiprocessing
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
from worker.science.curve_orchestrator import run_learning_curve as run_on
from worker.science.curve_run import CurveRun
from worker.science.features import transferred_features
from worker.science.finetune import _trainer, probe, split
from worker.science.network import Trainer, initial_network
from worker.science.seeding import Stream, generator
from worker.science.simulate import TaskSamples, sample_sizes
from worker.science.source_network import train_source_network
from worker.science.synthetic_source import SyntheticSource

DATA = Path("docs/data")
SWEEP_FILE, CHECK_DIR = DATA / "finetune_sweep.json", DATA / "finetune_check"  # the check: one file per target

#: stage 1: (name, target, alphas, learning rates, penalties (anchor, mu), epochs, scratch runs (lr, wd, epochs))
SWEEPS = [
    ("related", {"feature_noise": 0.3}, [0.1, 0.5, 2.0, 8.0], [3e-4, 1e-3, 3e-3, 1e-2],
     [("source", 0.0), ("source", 0.01), ("source", 0.1), ("zero", 1e-4)], 200, [(0.01, 1e-4, 600), (0.01, 1e-3, 600)]),
    ("unrelated", {"feature_noise": 1.0}, [0.5, 2.0], [1e-3, 3e-3, 1e-2],
     [("source", 1e-3), ("source", 0.01), ("zero", 1e-4)], 300, [(0.01, 1e-4, 300)]),
    ("unrelated, stiffer anchors", {"feature_noise": 1.0}, [2.0, 8.0], [3e-3], [("source", 0.03), ("source", 0.1)],
     150, []),
    ("new teacher", {"teacher_noise": 1.0}, [0.1, 2.0, 8.0], [3e-3], [("source", 0.01), ("source", 0.03),
                                                                       ("source", 0.1)], 150, [(0.01, 1e-4, 300)]),
]
SWEEP_SEED, SWEEP_TEST = 0, 2000


def run_learning_curve(spec: LearningCurveRequest, store: MemoryArtifactStore) -> dict:
    return run_on(SyntheticSource(spec), store).model_dump(mode="json")


#: stage 2
CHECK_TARGETS = [("feature_noise", 0.0), ("feature_noise", 0.3), ("feature_noise", 0.6), ("feature_noise", 1.0),
                 ("teacher_noise", 0.3), ("teacher_noise", 0.6), ("teacher_noise", 1.0)]
#: computed hardest first (targets where tf and scratch differ most), shown in CHECK_TARGETS order
RUN_ORDER = [("teacher_noise", 0.6), ("feature_noise", 1.0), ("teacher_noise", 1.0), ("feature_noise", 0.6),
             ("feature_noise", 0.3), ("teacher_noise", 0.3), ("feature_noise", 0.0)]
CHECK_ALPHAS = [0.1, 0.5, 2.0, 8.0]
CHECK_SEEDS = 3
#: knobs at 1: fresh features, or a labelling rule independent of the source's
UNRELATED = [("feature_noise", 1.0), ("teacher_noise", 1.0)]


# --- stage 1 -------------------------------------------------------------------------------------
def sweep_one(name, target_knobs, alphas, learning_rates, penalties, epochs, scratch_runs, store) -> list[dict]:
    target_params = TargetParams(**target_knobs)
    spec = LearningCurveRequest(target=target_params, alphas=alphas, protocols=["tf"], simulation=None)
    lambdas = run_learning_curve(spec, store=store)["curves"]["tf"]["theory"]["regularisation"]
    data = SyntheticSource(spec)
    network, _ = train_source_network(CurveRun(store), data)
    features = transferred_features(network)  # erf/erf: the population mean is zero
    samples = TaskSamples(data.target_task, SWEEP_TEST)
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
                # the sweep's mu is per mean loss (fixed in n): regularisation = mu n
                params = FinetuneParams(learning_rate=lr, regularisation=mu * n, anchor=anchor, epochs=epochs)
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


def summarise_sweep(records: list[dict], epochs: int = 100) -> list[str]:
    """Per sweep, a table: rows tf, scratch and each configuration's test error after ``epochs``
    epochs of fine-tuning (and, for each configuration, what early stopping on the held-out loss
    would have kept: error (epoch)); columns alpha."""
    lines: list[str] = []
    for name in dict.fromkeys(r["sweep"] for r in records):
        rows = [r for r in records if r["sweep"] == name]
        knob = next(k for k in ("feature_noise", "teacher_noise") if k in rows[0])
        lines += ["", f"{name} ({knob} {rows[0][knob]:g}, seed {rows[0]['seed']}, test error after {epochs} epochs; "
                      "in brackets: early stopping on the held-out loss, error (epochs kept))", "",
                  "| | " + " | ".join(f"alpha {r['alpha']:g}" for r in rows) + " |",
                  "|---|" + "---|" * len(rows)]
        lines.append("| tf | " + " | ".join(f"{r['tf']:.3f}" for r in rows) + " |")
        for key in rows[0]["scratch"]:
            lr, wd = key.split("|")
            lines.append(f"| scratch, lr {lr}, decay {wd}, 300 epochs | " +
                         " | ".join(f"{r['scratch'][key].get('300', float('nan')):.3f}" for r in rows) + " |")
        for cfg in rows[0]["configs"]:
            lr, anchor, mu = cfg.split("|")
            penalty = f"L2-SP {mu}" if anchor == "source" else f"decay to zero {mu}"
            cells = []
            for r in rows:
                run = r["configs"][cfg]
                cell = f"{run['test'][min(epochs, len(run['test']) - 1)]:.3f}"
                if run["held"]:
                    kept = int(np.argmin(run["held"]))
                    cell += f" ({run['test'][kept]:.3f}, {kept})"
                cells.append(cell)
            lines.append(f"| lr {lr}, {penalty} | " + " | ".join(cells) + " |")
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


def _check_file(knob: str, value: float) -> Path:
    return CHECK_DIR / f"{knob}_{value:g}.json"


def _check_and_save(target: tuple[str, float]) -> dict:
    start = time.perf_counter()
    result = check_target(*target, MemoryArtifactStore())
    _save(_check_file(*target), {"science_version": SCIENCE_VERSION, **result})
    print(f"[check] {target[0]}={target[1]:g} in {time.perf_counter() - start:.0f} s", flush=True)
    return result


def run_check(refresh: bool, processes: int) -> list[dict]:
    """Every target of CHECK_TARGETS, from its cached file when that holds today's defaults."""
    results = {}
    for target in RUN_ORDER:
        cached = None if refresh else _load(_check_file(*target))
        if cached is not None:
            results[target] = cached
    missing = [t for t in RUN_ORDER if t not in results]
    if processes > 1 and len(missing) > 1:
        with multiprocessing.Pool(processes) as pool:
            computed = pool.map(_check_and_save, missing, chunksize=1)
    else:
        computed = [_check_and_save(t) for t in missing]
    results.update(zip(missing, computed))
    return [results[t] for t in CHECK_TARGETS]


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
        related = (r["knob"], r["value"]) not in UNRELATED
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
    """A cached stage, or None when it is missing, of another science version, or (a check) ran at
    other settings than today's defaults."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data.get("science_version") != SCIENCE_VERSION:
        return None
    if "simulation" in data and data["simulation"] != SimulationParams(seeds=CHECK_SEEDS).model_dump(mode="json"):
        return None
    return data


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the cached stages")
    parser.add_argument("--stage", choices=["sweep", "check", "both"], default="both")
    parser.add_argument("--processes", type=int, default=1, help="targets of the check computed in parallel")
    args = parser.parse_args(argv)
    if args.stage in ("sweep", "both"):
        sweep = None if args.refresh else _load(SWEEP_FILE)
        if sweep is None:
            sweep = {"science_version": SCIENCE_VERSION, "records": run_sweep()}
            _save(SWEEP_FILE, sweep)
        print("\n".join(summarise_sweep(sweep["records"])))
    if args.stage in ("check", "both"):
        results = run_check(args.refresh, args.processes)
        print("\n".join(table(results)))
        failures = checks(results)
        print("\n".join(failures) if failures else "must-show holds: on related targets finetune is no worse than tf "
                                                    "or scratch beyond 2 SE at every alpha")
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
