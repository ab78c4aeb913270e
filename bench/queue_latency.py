"""A small job's latency behind a running phase diagram, against its time alone, in one run.

Starts its own Redis, a worker pool (``python -m worker.main``, ``--workers`` processes as ``make run``
starts on this many cores, one BLAS thread each) and the API (uvicorn), as ``make run`` does, then over
HTTP:

1. a warm-up run of the small job (a theory-only learning curve, ``SMALL``), which trains and caches the
   default source network, then the small job alone on idle workers with another target seed (its
   spectra and fixed points computed anew, the network read from the cache);
2. the 5 x 5 simulated tf-vs-scratch diagram of docs/findings.md section 3 (``DIAGRAM``, 2 seeds, on
   the same cached network: its parts start at once), and ``--delay`` seconds later the small job with
   a third target seed (the same work);
3. with the diagram's remaining jobs dropped, the small job alone again (a fourth seed), so that a drift
   of the machine's load between the runs shows.

Each small job's time is from its submission to its end as the API reports it (polled every 50 ms),
and its start delay is RQ's started_at - created_at. Prints the times, the ratio behind / alone (alone:
the mean of the two runs) and the start delay behind the diagram. The diagram is not waited for.

    .venv/bin/python -m bench.queue_latency [--workers 2] [--delay 5] [--env TLPROBE_BULK_NICENESS=0 ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx2 as httpx
from redis import Redis

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers

#: a small theory-only learning curve on the default source network (which the diagram trains too); its
#: target's seed is set per run, so that each run computes its spectra and fixed points anew
SMALL = {"target": {"feature_noise": 0.3}, "readout": {"regularisation": 0.1}, "alphas": [0.5, 1.0, 2.0],
         "protocols": ["tf", "rf"], "simulation": None}
#: docs/findings.md section 3: tf against scratch over (feature noise, alpha), simulated with 2 seeds
DIAGRAM = {"x_axis": {"name": "alpha", "values": [0.25, 0.5, 1.0, 2.0, 4.0]},
           "y_axis": {"name": "feature_noise", "values": [0.0, 0.25, 0.5, 0.75, 1.0]}, "baseline": "scratch",
           "simulation": {"seeds": 2}}
POLL = 0.05


def _time(stamp: str | None) -> datetime | None:
    return None if stamp is None else datetime.fromisoformat(stamp)


def run_small(http: httpx.Client, seed: int) -> tuple[float, float]:
    """Submit the small job and follow it to its end: (seconds from submission to its end, start delay)."""
    start = time.perf_counter()
    response = http.post("/v1/learning-curves", json={**SMALL, "target": {**SMALL["target"], "seed": seed}})
    response.raise_for_status()
    job_id = response.json()["job_id"]
    while True:
        view = http.get(f"/v1/jobs/{job_id}").json()
        if view["status"] in ("finished", "failed", "canceled"):
            break
        time.sleep(POLL)
    elapsed = time.perf_counter() - start
    assert view["status"] == "finished", view
    delay = (_time(view["started_at"]) - _time(view["created_at"])).total_seconds()
    return elapsed, delay


def measure(workers: int, delay: float, **env: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data:
        server = LocalRedis(Path(data))
        url = server.start()
        pool = Workers(url, count=workers, log_path=Path(data) / "workers.log", **env).start()
        api = Api(url, log_path=Path(data) / "api.log").start()
        try:
            with httpx.Client(base_url=api.url, timeout=30) as http:
                run_small(http, 100)  # trains the source network (cached) on which every run below reads
                alone, alone_delay = run_small(http, 101)
                diagram = http.post("/v1/phase-diagrams", json=DIAGRAM)
                diagram.raise_for_status()
                time.sleep(delay)
                behind, behind_delay = run_small(http, 102)
                diagram_view = http.get(f"/v1/jobs/{diagram.json()['job_id']}").json()
                # the rest of the diagram is not needed: stop the workers, drop RQ's state (queues, jobs),
                # keep the cached network, start the workers again
                pool.stop()
                redis = Redis.from_url(url)
                redis.delete(*redis.keys("rq:*"))
                pool = Workers(url, count=workers, log_path=Path(data) / "workers.log", **env).start()
                after, after_delay = run_small(http, 103)
        finally:
            pool.stop()
            api.stop()
            server.stop()
    return {"alone": alone, "alone_delay": alone_delay, "behind": behind, "behind_delay": behind_delay,
            "after": after, "after_delay": after_delay, "diagram_progress": diagram_view.get("progress") or {}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="TLPROBE_WORKERS (make run: one per core)")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds between the diagram and the small job")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the workers, e.g. TLPROBE_BULK_NICENESS=0 (repeatable)")
    args = parser.parse_args(argv)
    m = measure(args.workers, args.delay, **dict(item.split("=", 1) for item in args.env))
    alone = (m["alone"] + m["after"]) / 2
    label = "".join(" " + item for item in args.env)
    print(f"[queue latency, {args.workers} workers{label}] small theory curve alone: {m['alone']:.2f}s and {m['after']:.2f}s "
          f"(start delays {m['alone_delay']:.2f}s, {m['after_delay']:.2f}s); submitted {args.delay:g}s after a 5x5 "
          f"simulated tf-vs-scratch diagram: {m['behind']:.2f}s (start delay {m['behind_delay']:.2f}s); "
          f"ratio behind / alone {m['behind'] / alone:.1f}x; diagram progress then {m['diagram_progress']}")


if __name__ == "__main__":
    main()
