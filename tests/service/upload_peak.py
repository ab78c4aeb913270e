"""Run as ``python -m tests.service.upload_peak BODY_FILE CONTENT_TYPE [NAME=VALUE settings]``: plans and
decodes one upload in this fresh process and prints, as JSON, the memory its plan reserves and the
resident memory decoding took above the process's baseline (the kernel's peak, reset after a warm-up
upload so that only this one counts), and how it ended ("ok" or the refusal)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np

from service.uploads import UploadRefused, plan_upload, read_upload
from tlprobe_server.settings import Settings


def status_bytes(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def main() -> None:
    path, content_type, *overrides = sys.argv[1:]
    settings = Settings(**dict(item.split("=", 1) for item in overrides))
    warm = io.BytesIO()
    np.savez_compressed(warm, inputs=np.arange(12.0).reshape(4, 3), labels=np.array([0, 1, 0, 1]))
    read_upload(plan_upload(warm.getvalue(), "application/octet-stream", settings), settings)
    read_upload(plan_upload(b'{"inputs": [[1, 2.5], [3, 4]], "labels": [0, 1]}', "application/json", settings), settings)
    body = Path(path).read_bytes()
    baseline = status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from the current size
    try:
        plan = plan_upload(body, content_type, settings)
    except UploadRefused as exc:
        print(json.dumps({"reserved": None, "peak": status_bytes("VmHWM") - baseline, "outcome": exc.reason}))
        return
    try:
        read_upload(plan, settings)
        outcome = "ok"
    except UploadRefused as exc:
        outcome = exc.reason
    print(json.dumps({"reserved": plan.memory_bytes, "peak": status_bytes("VmHWM") - baseline, "outcome": outcome}))


if __name__ == "__main__":
    main()
