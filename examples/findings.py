"""The seed paper's questions, answered through the API with the Python client (docs/findings.md).

    make run                                          # in another terminal
    python examples/findings.py [URL] [--out DIR] [--data FILE] [--only SECTION,...]

URL defaults to $TLPROBE_URL or http://127.0.0.1:8000; pictures go to DIR (default docs/img, files
findings_*.png) and the numbers to FILE (default docs/data/findings.json). Sections:

    curves       learning curves of tf, rf, scratch and finetune, one target per knob and two unrelated
                 targets (independent features, independent teacher)
    tf_rf        tf against rf, phase diagrams over (knob, alpha), theory
    tf_scratch   tf against scratch, phase diagrams over (knob, alpha), simulation
    tf_scratch_fixed  the same diagrams as science version 3 ran them: readouts at the oracle lambda,
                 scratch at fixed settings (tuning rule "fixed"), beside the fair default
    source_size  the gain of tf over rf against the source size n_s and alpha, theory
    nested       complex -> simple against simple -> complex, theory and simulation

``--only curves,tf_scratch`` re-runs those sections and keeps the others' numbers from FILE;
``--only finetune`` names exactly the sections that train networks on the target (curves, tf_scratch
and tf_scratch_fixed), the ones to re-run when the scratch or finetune defaults change. "Where transfer
turns negative" is read off the tf_rf and tf_scratch diagrams and recomputed whenever either runs.
Everything runs at the default sizes (D = 50, N = K = 200, n_s = 2000) with the default comparison:
every protocol's hyperparameters chosen on fresh validation data (tuning rule best_achievable; the
theory at its oracle lambda, that rule's limit), 2 simulation seeds. From an empty cache: 636 s with two
workers of one thread each (science version 5, a quiet two-core machine, 2026-12-07).
Every request is stored in FILE next to its numbers (``requests``), so each figure can be redone
by hand with ``POST /v1/learning-curves`` or ``POST /v1/phase-diagrams``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from tlprobe import Client

KNOBS = ["feature_noise", "teacher_noise", "feature_substitution", "latent_change"]
SECTIONS = ["curves", "tf_rf", "tf_scratch", "tf_scratch_fixed", "source_size", "nested"]
#: the sections that train networks on the target (scratch, finetune): re-run them when their defaults change
FINETUNE_SECTIONS = ["curves", "tf_scratch", "tf_scratch_fixed"]
#: science version 3's comparison: readouts at the theory's oracle lambda, scratch at its fixed settings
FIXED_COMPARISON = {"tuning": {"rule": "fixed"}, "readout": {"regularisation": "oracle"}}

CURVE_ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0]
SIMULATION = {"seeds": 2}
#: one learning curve per knob at a middling value, and the source task itself as the reference
CURVE_TARGETS = {"same_task": {}, "feature_noise": {"feature_noise": 0.5}, "teacher_noise": {"teacher_noise": 0.5},
                 "feature_substitution": {"feature_substitution": 0.5}, "latent_change": {"latent_change": 25},
                 "unrelated_features": {"feature_noise": 1.0}, "unrelated_teacher": {"teacher_noise": 1.0}}
#: the curve targets unrelated to the source (knob value 1): fine-tuning is read separately on them
UNRELATED_CURVES = ["unrelated_features", "unrelated_teacher"]
#: the tf-against-rf diagrams' grid: feature_noise and teacher_noise are those of examples/phase_diagrams.py
DIAGRAM_ALPHAS = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0]
UNIT = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
LATENT = [-45, -40, -30, -20, -10, 0, 10, 25, 50, 100, 150]
KNOB_VALUES = {"feature_noise": UNIT, "teacher_noise": UNIT, "feature_substitution": UNIT, "latent_change": LATENT}
#: the coarser tf-against-scratch grid (25 cells x 2 seeds = 50 trainings per diagram)
SCRATCH_ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0]
SCRATCH_VALUES = {"feature_noise": [0.0, 0.25, 0.5, 0.75, 1.0], "teacher_noise": [0.0, 0.25, 0.5, 0.75, 1.0],
                  "feature_substitution": [0.0, 0.25, 0.5, 0.75, 1.0], "latent_change": [-40, -25, 0, 25, 50]}
SOURCE_SIZES = [250, 500, 1000, 2000, 4000, 8000]
SOURCE_SIZE_TARGETS = {"same_task": {}, "teacher_noise": {"teacher_noise": 0.5}}
#: the same pair of tasks (D = 25 and D = 50 of one nested sequence) with the roles swapped, and each
#: task transferring to itself as the reference
NESTED = {"complex_to_simple": (50, -25), "simple_to_complex": (25, 25), "simple_to_simple": (25, 0),
          "complex_to_complex": (50, 0)}
#: sections merged into every request (empty: the defaults); the example's live test shrinks the sizes here
BASE: dict[str, dict] = {}
COLOURS = {"tf": "C0", "rf": "C1", "scratch": "C3", "finetune": "C4"}


# ---- requests -------------------------------------------------------------------------------------------

def curve_requests() -> dict[str, dict]:
    return {name: {"target": target, "alphas": CURVE_ALPHAS, "protocols": ["tf", "rf", "scratch", "finetune"],
                   "simulation": SIMULATION} for name, target in CURVE_TARGETS.items()}


def tf_rf_requests() -> dict[str, dict]:
    return {knob: {"x_axis": {"name": "alpha", "values": DIAGRAM_ALPHAS},
                   "y_axis": {"name": knob, "values": KNOB_VALUES[knob]}, "baseline": "rf"} for knob in KNOBS}


def tf_scratch_requests() -> dict[str, dict]:
    return {knob: {"x_axis": {"name": "alpha", "values": SCRATCH_ALPHAS},
                   "y_axis": {"name": knob, "values": SCRATCH_VALUES[knob]}, "baseline": "scratch",
                   "simulation": SIMULATION} for knob in KNOBS}


def tf_scratch_fixed_requests() -> dict[str, dict]:
    return {knob: {**request, **FIXED_COMPARISON} for knob, request in tf_scratch_requests().items()}


def source_size_requests() -> dict[str, dict]:
    return {name: {"target": target, "x_axis": {"name": "alpha", "values": CURVE_ALPHAS},
                   "y_axis": {"name": "n_samples", "values": SOURCE_SIZES}, "baseline": "rf"}
            for name, target in SOURCE_SIZE_TARGETS.items()}


def nested_requests() -> dict[str, dict]:
    return {name: {"source": {"latent_dim": d}, "target": {"latent_change": change}, "alphas": CURVE_ALPHAS,
                   "protocols": ["tf", "rf"], "simulation": SIMULATION} for name, (d, change) in NESTED.items()}


REQUESTS = {"curves": ("learning_curve", curve_requests), "tf_rf": ("phase_diagram", tf_rf_requests),
            "tf_scratch": ("phase_diagram", tf_scratch_requests),
            "tf_scratch_fixed": ("phase_diagram", tf_scratch_fixed_requests),
            "source_size": ("phase_diagram", source_size_requests), "nested": ("learning_curve", nested_requests)}


def with_base(request: dict) -> dict:
    """The request with ``BASE``'s fields added (a field the request sets itself wins)."""
    merged = {key: dict(value) for key, value in BASE.items()}
    for key, value in request.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) and key in merged else value
    return merged


# ---- running --------------------------------------------------------------------------------------------

def run_all(client: Client, kind: str, requests: dict[str, dict]) -> dict[str, Any]:
    """Submit every request first (so the workers never idle), then wait for each in turn."""
    submit = client.learning_curve if kind == "learning_curve" else client.phase_diagram
    jobs = {}
    for name, request in requests.items():
        submission = submit(request, wait=False)
        jobs[name] = submission.job_id
        print(f"  {name}: {submission.job_id} ({'cached' if submission.cached else 'queued'})", flush=True)
    results = {}
    for name, job_id in jobs.items():
        started = time.monotonic()
        view = client.wait(job_id)
        results[name] = client.result(job_id)
        print(f"  {name}: {view.status.value} after {time.monotonic() - started:.0f} s", flush=True)
    return {"jobs": jobs, "results": results}


def curve_numbers(result) -> dict[str, Any]:
    numbers: dict[str, Any] = {"alphas": result.alphas, "source_test_error": result.source_test_error,
                               "target_latent_dim": result.target_latent_dim, "tuning": result.tuning, "protocols": {}}
    for protocol, curve in result.curves.items():
        entry: dict[str, Any] = {}
        if curve.theory is not None:
            entry["theory"] = curve.theory.test_error
            entry["regularisation"] = curve.theory.regularisation
        if curve.theory is not None:
            entry["regularisation_chosen_by"] = curve.theory.regularisation_chosen_by
        if curve.simulation is not None:
            entry["simulation_mean"] = curve.simulation.test_error_mean
            entry["simulation_sem"] = curve.simulation.test_error_sem
            entry["hyperparameters"] = {name: chosen.model_dump(mode="json")
                                        for name, chosen in curve.simulation.hyperparameters.items()}
        numbers["protocols"][protocol.value] = entry
    return numbers


def diagram_numbers(result) -> dict[str, Any]:
    return {"x": result.x_axis.values, "y": result.y_axis.values, "baseline": result.baseline.value,
            "tuning": result.tuning, "gain_basis": result.gain_basis, "gain": result.gain, "complete": result.complete,
            "test_error": {p.value: grid for p, grid in result.test_error.items()},
            "test_error_sem": None if result.test_error_sem is None else
            {p.value: grid for p, grid in result.test_error_sem.items()},
            "boundary": [row.model_dump() for row in result.boundary],
            "source_test_errors": result.source_test_errors}


# ---- pictures -------------------------------------------------------------------------------------------

def _figure(columns: int, rows: int = 1, width: float = 3.4, height: float = 3.0):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, axes


def _alpha_axis(ax, alphas: list[float]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
    ax.minorticks_off()
    ax.set_xlabel("alpha = n_t / N")
    ax.grid(alpha=0.3)


def _curve(ax, alphas: list[float], entry: dict, colour: str, label: str, style: str = "-") -> None:
    """Theory as a line and simulation as points with standard errors; a protocol without theory
    (scratch, finetune) joins its points with the line instead."""
    if "theory" in entry:
        ax.plot(alphas, entry["theory"], style, color=colour, label=f"{label} (theory)")
    if "simulation_mean" in entry:
        ax.errorbar(alphas, entry["simulation_mean"], yerr=[s or 0 for s in entry["simulation_sem"]],
                    marker="o", ms=4, linestyle="none" if "theory" in entry else style, color=colour, capsize=2,
                    label=f"{label} (simulation)")


def plot_curves(data: dict, out: Path) -> None:
    figure, axes = _figure(4, rows=2, width=3.6, height=3.0)
    panels = list(axes.flat)
    for ax, name in zip(panels, CURVE_TARGETS):
        numbers = data["curves"][name]
        for protocol in ("tf", "rf", "scratch", "finetune"):
            _curve(ax, numbers["alphas"], numbers["protocols"][protocol], COLOURS[protocol], protocol)
        _alpha_axis(ax, numbers["alphas"])
        target = CURVE_TARGETS[name]
        ax.set_title("the source task itself" if not target else
                     ", ".join(f"{k.replace('_', ' ')} {v:+g}" if k == "latent_change" else f"{k.replace('_', ' ')} {v:g}"
                               for k, v in target.items()), fontsize=10)
        ax.set_ylabel("target test error")
    legend = panels[-1]
    legend.axis("off")
    legend.legend(*panels[0].get_legend_handles_labels(), loc="center", fontsize=9,
                  title="D = 50, N = K = 200, n_s = 2000, 2 seeds\nhyperparameters on validation data\n"
                        "(best achievable); theory at its oracle")
    figure.savefig(out / "findings_curves.png", dpi=110)


def plot_source_size(data: dict, out: Path) -> None:
    figure, axes = _figure(len(SOURCE_SIZE_TARGETS) + 1, width=3.6)
    for ax, name in zip(axes[0], SOURCE_SIZE_TARGETS):
        numbers = data["source_size"][name]
        for j, alpha in enumerate(numbers["x"]):
            ax.plot(numbers["y"], [row[j] for row in numbers["gain"]], "o-", ms=4, label=f"alpha {alpha:g}")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(numbers["y"], [f"{n:g}" for n in numbers["y"]])
        ax.minorticks_off()
        ax.set_xlabel("source samples n_s")
        ax.set_title("gain of tf over rf: " + ("source task itself" if name == "same_task" else "teacher noise 0.5"),
                     fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("error(rf) - error(tf)")
    axes[0][0].legend(fontsize=7)
    ax = axes[0][-1]
    numbers = data["source_size"]["same_task"]
    ax.plot(numbers["y"], [row[0] for row in numbers["source_test_errors"]], "ko-", ms=4)
    ax.set_xscale("log")
    ax.set_xticks(numbers["y"], [f"{n:g}" for n in numbers["y"]])
    ax.minorticks_off()
    ax.set_xlabel("source samples n_s")
    ax.set_ylabel("source test error")
    ax.set_title("the source network", fontsize=10)
    ax.grid(alpha=0.3)
    figure.savefig(out / "findings_source_size.png", dpi=110)


def plot_nested(data: dict, out: Path) -> None:
    figure, axes = _figure(2, width=4.2, height=3.4)
    panels = [("complex to simple: target D = 25", "complex_to_simple", "simple_to_simple", "D = 50", "D = 25"),
              ("simple to complex: target D = 50", "simple_to_complex", "complex_to_complex", "D = 25", "D = 50")]
    nested = data["nested"]
    for ax, (title, other, itself, other_label, itself_label) in zip(axes[0], panels):
        alphas = nested[other]["alphas"]
        _curve(ax, alphas, nested[other]["protocols"]["tf"], "C0", f"tf, source {other_label}")
        _curve(ax, alphas, nested[itself]["protocols"]["tf"], "C2", f"tf, source {itself_label} (itself)", "--")
        _curve(ax, alphas, nested[other]["protocols"]["rf"], "C1", "rf")
        _alpha_axis(ax, alphas)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("target test error")
        ax.legend(fontsize=7)
    figure.savefig(out / "findings_nested.png", dpi=110)


def plot_negative(data: dict, out: Path) -> None:
    """Per knob, the cells where tf loses: shaded where the gain over rf (theory) or over scratch
    (simulation) is negative, with the gain = 0 contour."""
    figure, axes = _figure(2, rows=2, width=4.2, height=3.3)
    styles = {"tf_rf": ("C3", "tf loses to rf (theory)", 0.35), "tf_scratch": ("C1", "tf loses to scratch (simulation)", 0.3)}
    for ax, knob in zip(axes.flat, KNOBS):
        for section, (colour, label, shade) in styles.items():
            if section not in data:
                continue
            diagram = data[section][knob]
            gain = [[math.nan if g is None else g for g in row] for row in diagram["gain"]]
            if min(min(row) for row in gain) < 0:
                ax.contourf(diagram["x"], diagram["y"], gain, levels=[-1.0, 0.0], colors=[colour], alpha=shade)
                ax.contour(diagram["x"], diagram["y"], gain, levels=[0.0], colors=[colour], linewidths=1.2)
            losing = [(x, y) for y, row in zip(diagram["y"], gain) for x, g in zip(diagram["x"], row) if g < 0]
            ax.plot([x for x, _ in losing], [y for _, y in losing], "x" if section == "tf_rf" else "o", ms=5,
                    color=colour, label=f"{label}: cells")
            ax.plot([], [], "s", color=colour, alpha=0.6, label=f"{label}: region")
        ax.set_xscale("log")
        ticks = [0.1, 0.25, 0.5, 1, 2, 4]
        ax.set_xticks(ticks, [f"{a:g}" for a in ticks])
        ax.minorticks_off()
        ax.set_xlim(DIAGRAM_ALPHAS[0] * 0.9, DIAGRAM_ALPHAS[-1] * 1.1)
        values = [v for section in styles if section in data for v in data[section][knob]["y"]]
        pad = 0.04 * (max(values) - min(values))
        ax.set_ylim(min(values) - pad, max(values) + pad)
        ax.set_xlabel("alpha = n_t / N")
        ax.set_ylabel(knob.replace("_", " "))
        ax.grid(alpha=0.3)
    figure.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    figure.savefig(out / "findings_negative.png", dpi=110)


def _grid(values: list) -> list:
    return [[math.nan if v is None else v for v in row] for row in values]


def plot_fair_against_fixed(data: dict, out: Path) -> None:
    """Per knob, the gain of tf over scratch under science version 3's comparison (readouts at the oracle,
    scratch at fixed settings), under the fair default (every protocol tuned on validation data), and
    their difference, on one colour scale, with the gain = 0 contour."""
    from matplotlib.colors import TwoSlopeNorm

    figure, axes = _figure(len(KNOBS), rows=3, width=3.3, height=2.9)
    rows = [("tf_scratch_fixed", "v3: readouts at the oracle,\nscratch fixed"), ("tf_scratch", "fair: every protocol\n"
                                                                                              "tuned on validation data")]
    limit = max(abs(g) for section, _ in rows for knob in KNOBS for row in data[section][knob]["gain"]
                for g in row if g is not None)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    for column, knob in enumerate(KNOBS):
        grids = {}
        for row, (section, label) in enumerate(rows):
            diagram = data[section][knob]
            grids[section] = gain = _grid(diagram["gain"])
            ax = axes[row][column]
            image = ax.pcolormesh(range(len(diagram["x"])), range(len(diagram["y"])), gain, cmap="RdBu", norm=norm,
                                  shading="nearest")
            if min(min(r) for r in gain) < 0 < max(max(r) for r in gain):
                ax.contour(range(len(diagram["x"])), range(len(diagram["y"])), gain, levels=[0.0], colors="k",
                           linewidths=1.2)
            ax.set_title(f"{knob.replace('_', ' ')}: {label}", fontsize=8)
        diagram = data["tf_scratch"][knob]
        change = [[a - b for a, b in zip(fair, fixed)] for fair, fixed in zip(grids["tf_scratch"], grids["tf_scratch_fixed"])]
        ax = axes[2][column]
        moved = ax.pcolormesh(range(len(diagram["x"])), range(len(diagram["y"])), change, cmap="PuOr",
                              norm=TwoSlopeNorm(vcenter=0.0, vmin=-0.05, vmax=0.05), shading="nearest")
        for yi, row in enumerate(change):
            for xi, value in enumerate(row):
                ax.text(xi, yi, f"{value:+.3f}", ha="center", va="center", fontsize=6)
        ax.set_title(f"{knob.replace('_', ' ')}: fair - v3 (gain)", fontsize=8)
        for row in range(3):
            ax = axes[row][column]
            ax.set_xticks(range(len(diagram["x"])), [f"{x:g}" for x in diagram["x"]], fontsize=7)
            ax.set_yticks(range(len(diagram["y"])), [f"{y:g}" for y in diagram["y"]], fontsize=7)
            ax.set_xlabel("alpha = n_t / N", fontsize=7)
            ax.set_ylabel(knob.replace("_", " "), fontsize=7)
    figure.colorbar(image, ax=axes[:2, :].ravel().tolist(), label="gain = error(scratch) - error(tf)", shrink=0.6)
    figure.colorbar(moved, ax=axes[2, :].ravel().tolist(), label="change of the gain", shrink=0.8)
    figure.savefig(out / "findings_tf_scratch_fair_vs_fixed.png", dpi=110)


# ---- summaries (the numbers the page quotes) ---------------------------------------------------------------

def negative_summary(diagram: dict) -> dict[str, Any]:
    """Per knob value (row): where the gain turns from positive to negative along alpha (linear
    interpolation, as the diagram's boundary), whether it is negative already at the smallest alpha,
    and at which alphas it is negative; over the diagram, the most negative cell and the smallest
    knob value with a negative cell."""
    turns, from_start, negative_alphas, everywhere = [], [], [], []
    for row in diagram["gain"]:
        known = [(x, g) for x, g in zip(diagram["x"], row) if g is not None]
        turn = next((x0 + (x1 - x0) * g0 / (g0 - g1) for (x0, g0), (x1, g1) in zip(known, known[1:])
                     if g0 > 0 >= g1), None)
        turns.append(turn)
        from_start.append(bool(known) and known[0][1] < 0)
        negative_alphas.append([x for x, g in known if g < 0])
        everywhere.append(bool(known) and all(g < 0 for _, g in known))
    cells = [(g, i, j) for i, row in enumerate(diagram["gain"]) for j, g in enumerate(row) if g is not None]
    worst = min(cells)
    return {"values": diagram["y"], "turns_negative_at": turns, "negative_at_smallest_alpha": from_start,
            "negative_alphas": negative_alphas, "negative_everywhere": everywhere,
            "most_negative": {"gain": worst[0], "knob": diagram["y"][worst[1]], "alpha": diagram["x"][worst[2]]},
            "first_value_negative_somewhere": next((v for v, alphas in zip(diagram["y"], negative_alphas) if alphas),
                                                   None)}


def moved_summary(fair: dict, fixed: dict) -> dict[str, Any]:
    """What the fair comparison moved against science version 3's, per diagram: the change of each
    protocol's simulated test error and of the gain, cell by cell (mean, smallest, largest), the cells
    whose gain changed sign, and each row's boundary under both."""
    def changes(key: str) -> list[float]:
        if key == "gain":
            pairs = zip(fair["gain"], fixed["gain"])
        else:
            pairs = zip(fair["test_error"][key], fixed["test_error"][key])
        return [a - b for ra, rb in pairs for a, b in zip(ra, rb) if a is not None and b is not None]

    summary: dict[str, Any] = {}
    for key in ("tf", "scratch", "gain"):
        values = changes(key)
        summary[key] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}
    summary["sign_changes"] = [{"knob": y, "alpha": x, "fixed": gb, "fair": ga}
                               for y, ra, rb in zip(fair["y"], fair["gain"], fixed["gain"])
                               for x, ga, gb in zip(fair["x"], ra, rb)
                               if ga is not None and gb is not None and (ga < 0) != (gb < 0)]
    summary["turns_negative_at"] = {"fair": negative_summary(fair)["turns_negative_at"],
                                    "fixed": negative_summary(fixed)["turns_negative_at"]}
    return summary


def summarise(data: dict) -> None:
    if "tf_rf" in data or "tf_scratch" in data:
        data["negative"] = {section: {knob: negative_summary(data[section][knob]) for knob in KNOBS}
                            for section in ("tf_rf", "tf_scratch") if section in data}
    if "tf_scratch" in data and "tf_scratch_fixed" in data:
        data["moved"] = {knob: moved_summary(data["tf_scratch"][knob], data["tf_scratch_fixed"][knob]) for knob in KNOBS}


def _row(diagram: dict, y: float) -> list:
    return diagram["gain"][diagram["y"].index(y)]


def _below_one(diagram: dict) -> float:
    """The smallest gain of the rows with knob value below 1 (a related target)."""
    return min(g for y, row in zip(diagram["y"], diagram["gain"]) if y < 1 for g in row if g is not None)


def quoted(data: dict) -> dict[str, str]:
    """Every number docs/findings.md quotes, formatted as the page prints it (a test checks the page
    holds each one): re-running a section changes these, and the page must follow."""
    f3 = "{:.3f}".format
    q: dict[str, str] = {}
    if "curves" in data:
        curves = data["curves"]

        def sim(name: str, protocol: str, index: int) -> float:
            return curves[name]["protocols"][protocol]["simulation_mean"][index]

        for name in CURVE_TARGETS:
            for protocol in ("tf", "scratch"):
                q[f"curve {name} {protocol} 0.25"] = f3(sim(name, protocol, 0))
        q["curve feature_noise tf 4"], q["curve feature_noise scratch 4"] = f3(sim("feature_noise", "tf", -1)), \
            f3(sim("feature_noise", "scratch", -1))
        q["curve teacher_noise tf 4"], q["curve teacher_noise scratch 4"] = f3(sim("teacher_noise", "tf", -1)), \
            f3(sim("teacher_noise", "scratch", -1))
        q["curve same tf 4"], q["curve same scratch 4"] = f3(sim("same_task", "tf", -1)), f3(sim("same_task", "scratch", -1))
        q["source test error"] = f3(curves["same_task"]["source_test_error"])
        related = [name for name in CURVE_TARGETS if name not in UNRELATED_CURVES and name in curves]
        q["finetune - tf related worst"] = f3(max(sim(name, "finetune", i) - sim(name, "tf", i) for name in related
                                                   for i in range(len(curves[name]["alphas"]))))
        q["finetune - tf related 0.25"] = f3(max(abs(sim(name, "finetune", 0) - sim(name, "tf", 0)) for name in related))
        for name in related:
            q[f"curve {name} finetune 4"] = f3(sim(name, "finetune", -1))
        for name in (n for n in UNRELATED_CURVES if n in curves):
            for protocol in ("tf", "scratch", "finetune"):
                q[f"curve {name} {protocol} 4"] = f3(sim(name, protocol, -1))
            q[f"curve {name} finetune 0.25"] = f3(sim(name, "finetune", 0))
    if "tf_rf" in data:
        diagrams = data["tf_rf"]
        for knob in ("feature_noise", "teacher_noise", "feature_substitution"):
            q[f"tf_rf smallest {knob}"] = f3(_below_one(diagrams[knob]))
        q["tf_rf smallest latent_change"] = f3(min(g for row in diagrams["latent_change"]["gain"] for g in row))
        q["tf_rf same 0.1"], q["tf_rf same 4"] = f3(_row(diagrams["feature_noise"], 0.0)[0]), \
            f3(_row(diagrams["feature_noise"], 0.0)[-1])
        q["tf_rf teacher 0.5"], q["tf_rf feature 0.5"] = f3(_row(diagrams["teacher_noise"], 0.5)[0]), \
            f3(_row(diagrams["feature_noise"], 0.5)[0])
    if "tf_rf" in data:
        for knob in ("feature_noise", "teacher_noise", "feature_substitution"):
            unrelated = data["tf_rf"][knob]["boundary"][-1]["crossings"]  # the row at knob value 1
            q[f"tf_rf unrelated {knob} turns positive"] = "{:.2f}".format(unrelated[0])
        q["tf_rf unrelated worst"] = f3(-min(min(_row(data["tf_rf"][knob], 1.0)) for knob in
                                             ("feature_noise", "teacher_noise", "feature_substitution")))
    if "tf_scratch" in data:
        diagrams, turns = data["tf_scratch"], data["negative"]["tf_scratch"]
        q["tf_scratch same 0.25"] = f3(_row(diagrams["feature_noise"], 0.0)[0])
        q["tf_scratch same 4"] = f3(_row(diagrams["feature_noise"], 0.0)[-1])
        q["tf_scratch feature_noise 0.25 4"] = f3(_row(diagrams["feature_noise"], 0.25)[-1])
        for knob in KNOBS:
            for value, alpha in zip(turns[knob]["values"], turns[knob]["turns_negative_at"]):
                if alpha is not None and (knob == "latent_change" or value < 1):  # unrelated targets: below
                    q[f"tf_scratch {knob} {value:g} turns negative"] = "{:.2f}".format(alpha)
        q["tf_scratch smallest related 0.25"] = f3(min(row[0] for knob in KNOBS
                                                       for y, row in zip(diagrams[knob]["y"], diagrams[knob]["gain"])
                                                       if knob == "latent_change" or y < 1))
        related = [g for knob in KNOBS for y, row in zip(diagrams[knob]["y"], diagrams[knob]["gain"])
                   if knob == "latent_change" or y < 1 for g in row if g is not None]
        q["tf_scratch related worst"] = f3(-min(related))
        q["tf_scratch unrelated worst"] = f3(-min(g for knob in KNOBS if knob != "latent_change"
                                                  for g in _row(diagrams[knob], 1.0) if g is not None))
        sem = {knob: diagrams[knob]["test_error_sem"] for knob in KNOBS}
        sems = sorted((a * a + b * b) ** 0.5 for knob in KNOBS for row_tf, row_s in zip(sem[knob]["tf"], sem[knob]["scratch"])
                      for a, b in zip(row_tf, row_s) if a is not None and b is not None)
        q["tf_scratch gain sem median"] = f3(sems[len(sems) // 2])
    if "moved" in data:
        moved = data["moved"]
        for key in ("tf", "scratch"):
            q[f"moved {key} largest"] = f3(max(max(-moved[knob][key]["min"], moved[knob][key]["max"]) for knob in KNOBS))
        q["moved gain range"] = (f"{min(moved[knob]['gain']['min'] for knob in KNOBS):+.3f} to "
                                 f"{max(moved[knob]['gain']['max'] for knob in KNOBS):+.3f}")
        q["moved sign changes"] = str(sum(len(moved[knob]["sign_changes"]) for knob in KNOBS))
        fixed = data["tf_scratch_fixed"]
        related = [g for knob in KNOBS for y, row in zip(fixed[knob]["y"], fixed[knob]["gain"])
                   if knob == "latent_change" or y < 1 for g in row if g is not None]
        q["tf_scratch_fixed related worst"] = f3(-min(related))
    if "source_size" in data:
        for name, short in (("same_task", "same"), ("teacher_noise", "teacher")):
            diagram = data["source_size"][name]
            for n_s in (SOURCE_SIZES[0], SOURCE_SIZES[-1]):
                q[f"n_s {short} {n_s} 0.25"] = f3(_row(diagram, n_s)[0])
                q[f"n_s {short} {n_s} 4"] = f3(_row(diagram, n_s)[-1])
        errors = data["source_size"]["same_task"]["source_test_errors"]
        q["n_s source error 250"], q["n_s source error 8000"] = f3(errors[0][0]), f3(errors[-1][0])
    if "nested" in data:
        nested = data["nested"]

        def tf(name: str, kind: str, index: int = 0) -> float:
            return nested[name]["protocols"]["tf"][kind][index]

        def gain(name: str, kind: str, index: int = 0) -> float:
            return nested[name]["protocols"]["rf"][kind][index] - tf(name, kind, index)

        for name in NESTED:
            q[f"nested {name} tf theory"] = f3(tf(name, "theory"))
            q[f"nested {name} tf simulation"] = f3(tf(name, "simulation_mean"))
        for name in ("complex_to_simple", "simple_to_complex"):
            q[f"nested {name} gain theory"] = f3(gain(name, "theory"))
            q[f"nested {name} gain simulation"] = f3(gain(name, "simulation_mean"))
            q[f"nested {name} gain theory 4"] = f3(gain(name, "theory", -1))
        q["nested simple gap"] = f3(tf("simple_to_simple", "theory") - tf("simple_to_simple", "simulation_mean"))
    return q


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def report(data: dict) -> None:
    """A table of the headline numbers, printed (the page quotes them from the JSON)."""
    if "curves" in data:
        print("\nlearning curves (simulation means; tf, rf also theory):")
        for name, numbers in data["curves"].items():
            for protocol, entry in numbers["protocols"].items():
                means = " ".join(_fmt(v) for v in entry.get("simulation_mean", []))
                theory = " ".join(_fmt(v) for v in entry.get("theory", []))
                print(f"  {name:22s} {protocol:9s} sim {means}   theory {theory}")
    if "negative" in data:
        print("\nwhere the gain turns negative along alpha, per knob value ('<': negative at the smallest alpha):")
        for section, knobs in data["negative"].items():
            for knob, summary in knobs.items():
                cells = ", ".join(f"{v:g}:{'<' if start else ''}{_fmt(a, 2)}" for v, a, start in
                                  zip(summary["values"], summary["turns_negative_at"], summary["negative_at_smallest_alpha"]))
                print(f"  {section:10s} {knob:20s} {cells}")


# ---- main -------------------------------------------------------------------------------------------------

def parse_sections(only: str | None) -> list[str]:
    if not only:
        return list(SECTIONS)
    wanted: list[str] = []
    for name in only.split(","):
        names = FINETUNE_SECTIONS if name == "finetune" else [name]
        for section in names:
            if section not in SECTIONS:
                raise SystemExit(f"unknown section {section!r}: choose from {', '.join(SECTIONS)} or finetune")
            if section not in wanted:
                wanted.append(section)
    return wanted


def main(url: str | None = None, out: str = "docs/img", data_file: str = "docs/data/findings.json",
         only: str | None = None) -> dict:
    out_dir, data_path = Path(out), Path(data_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = json.loads(data_path.read_text()) if data_path.exists() else {}
    data.setdefault("requests", {})
    data.setdefault("jobs", {})
    with Client(url, timeout=60.0) as client:
        for section in parse_sections(only):
            kind, make = REQUESTS[section]
            requests = {name: with_base(request) for name, request in make().items()}
            print(f"{section} ({len(requests)} {kind.replace('_', ' ')}s)", flush=True)
            ran = run_all(client, kind, requests)
            numbers = curve_numbers if kind == "learning_curve" else diagram_numbers
            data[section] = {name: numbers(result) for name, result in ran["results"].items()}
            data["requests"][section] = requests
            data["jobs"][section] = ran["jobs"]
            if section in ("tf_rf", "tf_scratch", "tf_scratch_fixed"):
                for knob, job_id in ran["jobs"].items():
                    client.plot(job_id, out_dir / f"findings_{section}_{knob}.png")
            summarise(data)
            data_path.write_text(json.dumps(data, indent=1) + "\n")  # after each section: nothing done is lost
    if "curves" in data:
        plot_curves(data, out_dir)
    if "source_size" in data:
        plot_source_size(data, out_dir)
    if "nested" in data:
        plot_nested(data, out_dir)
    if "negative" in data:
        plot_negative(data, out_dir)
    if "tf_scratch" in data and "tf_scratch_fixed" in data:
        plot_fair_against_fixed(data, out_dir)
    report(data)
    print(f"saved {data_path} and the pictures in {out_dir}/findings_*.png")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=None)
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--data", default="docs/data/findings.json")
    parser.add_argument("--only", default=None, help="comma-separated sections (or 'finetune')")
    arguments = parser.parse_args()
    main(arguments.url, arguments.out, arguments.data, arguments.only)
