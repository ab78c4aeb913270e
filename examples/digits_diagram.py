"""A phase diagram on real data, with the Python client: where does transfer stop paying on the digits?

    make run                                                  # in another terminal
    python examples/digits_diagram.py [URL] [OUTPUT_DIR]      # defaults: http://127.0.0.1:8000 docs/img

The source task and the related target of ``digits_transfer.py`` (is the digit below 5? on 899
images; is it below 4? on the other 898): uploaded with ``Client.upload_dataset``, then one
diagram over alpha = n_t / N (the target samples) and n_s (the source samples the network trains
on), gain = error(scratch) - error(tf), simulated (a diagram on datasets always is) with the
Gaussian-equivalent curve of tf beside it. As science version 3 ran it: tf at the oracle lambda of the
Gaussian-equivalent model (fitted on the training split), scratch at its fixed settings (tuning rule
"fixed"). The default practitioner rule would cross-validate both, 21 trainings per cell and seed for
scratch: 3780 for this grid, beyond the default limit of 1200 per diagram.

Writes OUTPUT_DIR/digits_diagram.png (the service's picture) and digits_diagram.json (the grids),
and prints the gain table. About three minutes on two cores when nothing is cached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tlprobe import Client

sys.path.insert(0, str(Path(__file__).parent))
from digits_transfer import digit_tasks  # noqa: E402  (the same tasks, the same split of the images)

ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
SOURCE_SAMPLES = [25, 50, 100, 200, 400, 719]
NETWORK = {"hidden_units": 100, "epochs": 300}
SIMULATION = {"seeds": 5}
#: a smaller run for the example's test (same code path, seconds instead of minutes)
QUICK = {"x_axis": {"name": "alpha", "values": [0.5, 2.0]}, "y_axis": {"name": "n_samples", "values": [50, 200]},
         "network": {"hidden_units": 20, "epochs": 40}, "simulation": {"seeds": 2}, "theory": {"mc_samples": 4000}}


def request(source_id: str, target_id: str, quick: bool) -> dict:
    body = {"source": {"dataset": source_id}, "target": {"dataset": target_id}, "network": NETWORK,
            "x_axis": {"name": "alpha", "values": ALPHAS}, "y_axis": {"name": "n_samples", "values": SOURCE_SAMPLES},
            "baseline": "scratch", "protocols": ["tf"], "simulation": SIMULATION,
            "readout": {"regularisation": "oracle"}, "tuning": {"rule": "fixed"}}
    return {**body, **QUICK} if quick else body


def main(base: str = "http://127.0.0.1:8000", out: str = "docs/img", quick: bool = False) -> dict:
    tasks = digit_tasks()
    with Client(base, timeout=60) as client:
        source = client.upload_dataset(tasks["source"])
        target = client.upload_dataset(tasks["related"])
        print(f"source {source.dataset_id} ({source.samples} images), target {target.dataset_id} ({target.samples})")
        diagram = client.phase_diagram(request(source.dataset_id, target.dataset_id, quick),
                                       progress=lambda view: print(f"  {view.status.value} {view.progress}", end="\r"))
        Path(out).mkdir(parents=True, exist_ok=True)
        client.plot(diagram.meta["job_id"], Path(out) / "digits_diagram.png")
    data = diagram.model_dump(mode="json")
    numbers = {key: data[key] for key in ("x_axis", "y_axis", "baseline", "gain_basis", "test_error", "test_error_sem",
                                          "gaussian_equivalent", "gain", "boundary", "source_test_errors", "complete")}
    numbers["diagram_id"] = data["meta"]["job_id"]
    Path(out, "digits_diagram.json").write_text(json.dumps(numbers, indent=1) + "\n")
    xs, ys = data["x_axis"]["values"], data["y_axis"]["values"]
    print("\ngain = error(scratch) - error(tf) (simulation); rows n_s, columns alpha")
    print("n_s \\ alpha " + " ".join(f"{x:>7g}" for x in xs))
    for y, row in zip(ys, data["gain"]):
        print(f"{y:>11g} " + " ".join("      -" if g is None else f"{g:7.3f}" for g in row))
    print(f"saved {Path(out) / 'digits_diagram.png'} and digits_diagram.json")
    return numbers


if __name__ == "__main__":
    main(*sys.argv[1:])
