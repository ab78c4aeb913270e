"""Which layer to transfer (issue 19, part 4; MODEL.md section 9): the theory of tf on a deeper source
network's l-th hidden layer against simulation, and the layer-by-task-distance picture of docs/findings.md.

**Validation** (``validate``): the finite-size study's setting at N = 400 (``bench/finite_size.py``: D = N/4,
K = N, erf inputs and network, n_s = 5N samples, 100 full-batch Adam epochs, M = 50000 Monte Carlo samples,
12 seeds x 20000 test samples, alpha in {0.5, 1, 2, 4}, the theory's oracle lambda) with a source network of
L = 2 hidden layers, tf at l = 1 and l = 2 and rf at depth 1 and 2, on the study's related target
(feature_noise 0.3, teacher_noise 0.1) and its changed one (teacher_noise 0.5). Cached in
docs/data/transfer_layer.json; its section of docs/validation.md is ``render``.

**Picture** (``picture``): the issue's probe, through the engine: a source network of L = 3 erf hidden
layers (D = 40, N = K = 150, n_s = 3000, the network defaults: 300 full-batch Adam epochs, lr 0.01, wd 1e-4),
tf at l = 1, 2, 3 (and rf at depth l, linear), each at its oracle lambda, over feature_noise and
teacher_noise in 0 .. 1 (one at a time) and alpha in ALPHAS: the theory at every cell, a simulation (4
seeds x 5000 test samples) at SIMULATED knob values. Cached in docs/data/transfer_layer_findings.json,
drawn to docs/img/findings_transfer_layer.png.

`python -m bench.transfer_layer [validate|picture]` computes what is missing (both by default).
"""

from __future__ import annotations

import json
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

# --- validation at N = K = 400 ------------------------------------------------------------------
DATA = Path("docs/data/transfer_layer.json")
N = 400
LAYERS = [1, 2]
THRESHOLD = 0.015


def key(layer: int, target: str) -> str:
    return f"v{SCIENCE_VERSION}/N={N}/L=2/l={layer}/{target}"


def spec(layer: int, target: str) -> LearningCurveRequest:
    body = fs.spec(fs.Cell(N, "erf", target)).model_dump(mode="json")
    body["network"]["hidden_layers"] = 2
    return LearningCurveRequest.model_validate({**body, "readout": {**body["readout"], "transfer_layer": layer},
                                                "protocols": ["tf", "rf"]})


def validate(path: Path = DATA) -> dict[str, Any]:
    cache = fs.load(path)
    store = MemoryArtifactStore()  # one source network for every layer and target
    for target in fs.TARGETS:
        for layer in LAYERS:
            if key(layer, target) in cache:
                continue
            start = time.perf_counter()
            result = run_learning_curve(SyntheticSource(spec(layer, target)), store).model_dump(mode="json")
            entry = fs.summary(result, time.perf_counter() - start)
            cache = fs.save(path, key(layer, target), entry)
    return cache


def rows(cache: dict[str, Any], version: int) -> list[dict[str, Any]]:
    """The finite-size study's rows of ``version``'s curves, with "l=1" / "l=2" in place of the activation."""
    out = []
    for name, entry in versioned.at(cache, version).items():
        _, _, layer, target = name.split("/", 3)
        out += [{**row, "activation": layer} for row in versioned.finite_size_rows({f"N={N}/erf/{target}": entry})]
    return out


def checks(table: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    out = []
    for point in fs.pooled(table):
        out.append((f"{point.protocol} at {point.activation}: |pooled gap| <= {THRESHOLD}", abs(point.mean) <= THRESHOLD,
                    f"{point.mean:+.4f} ± {point.se:.4f}; largest cell {point.largest:.4f}"))
    return out


def render(path: Path = DATA) -> list[str]:
    cache, version = versioned.newest(path)
    table = rows(cache, version)
    points = fs.pooled(table)
    source = next(iter(versioned.at(cache, version).values()))["source_test_error"]
    one_layer = {p.protocol: p for p in fs.pooled(versioned.finite_size_rows(versioned.at(fs.load(), version)))
                 if p.n == N and p.activation == "erf"}
    lines = ["", "## Which layer: theory against simulation at N = K = 400, two hidden layers", "",
             "Written from `docs/data/transfer_layer.json` (`python -m bench.transfer_layer validate`, module",
             f"docstring for the method), computed at science version {version}. The finite-size study's setting at",
             "N = 400 (D = 100, erf, n_s = 2000, 100 epochs, M = 50000, 12 seeds x 20000 test samples, the theory's",
             "optimal lambda, its two targets) with a",
             f"source network of L = 2 hidden layers (source test error {source:.4f}); tf on hidden layer l, rf on a",
             "random network of depth l. The theory is the GCM on the Monte Carlo covariances of those features",
             "(Gaussian equivalence of trained deep features is conjectured: [model.md](model.md)).", "",
             "Pooled signed gap theory - simulation over 2 targets x 4 alphas (± one standard error), beside the",
             "one-hidden-layer network's at N = 400 (finite-size study):", "",
             "| protocol | one hidden layer | " + " | ".join(f"L = 2, l = {layer}" for layer in LAYERS) + " | largest cell |",
             "|---|---|" + "---|" * len(LAYERS) + "---|"]
    for protocol in ("tf", "rf"):
        line = {p.activation: p for p in points if p.protocol == protocol}
        cells = [f"{line[f'l={layer}'].mean:+.4f} ± {line[f'l={layer}'].se:.4f}" if f"l={layer}" in line else "—"
                 for layer in LAYERS]
        base = one_layer.get(protocol)
        largest = max((p.largest for p in line.values()), default=float("nan"))
        lines.append(f"| {protocol} | " + (f"{base.mean:+.4f} ± {base.se:.4f}" if base else "—") + " | "
                     + " | ".join(cells) + f" | {largest:.4f} |")
    return lines + fs.assertions_and_cells(checks(table), table, "layer")


# --- the layer-by-task-distance picture -----------------------------------------------------------
FINDINGS = Path("docs/data/transfer_layer_findings.json")
PICTURE = Path("docs/img/findings_transfer_layer.png")
DEPTH = 3
KNOBS = ["feature_noise", "teacher_noise"]
VALUES = [round(0.1 * i, 1) for i in range(11)]
SIMULATED = [0.0, 0.25, 0.5, 0.75, 1.0]
ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
#: a lead of one layer over another smaller than this is not resolved at N = 150: the theory sits up to
#: about 0.012 above the simulation on the source task here (finite size, validation.md)
RESOLVED = 0.01
PROBE = {"source": {"latent_dim": 40, "input_dim": 150},
         "network": {"hidden_units": 150, "n_samples": 3000, "hidden_layers": DEPTH}}


def probe_request(knob: str, value: float, layer: int, simulate: bool) -> LearningCurveRequest:
    return LearningCurveRequest.model_validate({
        **PROBE, "target": {knob: value}, "readout": {"transfer_layer": layer}, "alphas": ALPHAS,
        "protocols": ["tf", "rf", "linear"] if layer == 1 else ["tf", "rf"],
        "simulation": {"seeds": 4, "test_samples": 5000} if simulate else None})


def picture_data(path: Path = FINDINGS) -> dict[str, Any]:
    """Every (knob, value, layer) curve, computed where missing: {"cells": {name: curve summary}, ...}."""
    data = fs.load(path) or {"cells": {}}
    current = f"v{SCIENCE_VERSION}/"
    if any(not name.startswith(current) for name in data["cells"]):  # computed by an older engine: redone
        data["cells"] = {name: cell for name, cell in data["cells"].items() if name.startswith(current)}
    store = MemoryArtifactStore()  # one source network for the whole picture
    for knob in KNOBS:
        for value in sorted(set(VALUES) | set(SIMULATED)):
            for layer in range(1, DEPTH + 1):
                name = f"v{SCIENCE_VERSION}/{knob}={value:g}/l={layer}"
                if name in data["cells"]:
                    continue
                request = probe_request(knob, value, layer, value in SIMULATED)
                start = time.perf_counter()
                result = run_learning_curve(SyntheticSource(request), store).model_dump(mode="json")
                curves = {}
                for protocol, curve in result["curves"].items():
                    sim = curve["simulation"]
                    curves[protocol] = {"theory": curve["theory"]["test_error"],
                                        "regularisation": curve["theory"]["regularisation"],
                                        "simulation": None if sim is None else sim["test_error_mean"],
                                        "sem": None if sim is None else sim["test_error_sem"]}
                data["cells"][name] = {"curves": curves, "source_test_error": result["source_test_error"],
                                       "seconds": round(time.perf_counter() - start, 1)}
                data["requests"] = {"example": request.model_dump(mode="json", exclude_defaults=True)}
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(data, indent=1, sort_keys=True))
                print(f"{name}: {data['cells'][name]['seconds']:.0f}s", file=sys.stderr, flush=True)
    return data


def curve(data: dict[str, Any], knob: str, value: float, layer: int, protocol: str = "tf") -> dict[str, Any]:
    """A cell of the newest science version the picture's cache holds."""
    return data["cells"][f"v{versioned.latest(data['cells'])}/{knob}={value:g}/l={layer}"]["curves"][protocol]


def curve_source_error(data: dict[str, Any]) -> float:
    version = versioned.latest(data["cells"])
    return next(entry for key, entry in data["cells"].items() if versioned.version_of(key) == version)["source_test_error"]


def best_layers(data: dict[str, Any], knob: str) -> np.ndarray:
    """(values, alphas) array of the layer with the lowest theoretical tf error."""
    return np.array([[1 + int(np.argmin([curve(data, knob, v, layer)["theory"][a] for layer in range(1, DEPTH + 1)]))
                      for a in range(len(ALPHAS))] for v in VALUES])


def quoted(data: dict[str, Any]) -> dict[str, str]:
    """The numbers docs/findings.md quotes, as they are written there."""
    a1, a4 = ALPHAS.index(1.0), ALPHAS.index(4.0)
    out = {}
    for layer in range(1, DEPTH + 1):
        same = curve(data, "feature_noise", 0.0, layer)
        out[f"same task, alpha 1, l={layer}"] = f"{same['theory'][a1]:.3f} ({same['simulation'][a1]:.3f})"
        for knob, value in (("feature_noise", 0.5), ("teacher_noise", 0.75)):
            theory = curve(data, knob, value, layer)["theory"][a4]
            sim = curve(data, knob, value, layer)["simulation"][a4]
            out[f"{knob} {value}, alpha 4, l={layer}"] = f"{theory:.3f} ({sim:.3f})"
    for knob, value in (("feature_noise", 0.5), ("teacher_noise", 0.75)):
        for protocol in ("rf", "linear"):
            other = curve(data, knob, value, 1, protocol)
            out[f"{knob} {value}, alpha 4, {protocol}"] = f"{other['theory'][a4]:.3f} ({other['simulation'][a4]:.3f})"
    out["source test error"] = f"{curve_source_error(data):.3f}"
    return out


def draw(data: dict[str, Any], path: Path = PICTURE) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8.2))
    FigureCanvasAgg(figure)
    colours = {1: "tab:blue", 2: "tab:purple", 3: "tab:red"}
    a4 = ALPHAS.index(4.0)
    for column, knob in enumerate(KNOBS):
        axes = figure.add_subplot(2, 2, 1 + column)
        for layer in range(1, DEPTH + 1):
            theory = [curve(data, knob, v, layer)["theory"][a4] for v in VALUES]
            axes.plot(VALUES, theory, "-", color=colours[layer], label=f"tf, layer {layer} (theory)")
            sims = [curve(data, knob, v, layer) for v in SIMULATED]
            axes.errorbar(SIMULATED, [s["simulation"][a4] for s in sims], yerr=[2 * s["sem"][a4] for s in sims],
                          fmt="o", color=colours[layer], capsize=3, ms=4)
        rf = [curve(data, knob, v, 1, "rf")["theory"][a4] for v in VALUES]
        linear = [curve(data, knob, v, 1, "linear")["theory"][a4] for v in VALUES]
        axes.plot(VALUES, rf, "--", color="tab:orange", label="rf, depth 1 (theory)")
        axes.plot(VALUES, linear, ":", color="tab:green", label="linear (theory)")
        axes.set_xlabel(knob.replace("_", " "))
        axes.set_ylabel("test error")
        axes.set_title("alpha = 4: tf on each hidden layer of a 3-layer source network\n"
                       "(dots: simulation, 4 seeds, bars 2 s.e.)", fontsize=9)
        axes.grid(alpha=0.3)
        if column == 0:
            axes.legend(fontsize=8)
        bottom = figure.add_subplot(2, 2, 3 + column)
        best = best_layers(data, knob)
        leads = np.array([[np.diff(sorted(curve(data, knob, v, layer)["theory"][a] for layer in range(1, DEPTH + 1)))[0]
                           for a in range(len(ALPHAS))] for v in VALUES])
        bottom.imshow(best.T, origin="lower", aspect="auto", cmap=ListedColormap([colours[i] for i in (1, 2, 3)]),
                      vmin=0.5, vmax=3.5, extent=(-0.05, 1.05, -0.5, len(ALPHAS) - 0.5),
                      alpha=np.where(leads.T < RESOLVED, 0.35, 1.0))
        for i, v in enumerate(VALUES):
            for a in range(len(ALPHAS)):
                bottom.text(v, a, f"{leads[i, a]:.3f}", ha="center", va="center", fontsize=6,
                            color="white" if leads[i, a] >= RESOLVED else "black")
        bottom.set_yticks(range(len(ALPHAS)), [f"{a:g}" for a in ALPHAS])
        bottom.set_xlabel(knob.replace("_", " "))
        bottom.set_ylabel("alpha = n_t / N")
        bottom.set_title(f"best layer (theory): blue 1, purple 2, red 3; numbers: its lead over the\nnext best "
                         f"layer, pale where below {RESOLVED} (the theory-simulation gap at this size)", fontsize=9)
    figure.suptitle(f"Which layer to transfer: D = 40, N = K = 150, n_s = 3000, L = 3, each readout at its oracle "
                    f"lambda (source test error {curve_source_error(data):.3f}; science version "
                    f"{versioned.latest(data['cells'])})", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parts = (argv if argv is not None else sys.argv[1:]) or ["validate", "picture"]
    status = 0
    if "validate" in parts:
        results = checks(rows(validate(), int(SCIENCE_VERSION)))
        for what, ok, detail in results:
            print(f"{'PASS' if ok else 'FAIL'} {what}: {detail}")
        status |= 0 if all(ok for _, ok, _ in results) else 1
    if "picture" in parts or "draw" in parts:
        data = picture_data()
        draw(data)
        data["quoted"] = quoted(data)
        FINDINGS.write_text(json.dumps(data, indent=1, sort_keys=True))
        for name, text in data["quoted"].items():
            print(f"{name}: {text}")
    return status


if __name__ == "__main__":
    sys.exit(main())
