"""Reading a finished result against a bare FastAPI endpoint, side by side in one run (wrk).

A learning curve and a phase diagram (both the default request) are computed once by real workers.
Then, for each case, wrk (2 threads, 64 connections, ``--seconds`` 10) loads a bare FastAPI endpoint
answering a constant body of the same bytes (``bench.bare_app``) and the API, each served by one
uvicorn process, one after the other, ``--rounds`` times (who goes first alternates: the machine is
shared and its load drifts). Printed per run: requests/s, p99 and the server's CPU time per request
of both, and the ratios; at the end, the median ratios. Goal: at least 0.8 of the bare endpoint's
requests/s, p99 at most 1.5 times its p99.

On a machine whose cores other processes also want, requests/s follows the share of a core each
server happens to get during its 10 s more than its own cost. The CPU capacity ratio (the bare
server's CPU time per request over the API's) is what the req/s ratio would be with a core each:
it is the steadier figure there.

Cases: ``GET /v1/jobs/{id}/result`` (learning curve), ``GET /v1/phase-diagrams/{id}``, and the cached
``POST /v1/learning-curves`` (a submission answered from the cache, against a bare POST answering the
same bytes). Then, against the bare GET of the learning curve: the same read with ``Accept-Encoding:
gzip``, with ``If-None-Match`` (304), and from an API whose hot cache is off (a Redis round trip per
read). ``--data DIR`` keeps Redis's data, so that a second run skips the computation.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from redis import Redis

from devtools.localredis import LocalRedis, free_port
from devtools.stack import Api, Workers, stack_env, wait_for
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.diagrams.plan import plan
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.settings import Settings
from tlprobe_server.submission import job_view, submit

GOAL_RPS, GOAL_P99 = 0.8, 1.5
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Load:
    rps: float
    p99_ms: float
    cpu_us: float  # the server process's CPU time per request (user + system)
    bad: int  # non-2xx/3xx responses and socket errors

    def __str__(self) -> str:
        return (f"{self.rps:5.0f} req/s, p99 {self.p99_ms:5.1f} ms, {self.cpu_us:4.0f} us CPU/req"
                + (f", {self.bad} ERRORS" if self.bad else ""))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, pid: int, headers: dict[str, str] | None = None, post: bytes | None = None) -> Load:
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if post is not None:
            script.write(f'wrk.method = "POST"\nwrk.body = {post.decode()!r}\n'
                         'wrk.headers["Content-Type"] = "application/json"\n')
            script.flush()
            command += ["-s", script.name]
        before = cpu_seconds(pid)
        out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(pid) - before
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M).groups()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    bad += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Load(rps, float(value) * UNITS[unit], cpu / max(requests, 1) * 1e6, bad)


def compute(redis: Redis, url: str) -> tuple[str, str]:
    """The default learning curve and phase diagram, computed by two workers unless already cached."""
    settings = Settings(redis_url=url)
    diagram = PhaseDiagramRequest()
    lc = submit(redis, settings, SERVER_KINDS["learning_curve"], LearningCurveRequest())
    pd = submit(redis, settings, SERVER_KINDS["phase_diagram"], diagram, plan=plan(diagram, settings.diagram_chunk_alphas))
    if not (lc.cached and pd.cached):
        print("computing the default learning curve and phase diagram (two workers) ...", flush=True)
        workers = Workers(url, count=2).start()
        try:
            for job_id in (lc.job_id, pd.job_id):
                wait_for(lambda job_id=job_id: job_view(redis, job_id).status.ended, 900,
                         job_id, interval=0.5)
                assert job_view(redis, job_id).status.value == "finished", job_id
        finally:
            workers.stop()
    return lc.job_id, pd.job_id


class Bare:
    """``uvicorn bench.bare_app:app``, one process, the same server options as the API's, and like
    the API in a session of its own: with the kernel's autogroup scheduling (on by default) each
    session shares the CPU as one group, so a bare server left in the benchmark's session (with wrk)
    and an API in its own are scheduled differently, which skewed req/s and p99 on a busy machine."""

    def __init__(self, bodies: Path, redis_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(self.port), "--no-access-log"],
            env=stack_env(redis_url, BENCH_BODIES=str(bodies)), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)  # as devtools.stack.Api starts the API: see Bare's docstring
        wait_for(lambda: httpx.get(f"{self.url}/docs", timeout=1).status_code == 200, 30, "the bare app")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def side_by_side(name: str, bare: Load, api: Load) -> str:
    rps, p99, cpu = api.rps / bare.rps, api.p99_ms / bare.p99_ms, bare.cpu_us / api.cpu_us
    met = "goal met" if rps >= GOAL_RPS and p99 <= GOAL_P99 else "goal NOT met"
    return (f"[cached reads] {name:30s} bare {bare} | api {api} | req/s ratio {rps:.2f} (goal >= {GOAL_RPS}), "
            f"p99 ratio {p99:.2f} (goal <= {GOAL_P99}): {met}; CPU capacity ratio {cpu:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="bare and API alternate this many times per case")
    parser.add_argument("--data", type=Path, default=None, help="Redis data directory to keep (default: temporary)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("bench.cached_reads needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        server = LocalRedis(args.data or scratch / "redis")
        url = server.start()
        processes = []
        try:
            redis = Redis.from_url(url)
            lc, pd = compute(redis, url)
            api = Api(url).start()
            processes.append(api)
            cold = Api(url, TLPROBE_HOT_RESULTS_BYTES="0").start()  # every read from Redis
            processes.append(cold)
            cases = {  # name: (server, path, headers, POST body)
                "GET learning-curve result": (api, f"/v1/jobs/{lc}/result", {}, None),
                "GET phase diagram": (api, f"/v1/phase-diagrams/{pd}", {}, None),
                "POST learning curve (cached)": (api, "/v1/learning-curves", {}, b"{}"),
            }
            etag = httpx.get(f"{api.url}/v1/jobs/{lc}/result").headers["etag"]
            extra = {  # compared with the bare GET of the learning curve
                "GET lc result, gzip": (api, f"/v1/jobs/{lc}/result", {"Accept-Encoding": "gzip"}, None),
                "GET lc result, 304": (api, f"/v1/jobs/{lc}/result", {"If-None-Match": etag}, None),
                "GET lc result, Redis each time": (cold, f"/v1/jobs/{lc}/result", {}, None),
            }
            bodies = scratch / "bodies"
            bodies.mkdir()
            for index, (_, path, headers, post) in enumerate(cases.values()):
                response = httpx.request("POST" if post else "GET", api.url + path, content=post,
                                         headers={**headers, "Content-Type": "application/json"})
                assert response.status_code == 200, (path, response.status_code)
                (bodies / f"case{index}.json").write_bytes(response.content)
                print(f"  {path}: {len(response.content)} bytes", flush=True)
            bare = Bare(bodies, url)
            processes.append(bare)
            runs = [(name, (bare, f"/bare/case{index}", {}, post), (server_, path, headers, post))
                    for index, (name, (server_, path, headers, post)) in enumerate(cases.items())]
            runs += [(name, (bare, "/bare/case0", {}, None), measured) for name, measured in extra.items()]

            def load(target, seconds):
                server_, path, headers, post = target
                return wrk(server_.url + path, seconds, server_.process.pid, headers, post)

            for _, reference, measured in runs:  # warm up (connections to Redis, first-call costs)
                load(reference, 2)
                load(measured, 2)
            ratios: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in runs}
            for round_ in range(args.rounds):
                print(f"round {round_ + 1} of {args.rounds}", flush=True)
                for name, reference, measured in runs:
                    if round_ % 2 == 0:  # alternate who goes first, so that drifting load hits both alike
                        bare_load, api_load = load(reference, args.seconds), load(measured, args.seconds)
                    else:
                        api_load, bare_load = load(measured, args.seconds), load(reference, args.seconds)
                    ratios[name].append((api_load.rps / bare_load.rps, api_load.p99_ms / bare_load.p99_ms,
                                         bare_load.cpu_us / api_load.cpu_us))
                    print(side_by_side(name, bare_load, api_load), flush=True)
            print("median over rounds:")
            for name, triples in ratios.items():
                rps, p99, cpu = (statistics.median(t[i] for t in triples) for i in range(3))
                print(f"[cached reads] {name:30s} req/s ratio {rps:.2f}, p99 ratio {p99:.2f}, CPU capacity ratio "
                      f"{cpu:.2f}  (per round, req/s / p99 / CPU: "
                      f"{', '.join(f'{r:.2f}/{p:.2f}/{c:.2f}' for r, p, c in triples)})", flush=True)
        finally:
            for process in processes:
                process.stop()
            server.stop()


if __name__ == "__main__":
    main()
