"""Submit two phase diagrams to a running tlprobe and save their pictures, with the Python client.

    make run                                    # in another terminal
    python examples/phase_diagrams.py [URL] [OUTPUT_DIR]   # defaults: $TLPROBE_URL or http://127.0.0.1:8000, docs/img

Diagram 1: feature_noise against alpha (the target's input features drift from the source's).
Diagram 2: teacher_noise against alpha (the labelling rule rotates away from the source's).
Both compare transferred features (tf) with random features (rf), from theory, at the default
sizes (D = 50, N = K = 200), each readout at its oracle lambda per cell (the theory's optimum, where
the theory runs unless given a number); each takes
about three minutes on one worker with one thread from an empty cache.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tlprobe import Client

ALPHAS = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0]
NOISE = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
DIAGRAMS = {
    "feature_noise_alpha": {"x_axis": {"name": "alpha", "values": ALPHAS},
                            "y_axis": {"name": "feature_noise", "values": NOISE}, "baseline": "rf"},
    "teacher_noise_alpha": {"x_axis": {"name": "alpha", "values": ALPHAS},
                            "y_axis": {"name": "teacher_noise", "values": NOISE}, "baseline": "rf"},
}


def changes():
    """A progress callback printing the job's state when it changes (it is called about once a second)."""
    last = None

    def show(view) -> None:
        nonlocal last
        if (view.status, view.progress) != last:
            last = (view.status, view.progress)
            done = f" {view.progress.stage} {view.progress.done}/{view.progress.total}" if view.progress else ""
            print(f"  {view.status.value}{done}")

    return show


def main(url: str | None = None, out: str = "docs/img") -> None:
    Path(out).mkdir(parents=True, exist_ok=True)
    with Client(url) as client:
        for name, request in DIAGRAMS.items():
            submission = client.phase_diagram(request, wait=False)
            print(f"{name}: {submission.job_id} ({'cached' if submission.cached else 'queued'})")
            client.wait(submission.job_id, progress=changes())
            diagram = client.result(submission.job_id)  # NotFinished if it failed; see diagram.failures otherwise
            client.plot(submission.job_id, Path(out, f"{name}.png"))
            summary = {"x_axis": diagram.x_axis.model_dump(mode="json"), "y_axis": diagram.y_axis.model_dump(mode="json"),
                       "gain": diagram.gain, "boundary": [row.model_dump() for row in diagram.boundary]}
            Path(out, f"{name}.json").write_text(json.dumps(summary, indent=1))
            print(f"  saved {out}/{name}.png")


if __name__ == "__main__":
    main(*sys.argv[1:])
