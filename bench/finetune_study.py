"""The study behind the scratch and finetune defaults (docs/finetune.md): one command,
``python -m bench.finetune_study`` (add ``--refresh`` to recompute what is cached).

Two stages, each cached as JSON under docs/data/ (computed once, committed, read back):

1. **sweep** (docs/data/finetune_sweep.json): on a related target (feature noise 0.3) and an unrelated
   one (feature noise 1), one simulation seed, fine-tuning configurations (Adam learning rate x
   penalty: L2-SP toward the source layer with mu in {0, 1e-3, 1e-2, 1e-1}, or weight decay toward
   zero) started from the probe, with the target test error after every epoch and the held-out loss of
   the same run on 80 % of the training set (what early stopping would choose); scratch's test error
   along its own training. This is where the defaults come from.
2. **check** (docs/data/finetune_check/, one file per target): the fixed defaults as a user got them until
   science version 3 (``run_learning_curve`` with every default, tuning rule "fixed", tf at its oracle lambda)
   on seven targets (feature noise and teacher
   noise at 0, 0.3, 0.6 and 1), alpha from 0.1 to 8, three seeds; the table of docs/finetune.md and
   the must-show checks: on related targets finetune no worse than tf nor scratch beyond two standard
   errors at any alpha; on the unrelated target (feature noise 1) it approaches scratch.

3. **held-out check** (docs/data/finetune_heldout/, issue 19): the defaults on data their choice never
   saw: another source task (source seed 3), targets of other knob values and target seeds than the
   sweep's and the check's, and simulation seeds 10 to 13 (the sweep used seed 0, the check 0 to 2).
   Two modes: the fixed defaults (``tuning.rule`` "fixed", readouts at the oracle lambda: what science
   version 3 gave every user) and the default comparison (best_achievable: every protocol's
   hyperparameters chosen on fresh validation data). Reported with paired differences: per seed, finetune
   minus tf and minus scratch on the same samples, mean and two standard errors of the mean difference.

4. **rates** (docs/data/finetune_rates.json): where the held-out check finds finetune behind scratch, can a
   learning rate, a longer budget or a weaker anchor close the gap? On the targets of
   ``bench/tuning_grids.py`` (source seed 0, simulation seed 5: not the held-out check's) where scratch
   overtakes tf, alpha 1 and 4: fine-tuning at learning rates 3e-3, 1e-2 and 3e-2, anchor strengths 0,
   0.2, 2 and 20, 300 epochs, the test error at the checkpoints of ``worker.science.tuning``.

Sizes are the defaults (D = 50, N = K = 200, n_s = 2000). Run it with OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 on a shared machine; the check stage takes about 15 minutes on one core, the
held-out check about an hour (``--processes 2`` halves it).
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
    SourceParams,
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
HELDOUT_DIR = DATA / "finetune_heldout"  # stage 3: one file per mode and target
RATES_FILE = DATA / "finetune_rates.json"  # stage 4

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
                                simulation=SimulationParams(seeds=CHECK_SEEDS), **FIXED_DEFAULTS)
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


# --- stage 3 -------------------------------------------------------------------------------------
HELDOUT_SOURCE_SEED = 3
#: (knob, value, target seed): knob values and target seeds that neither the sweep nor the check used
HELDOUT_TARGETS = [("feature_noise", 0.15, 21), ("feature_noise", 0.45, 22), ("teacher_noise", 0.15, 23),
                   ("teacher_noise", 0.45, 24), ("feature_substitution", 0.5, 25), ("latent_change", 25, 26),
                   ("feature_noise", 1.0, 27)]
HELDOUT_UNRELATED = [("feature_noise", 1.0)]
HELDOUT_ALPHAS = [0.1, 0.5, 2.0, 4.0]
HELDOUT_SEEDS = [10, 11, 12, 13]
#: the modes: what chooses the hyperparameters
HELDOUT_MODES = {"fixed": {"tuning": {"rule": "fixed"}, "readout": {"regularisation": "oracle"}},
                 "best_achievable": {}}


def heldout_request(mode: str, knob: str, value: float, target_seed: int) -> LearningCurveRequest:
    return LearningCurveRequest.model_validate({
        "source": SourceParams(seed=HELDOUT_SOURCE_SEED).model_dump(), "target": {knob: value, "seed": target_seed},
        "alphas": HELDOUT_ALPHAS, "protocols": ["tf", "scratch", "finetune"],
        "simulation": {"seeds": HELDOUT_SEEDS}, **HELDOUT_MODES[mode]})


def _heldout_file(mode: str, knob: str, value: float) -> Path:
    return HELDOUT_DIR / mode / f"{knob}_{value:g}.json"


def heldout_one(job: tuple[str, str, float, int]) -> dict:
    mode, knob, value, target_seed = job
    start = time.perf_counter()
    spec = heldout_request(mode, knob, value, target_seed)
    result = run_learning_curve(spec, store=MemoryArtifactStore())
    out = {"science_version": SCIENCE_VERSION, "mode": mode, "knob": knob, "value": value, "target_seed": target_seed,
           "alphas": HELDOUT_ALPHAS, "seeds": HELDOUT_SEEDS, "source_test_error": result["source_test_error"],
           "request": spec.model_dump(mode="json")}
    for protocol in ("tf", "scratch", "finetune"):
        sim = result["curves"][protocol]["simulation"]
        out[protocol] = {"test_errors": sim["test_errors"], "mean": sim["test_error_mean"], "sem": sim["test_error_sem"],
                         "hyperparameters": sim["hyperparameters"]}
    _save(_heldout_file(mode, knob, value), out)
    print(f"[held-out] {mode} {knob}={value:g} in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def run_heldout(refresh: bool, processes: int) -> dict[str, list[dict]]:
    jobs = [(mode, *target) for mode in HELDOUT_MODES for target in HELDOUT_TARGETS]
    results: dict[tuple, dict] = {}
    for job in jobs:
        path = _heldout_file(*job[:3])
        cached = None if refresh or not path.exists() else json.loads(path.read_text())
        if cached is not None and cached["science_version"] == SCIENCE_VERSION and \
                cached["request"] == heldout_request(*job).model_dump(mode="json"):
            results[job] = cached
    missing = [job for job in jobs if job not in results]
    if processes > 1 and len(missing) > 1:
        with multiprocessing.Pool(processes) as pool:
            results.update(zip(missing, pool.map(heldout_one, missing, chunksize=1)))
    else:
        results.update((job, heldout_one(job)) for job in missing)
    return {mode: [results[(mode, *target)] for target in HELDOUT_TARGETS] for mode in HELDOUT_MODES}


def paired(r: dict, other: str, a: int) -> tuple[float, float]:
    """finetune minus ``other`` at alpha index a: the mean over seeds of the per-seed difference (the two
    protocols saw the same samples) and two standard errors of that mean."""
    diff = np.array(r["finetune"]["test_errors"][a]) - np.array(r[other]["test_errors"][a])
    return float(diff.mean()), 2 * float(diff.std(ddof=1) / np.sqrt(diff.size))


def heldout_table(results: list[dict]) -> list[str]:
    lines = ["| target | alpha | tf | scratch | finetune | finetune - tf (2 SE, paired) | "
             "finetune - scratch (2 SE, paired) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        name = f"{r['knob']} {r['value']:g} (seed {r['target_seed']})"
        for a, alpha in enumerate(r["alphas"]):
            cells = [f"{r[p]['mean'][a]:.3f}" for p in ("tf", "scratch", "finetune")]
            (d_tf, se_tf), (d_sc, se_sc) = paired(r, "tf", a), paired(r, "scratch", a)
            lines.append(f"| {name} | {alpha:g} | " + " | ".join(cells) +
                         f" | {d_tf:+.4f} ({se_tf:.4f}) | {d_sc:+.4f} ({se_sc:.4f}) |")
    return lines


def heldout_failures(results: list[dict]) -> list[str]:
    """On related targets: finetune worse than tf or scratch by more than two paired standard errors."""
    failures = []
    for r in results:
        if (r["knob"], r["value"]) in HELDOUT_UNRELATED:
            continue
        for a, alpha in enumerate(r["alphas"]):
            for other in ("tf", "scratch"):
                difference, two_se = paired(r, other, a)
                if difference > two_se:
                    failures.append(f"{r['mode']} {r['knob']}={r['value']:g} alpha={alpha:g}: finetune worse than "
                                    f"{other} by {difference:.4f} > 2 paired SE {two_se:.4f}")
    return failures


# --- stage 4 -------------------------------------------------------------------------------------
RATES_TARGETS = {"fn0.5": {"feature_noise": 0.5}, "tn0.5": {"teacher_noise": 0.5}, "fn1": {"feature_noise": 1.0}}
RATES_ALPHAS, RATES_SEED = [1.0, 4.0], 5
RATES, RATES_ANCHORS = [3e-3, 1e-2, 3e-2], [0.0, 0.2, 2.0, 20.0]


def run_rates() -> dict:
    from worker.science.tuning import checkpoints

    pilot = json.loads((DATA / "tuning_grids.json").read_text())["records"]
    store, out, marks = MemoryArtifactStore(), {}, checkpoints(300, True)
    for name, knobs in RATES_TARGETS.items():
        spec = LearningCurveRequest(target=TargetParams(**knobs), alphas=RATES_ALPHAS, protocols=["tf"], simulation=None)
        data = SyntheticSource(spec)
        network, _ = train_source_network(CurveRun(store), data)
        features = transferred_features(network)
        samples = TaskSamples(data.target_task, 5000)
        test_x, test_y = samples.test_set(RATES_SEED)
        for a, n in enumerate(sample_sizes(RATES_ALPHAS, 200)):
            x, y = samples.training_set(RATES_SEED, n)
            key = f"{name} {RATES_ALPHAS[a]}"
            lam = pilot[key]["lambda"]
            start = probe(network, features, x, y, lam)
            runs = {}
            for lr in RATES:
                for mu in RATES_ANCHORS:
                    trainer = _trainer(start, network, x, y, lam,
                                       FinetuneParams(regularisation=mu, learning_rate=lr, epochs=300),
                                       np.random.default_rng(0))
                    errors = {0: start.error(test_x, test_y)}
                    for epoch in range(1, 301):
                        trainer.epoch()
                        if epoch in marks:
                            errors[epoch] = trainer.network.error(test_x, test_y)
                    runs[f"{lr}|{mu}"] = errors
            scratch = pilot[key]["scratch"]
            out[key] = {"tf": errors[0], "runs": runs,
                        "scratch_best": min(min(v.values()) for wd, v in scratch.items() if float(wd) in (1e-5, 1e-4, 3e-4))}
            print(f"[rates] {key}", flush=True)
    return out


def rates_table(records: dict) -> list[str]:
    """Per target and alpha: tf, scratch's best (weight decays 1e-5 to 3e-4, any checkpoint: the pilot's),
    and per learning rate finetune's best over anchors and checkpoints within 100 and 300 epochs (chosen
    on the test set: the most any choice could reach)."""
    lines = ["| target, alpha | tf | scratch (best) | " + " | ".join(f"finetune lr {lr:g}: 100 / 300 epochs" for lr in RATES)
             + " |", "|---|---|---|" + "---|" * len(RATES)]
    for key, record in records.items():
        cells = []
        for lr in RATES:
            runs = [run for name, run in record["runs"].items() if name.startswith(f"{lr}|")]
            within = [min(v for e, v in run.items() if int(e) <= 100) for run in runs]
            cells.append(f"{min(within):.3f} / {min(min(run.values()) for run in runs):.3f}")
        lines.append(f"| {key} | {record['tf']:.3f} | {record['scratch_best']:.3f} | " + " | ".join(cells) + " |")
    return lines


# --- cache ---------------------------------------------------------------------------------------
#: stages 1 and 2 measure the fixed defaults (the check: tuning rule "fixed", tf at the oracle lambda), whose
#: numbers science version 4 left unchanged to the last bit (tests/worker/science/test_golden_learning_curves.py):
#: their version-3 caches stay valid
FIXED_DEFAULTS = {"tuning": {"rule": "fixed"}, "readout": {"regularisation": "oracle"}}
FIXED_PATH_VERSIONS = ("3", SCIENCE_VERSION)


def _load(path: Path) -> dict | None:
    """A cached stage, or None when it is missing, of a science version whose fixed path differs, or (a
    check) ran at other settings than today's defaults."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data.get("science_version") not in FIXED_PATH_VERSIONS:
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
    parser.add_argument("--stage", choices=["sweep", "check", "both", "heldout", "rates"], default="both")
    parser.add_argument("--processes", type=int, default=1, help="targets of the check computed in parallel")
    args = parser.parse_args(argv)
    if args.stage in ("sweep", "both"):
        sweep = None if args.refresh else _load(SWEEP_FILE)
        if sweep is None:
            sweep = {"science_version": SCIENCE_VERSION, "records": run_sweep()}
            _save(SWEEP_FILE, sweep)
        print("\n".join(summarise_sweep(sweep["records"])))
    if args.stage == "rates":
        if args.refresh or not RATES_FILE.exists():
            _save(RATES_FILE, {"science_version": SCIENCE_VERSION, "records": run_rates()})
        print("\n".join(rates_table(json.loads(RATES_FILE.read_text())["records"])))
        return 0
    if args.stage == "heldout":
        by_mode = run_heldout(args.refresh, args.processes)
        failed = False
        for mode, results in by_mode.items():
            print(f"\nheld-out check, {mode}:\n" + "\n".join(heldout_table(results)))
            failures = heldout_failures(results)
            print("\n".join(failures) if failures else f"{mode}: on related targets finetune is no worse than tf or "
                                                        "scratch beyond 2 paired SE at every alpha")
            failed = failed or bool(failures)
        return 1 if failed else 0
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
