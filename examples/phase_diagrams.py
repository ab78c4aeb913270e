"""Submit two phase diagrams to a running tlprobe and save their pictures.

    make run                                    # in another terminal
    python examples/phase_diagrams.py [URL] [OUTPUT_DIR]   # defaults: http://127.0.0.1:8000 docs/img

Diagram 1: feature_noise against alpha (the target's input features drift from the source's).
Diagram 2: teacher_noise against alpha (the labelling rule rotates away from the source's).
Both compare transferred features (tf) with random features (rf), from theory, at the default
sizes (D = 50, N = K = 200); each takes about half a minute on two cores.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

ALPHAS = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0]
NOISE = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
DIAGRAMS = {
    "feature_noise_alpha": {"x_axis": {"name": "alpha", "values": ALPHAS},
                            "y_axis": {"name": "feature_noise", "values": NOISE}, "baseline": "rf"},
    "teacher_noise_alpha": {"x_axis": {"name": "alpha", "values": ALPHAS},
                            "y_axis": {"name": "teacher_noise", "values": NOISE}, "baseline": "rf"},
}


def call(url: str, body: dict | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def main(base: str = "http://127.0.0.1:8000", out: str = "docs/img") -> None:
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, body in DIAGRAMS.items():
        submitted = json.loads(call(f"{base}/v1/phase-diagrams", body))
        diagram_id = submitted["job_id"]
        print(f"{name}: {diagram_id} ({'cached' if submitted['cached'] else 'queued'})")
        while True:
            view = json.loads(call(f"{base}/v1/jobs/{diagram_id}?wait=30"))
            print(f"  {view['status']} {view['progress']}")
            if view["status"] in ("finished", "failed", "canceled"):
                break
            time.sleep(1)
        if view["status"] != "finished":
            raise SystemExit(f"{name} ended {view['status']}: {view['error']}")
        Path(out, f"{name}.png").write_bytes(call(f"{base}/v1/phase-diagrams/{diagram_id}.png"))
        result = json.loads(call(f"{base}/v1/phase-diagrams/{diagram_id}"))
        Path(out, f"{name}.json").write_text(json.dumps({k: result[k] for k in ("x_axis", "y_axis", "gain", "boundary")},
                                                        indent=1))
        print(f"  saved {out}/{name}.png")


if __name__ == "__main__":
    main(*sys.argv[1:])
