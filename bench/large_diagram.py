"""A theory phase diagram (feature noise x alpha, tf against rf, default sizes) through the whole stack:
a fresh Redis, two workers of one BLAS thread each, the API over HTTP.

Default: one 100 x 100 diagram. Prints the submission's own time, the wall time to the finished diagram,
the jobs it made, and where the workers' time went (summed over the learning curves: source network,
spectra, solves), and saves the picture and the result. ``--regularisation 0.1`` fixes lambda (the
default searches each cell's optimal lambda). Long: minutes with a fixed lambda on two cores.

``--compare --size 20``: the optimal-lambda search against a fixed lambda (0.1) on the same diagram, in
one run (issue 18): one diagram at another fixed lambda first computes the source network and every
row's spectra (which do not depend on lambda or alpha), then ``--rounds`` rounds of the two variants in
turns, each round's alphas moved by a relative 1e-6 so that nothing of the earlier rounds' curves is
cached. Prints each variant's wall times and the median over rounds of the ratio optimal / fixed; then
one diagram of each with the source network cached but every row's spectra computed (feature noises
moved by 1e-6), as a user's first diagram over a new range would be.

    python -m bench.large_diagram [--regularisation 0.1] [--out docs/img] [--name feature_noise_alpha_100]
    python -m bench.large_diagram --compare --size 20 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median

import httpx2 as httpx
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from devtools.localredis import LocalRedis
from devtools.stack import Api, Workers
from tlprobe_server import result_store


def alphas(size: int) -> list[float]:
    """``size`` alphas from 0.1 to 4, evenly spaced in log (3 significant digits)."""
    return [float(f"{0.1 * 40 ** (i / (size - 1)):.3g}") for i in range(size)]


def noises(size: int) -> list[float]:
    """``size`` feature noises 0, 1/size, ..., (size - 1)/size."""
    return [i / size for i in range(size)]


def diagram(regularisation: str | float, size: int = 100, nudge: float = 0.0, noise_nudge: float = 0.0) -> dict:
    return {"x_axis": {"name": "alpha", "values": [a * (1 + nudge) for a in alphas(size)]},
            "y_axis": {"name": "feature_noise", "values": [min(1.0, v + noise_nudge) for v in noises(size)]},
            "readout": {"regularisation": regularisation}}


def finished(api_url: str, body: dict, poll: float = 0.5) -> tuple[float, float, dict]:
    """Submit ``body`` and poll every ``poll`` seconds until it ends: (seconds to accept, seconds to the end,
    the job's view)."""
    start = time.perf_counter()
    submitted = httpx.post(f"{api_url}/v1/phase-diagrams", json=body, timeout=120)
    accepted = time.perf_counter() - start
    submitted.raise_for_status()
    diagram_id = submitted.json()["job_id"]
    # polled, not long-polled: a long poll would keep the API checking the diagram's parts, on the workers' cores
    while (view := httpx.get(f"{api_url}/v1/jobs/{diagram_id}", timeout=30).json())["status"] not in (
            "finished", "failed", "canceled"):
        time.sleep(poll)
    elapsed = time.perf_counter() - start
    assert view["status"] == "finished", view
    return accepted, elapsed, view


def compare(api_url: str, size: int, rounds: int) -> None:
    """Optimal against fixed lambda on warm spectra, in turns (see the module's docstring)."""
    _, warm, _ = finished(api_url, diagram(0.05, size))
    print(f"[phase diagram {size}x{size}, theory, 2 workers] warm-up (lambda 0.05: source network and spectra) "
          f"{warm:.1f}s")
    times: dict[str, list[float]] = {"0.1": [], "optimal": []}
    for r in range(rounds):
        for regularisation in (0.1, "optimal"):
            times[str(regularisation)].append(finished(api_url, diagram(regularisation, size, (r + 1) * 1e-6))[1])
    ratio = median(o / f for o, f in zip(times["optimal"], times["0.1"]))
    print(f"  warm spectra: lambda 0.1: {', '.join(f'{t:.1f}' for t in times['0.1'])} s; optimal: "
          f"{', '.join(f'{t:.1f}' for t in times['optimal'])} s; optimal / fixed median over {rounds} rounds "
          f"{ratio:.2f} (best times {min(times['optimal']) / min(times['0.1']):.2f})")
    # source network cached, every row's spectra computed: feature noises moved by 1e-6 (1e-6 more for optimal)
    cold = {str(lam): finished(api_url, diagram(lam, size, 0.0, k * 1e-6))[1] for k, lam in ((1, 0.1), (2, "optimal"))}
    print(f"  spectra computed (source network cached): lambda 0.1 {cold['0.1']:.1f} s, optimal {cold['optimal']:.1f} "
          f"s, ratio {cold['optimal'] / cold['0.1']:.2f}")


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
    parser.add_argument("--size", type=int, default=100, help="values per axis")
    parser.add_argument("--compare", action="store_true", help="optimal against fixed lambda on warm spectra")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    regularisation = args.regularisation if args.regularisation == "optimal" else float(args.regularisation)
    with tempfile.TemporaryDirectory() as data:
        server = LocalRedis(Path(data))
        url = server.start()
        workers = Workers(url, count=args.workers, log_path=Path(data) / "workers.log").start()
        api = Api(url, log_path=Path(data) / "api.log").start()
        try:
            if args.compare:
                compare(api.url, args.size, args.rounds)
                return
            redis = Redis.from_url(url)
            accepted, elapsed, view = finished(api.url, diagram(regularisation, args.size), poll=2.0)
            diagram_id = view["job_id"]
            plan = Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]
            result = httpx.get(f"{api.url}/v1/phase-diagrams/{diagram_id}", timeout=60).json()
            png = httpx.get(f"{api.url}/v1/phase-diagrams/{diagram_id}.png", timeout=60).content
            kinds = Counter(part["kind"] for part in plan["parts"])
            stages = stage_seconds(redis, plan)
            print(f"[phase diagram {args.size}x{args.size}, theory, lambda={regularisation}, {args.workers} workers] accepted in "
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
