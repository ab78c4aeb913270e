"""Transfer learning on real data: tasks on scikit-learn's handwritten digits, through the API, next
to the synthetic model at comparable settings.

    make run                                                   # in another terminal
    python examples/digits_transfer.py [URL] [OUTPUT_DIR]      # defaults: http://127.0.0.1:8000 docs/img

Source task: is the digit below 5? (899 images). Two target tasks on the other 898 images:
- related: is the digit below 4? The labellings agree on 9 digits of 10 (all but 4);
- weakly related: is the digit even? They agree on 6 digits of 10 (0, 2, 4 and 5, 7, 9).
The sets are uploaded as .npz files (the data ship in examples/data/digits.npz, derived once from
scikit-learn's wheel: no download). Each pair gets a learning curve with the five protocols, each
readout at the lambda its model finds best (the oracle: the Gaussian-equivalent model's on the digits,
fitted on the training split, the theory's on the synthetic model; scratch and finetune at their fixed
settings, tuning rule "fixed", as science version 3 ran them), next to the synthetic model at comparable settings: N = 64
inputs, D = 16 latent dimensions (N / 4, the default ratio), the same network, alphas and seeds,
the same target features (feature_noise 0) and a teacher rotated until source and target labels
agree as often as on the digits: agreement 1 - arccos(sqrt(1 - teacher_noise)) / pi is 0.90 at
teacher_noise 0.1 and 0.60 at 0.9.

Writes OUTPUT_DIR/digits_transfer.png (four panels) and digits_transfer.json (the numbers), and
prints a table. About five minutes on two cores when nothing is cached.
"""

from __future__ import annotations

import io
import json
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("data") / "digits.npz"
PROTOCOLS = ["tf", "rf", "linear", "scratch", "finetune"]
ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
NETWORK = {"hidden_units": 100, "n_samples": 719, "epochs": 300}
SIMULATION = {"seeds": 12}
#: target name -> (label of a digit, synthetic teacher_noise with the same source-target agreement)
TARGETS = {"related": (lambda digit: digit < 4, 0.1), "weakly_related": (lambda digit: digit % 2 == 0, 0.9)}
#: a smaller run for the example's test (same code path, seconds instead of minutes)
QUICK = {"alphas": [0.5, 2.0], "network": {"hidden_units": 20, "n_samples": 300, "epochs": 40},
         "simulation": {"seeds": 2, "test_samples": 500}, "theory": {"mc_samples": 4000}}
COLOURS = {"tf": "C0", "rf": "C1", "linear": "C2", "scratch": "C3", "finetune": "C4"}


def digit_tasks() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The source (digit < 5) and the targets (``TARGETS``) on two disjoint halves of the images."""
    with np.load(DATA, allow_pickle=False) as data:
        images, digits = data["images"], data["digits"]
    order = np.random.default_rng(0).permutation(len(images))
    source, target = order[:899], order[899:]
    tasks = {"source": (images[source], (digits[source] < 5).astype(np.int8))}
    for name, (label, _) in TARGETS.items():
        tasks[name] = (images[target], label(digits[target]).astype(np.int8))
    return tasks


def call(url: str, body: dict | bytes | None = None, content_type: str = "application/json") -> tuple[int, dict]:
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": content_type})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read())


def upload(base: str, inputs: np.ndarray, labels: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.savez(buffer, inputs=inputs, labels=labels)
    status, described = call(f"{base}/v1/datasets", buffer.getvalue(), "application/octet-stream")
    print(f"  {described['dataset_id']}: {described['samples']} x {described['input_dim']}, "
          f"{described['positive_fraction']:.2f} positive ({'stored' if status == 201 else 'already stored'})")
    return described["dataset_id"]


def learning_curve(base: str, name: str, request: dict) -> dict:
    status, submitted = call(f"{base}/v1/learning-curves", request)
    job_id = submitted["job_id"]
    print(f"{name}: {job_id} ({'cached' if submitted['cached'] else 'queued'})")
    while not submitted["cached"]:
        _, view = call(f"{base}/v1/jobs/{job_id}?wait=30")
        if view["status"] in ("finished", "failed", "canceled"):
            if view["status"] != "finished":
                raise SystemExit(f"{name} ended {view['status']}: {view['error']}")
            break
        print(f"  {view['status']} {view['progress']}")
        time.sleep(1)
    return call(f"{base}/v1/jobs/{job_id}/result")[1]


def requests(ids: dict[str, str], quick: bool) -> dict[str, dict]:
    """Per target: the digits curve and the synthetic one (named "<target>/digits", "<target>/synthetic")."""
    common = {"network": NETWORK, "alphas": ALPHAS, "simulation": SIMULATION, "protocols": PROTOCOLS,
              "readout": {"regularisation": "oracle"}, "tuning": {"rule": "fixed"}}
    out = {}
    for name, (_, teacher_noise) in TARGETS.items():
        out[f"{name}/digits"] = {**common, "source": {"dataset": ids["source"]}, "target": {"dataset": ids[name]}}
        out[f"{name}/synthetic"] = {**common, "source": {"latent_dim": 16, "input_dim": 64},
                                    "target": {"teacher_noise": teacher_noise}}
    if quick:
        out = {name: {**request, **QUICK} for name, request in out.items()}
    return out


def summary(result: dict) -> dict:
    """The numbers the docs quote: per protocol, simulation mean and sem, and the model's curve."""
    out = {"alphas": result["alphas"], "source_test_error": result["source_test_error"], "protocols": {}}
    for protocol, curve in result["curves"].items():
        model = curve.get("gaussian_equivalent") or curve.get("theory")
        sim = curve["simulation"]
        out["protocols"][protocol] = {
            "simulation_mean": sim["test_error_mean"], "simulation_sem": sim["test_error_sem"],
            "regularisation": sim["regularisation"],
            "model": None if model is None else model["test_error"],
            "gap": None if model is None else [m - s for m, s in zip(model["test_error"], sim["test_error_mean"])]}
    if result.get("data"):
        out["data"] = result["data"]
    return out


def draw(results: dict[str, dict], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8.4), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(len(TARGETS), 2, sharey=True, squeeze=False)
    captions = {"related": ("target 'digit < 4' (agreement 0.9)", "teacher_noise 0.1 (agreement 0.9)"),
                "weakly_related": ("target 'even digit' (agreement 0.6)", "teacher_noise 0.9 (agreement 0.6)")}
    for row, target in zip(panels, TARGETS):
        for axes, kind, caption in zip(row, ("digits", "synthetic"), captions[target]):
            result = results[f"{target}/{kind}"]
            alphas = result["alphas"]
            for protocol, numbers in result["protocols"].items():
                colour = COLOURS[protocol]
                axes.errorbar(alphas, numbers["simulation_mean"], yerr=numbers["simulation_sem"], fmt="o",
                              color=colour, capsize=3, markersize=4, label=f"{protocol} simulation")
                if numbers["model"] is not None:
                    style, label = ("--", "Gaussian-equivalent (approx.)") if kind == "digits" else ("-", "theory")
                    axes.plot(alphas, numbers["model"], style, color=colour, label=f"{protocol} {label}")
            axes.set_xscale("log")
            axes.set_xticks(alphas, [f"{a:g}" for a in alphas])
            axes.minorticks_off()
            axes.set_xlabel("alpha = n_t / N")
            axes.grid(alpha=0.3)
            source = "digits 'digit < 5'" if kind == "digits" else "synthetic N = 64, D = 16"
            axes.set_title(f"{source} -> {caption}\nsource test error {result['source_test_error']:.3f}", fontsize=9)
            axes.legend(fontsize=7, ncol=2)
        row[0].set_ylabel("target test error")
    figure.savefig(path, dpi=110)


def main(base: str = "http://127.0.0.1:8000", out: str = "docs/img", quick: bool = False) -> dict[str, dict]:
    Path(out).mkdir(parents=True, exist_ok=True)
    tasks = digit_tasks()
    print("uploading the source and target sets")
    ids = {name: upload(base, *arrays) for name, arrays in tasks.items()}
    results = {name: summary(learning_curve(base, name, request)) for name, request in requests(ids, quick).items()}
    Path(out, "digits_transfer.json").write_text(json.dumps(results, indent=1))
    draw(results, Path(out, "digits_transfer.png"))
    for name, result in results.items():
        print(f"\n{name} (source test error {result['source_test_error']:.3f})")
        print("alpha      " + "".join(f"{a:>16g}" for a in result["alphas"]))
        for protocol, numbers in result["protocols"].items():
            cells = "".join(f"{m:9.3f}+-{s or 0:.3f}" for m, s in zip(numbers["simulation_mean"],
                                                                        numbers["simulation_sem"]))
            print(f"{protocol:<10} {cells}")
            if numbers["model"] is not None:
                print(f"{'  model':<10} " + "".join(f"{m:16.3f}" for m in numbers["model"]))
    print(f"\nsaved {out}/digits_transfer.png and {out}/digits_transfer.json")
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
