"""A 100 x 100 theory phase diagram (feature noise x alpha, tf against rf, default sizes) through the
whole stack: a fresh Redis, two workers of one BLAS thread each, the API over HTTP.

Prints the submission's own time, the wall time to the finished diagram, the jobs it made, and where
the workers' time went (summed over the learning curves: source network, spectra, solves), and saves
the picture and the result. ``--regularisation 0.1`` fixes lambda (the default searches each cell's
optimal lambda). Long: minutes with a fixed lambda on two cores, much longer with the search.

    python -m bench.large_diagram [--regularisation 0.1] [--out docs/img] [--name feature_noise_alpha_100]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers
from tlprobe_server import result_store

#: 100 alphas from 0.1 to 4, evenly spaced in log (3 significant digits), 100 feature noises 0, 0.01, ..., 0.99
ALPHAS = [float(f"{0.1 * 40 ** (i / 99):.3g}") for i in range(100)]
NOISES = [i / 100 for i in range(100)]


def diagram(regularisation: str | float) -> dict:
    return {"x_axis": {"name": "alpha", "values": ALPHAS}, "y_axis": {"name": "feature_noise", "values": NOISES},
            "readout": {"regularisation": regularisation}}


def stage_seconds(redis: Redis, plan: dict) -> Counter:
    """Seconds per stage summed over the diagram's learning curves (each tile's curves, each curve part)."""
    totals: Counter = Counter()
    for part in plan["parts"]:
        result = result_store.get(redis, part["job_id"])
        ids = [c["job_id"] for c in result["curves"]] if part["kind"] == "diagram_tile" else [part["job_id"]]
        for curve_id in ids:
            for stage, seconds in result_store.get(redis, curve_id)["meta"].get("timings", {}).items():
                totals[stage.split(":")[0]] += seconds
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regularisation", default="optimal", help="a number, or optimal (the default)")
    parser.add_argument("--out", type=Path, default=None, help="where to save the picture and the result")
    parser.add_argument("--name", default="feature_noise_alpha_100")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    regularisation = args.regularisation if args.regularisation == "optimal" else float(args.regularisation)
    with tempfile.TemporaryDirectory() as data:
        server = LocalRedis(Path(data))
        url = server.start()
        workers = Workers(url, count=args.workers, log_path=Path(data) / "workers.log").start()
        api = Api(url, log_path=Path(data) / "api.log").start()
        try:
            redis = Redis.from_url(url)
            start = time.perf_counter()
            submitted = httpx.post(f"{api.url}/v1/phase-diagrams", json=diagram(regularisation), timeout=120)
            accepted = time.perf_counter() - start
            submitted.raise_for_status()
            diagram_id = submitted.json()["job_id"]
            # polled every 2 s (a long poll would keep the API checking the diagram's 100 parts, on the workers' cores)
            while (view := httpx.get(f"{api.url}/v1/jobs/{diagram_id}", timeout=30).json())["status"] not in (
                    "finished", "failed", "canceled"):
                time.sleep(2)
            elapsed = time.perf_counter() - start
            assert view["status"] == "finished", view
            plan = Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]
            result = httpx.get(f"{api.url}/v1/phase-diagrams/{diagram_id}", timeout=60).json()
            png = httpx.get(f"{api.url}/v1/phase-diagrams/{diagram_id}.png", timeout=60).content
            kinds = Counter(part["kind"] for part in plan["parts"])
            stages = stage_seconds(redis, plan)
            print(f"[phase diagram 100x100, theory, lambda={regularisation}, {args.workers} workers] accepted in "
                  f"{accepted:.2f}s; finished in {elapsed:.1f}s; jobs: {dict(kinds)} + {len(plan['networks'])} network "
                  f"+ the assembly ({result['meta']['elapsed_seconds']:.1f}s); complete={result['complete']}")
            print("  worker seconds summed over the curves: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.most_common()))
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{args.name}.png").write_bytes(png)
                kept = {key: result[key] for key in ("x_axis", "y_axis", "baseline", "gain_basis", "boundary", "complete",
                                                      "source_test_error")}
                kept["gain"] = [[None if g is None else round(g, 6) for g in row] for row in result["gain"]]
                kept["timing"] = {"finished_seconds": round(elapsed, 1), "workers": args.workers,
                                  "regularisation": regularisation}
                (args.out / f"{args.name}.json").write_text(json.dumps(kept, separators=(",", ":")))
                print(f"  saved {args.out / (args.name + '.png')} and .json")
        finally:
            api.stop()
            workers.stop()
            server.stop()


if __name__ == "__main__":
    main()
