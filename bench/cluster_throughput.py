"""How far tlprobe scales over hosts, measured on network-namespace hosts (devtools.cluster): Redis on
one host, the API on another, one worker (one BLAS thread) on each worker host, this process the client.

    .venv/bin/python -m bench.cluster_throughput          # as root (namespaces); about three minutes

1. Throughput: a batch of ``--jobs`` small theory-only learning curves (distinct seeds: nothing cached)
   with one worker host, then another batch (other seeds) with two, in the same run; both rates and
   their ratio.
2. What each job costs the shared parts, from the batches: Redis commands, Redis CPU time and bytes in
   and out of Redis (``INFO``, before and after), the API's CPU time per submission, result sizes.
3. A simulated phase diagram at the default sizes (8 alphas over [0.04, 4] x 2 targets: a source network,
   2 theory parts, 8 simulation parts, the assembly) on one worker (run between the two batches): each part's own time
   (``meta.elapsed_seconds``, split by ``meta.timings``), the same shared-part costs per part, and from
   them (``estimate_grid``) the work of a 100 x 100 diagram over the same ranges and the workers that
   finish it in ten minutes.

The workers run with the shipped liveness settings (not the cluster test's faster hand-over). The
numbers and the model are discussed in docs/deploy.md ("Several hosts, measured").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.serializers import JSONSerializer

from devtools.cluster import Stack, wait_for
from tlprobe_server import keys

SMALL = {"source": {"latent_dim": 10, "input_dim": 40}, "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60},
         "alphas": [0.5, 2.0], "protocols": ["tf", "rf"], "theory": {"mc_samples": 4000}, "simulation": None}
#: 8 alphas spread evenly over the range of the 100-value axis below, 2 targets, simulation at its defaults
DIAGRAM_ALPHAS = [round(0.04 + k * 3.96 / 7, 4) for k in range(8)]
DIAGRAM = {"x_axis": {"name": "alpha", "values": DIAGRAM_ALPHAS},
           "y_axis": {"name": "teacher_noise", "values": [0.0, 0.5]}, "simulation": {}}
#: the grid asked about: 100 alphas over [0.04, 4] x 100 targets, cut into diagrams the API admits
GRID, BLOCK, CHUNK, DEADLINE = 100, 20, 2, 600.0
SPECTRA = ("feature_mean:", "covariances:")
REDIS_FIELDS = ("total_commands_processed", "used_cpu_sys", "used_cpu_user", "total_net_input_bytes",
                "total_net_output_bytes", "used_memory")


def redis_counters(stack: Stack) -> dict[str, float]:
    info = stack.redis().info("all")
    commands = {name[len("cmdstat_"):]: float(stats["calls"]) for name, stats in info.items()
                if name.startswith("cmdstat_")}
    return {field: float(info[field]) for field in REDIS_FIELDS} | {"at": time.monotonic(), "commands": commands}


def top_commands(before: dict, after: dict, jobs: int, own: dict[str, int], count: int = 6) -> dict[str, float]:
    """The commands sent most per job between two readings, less this client's ``own`` (its polls, its INFO)."""
    calls = {name: (n - before["commands"].get(name, 0.0) - own.get(name, 0)) / jobs
             for name, n in after["commands"].items()}
    return dict(sorted(((name, round(n, 1)) for name, n in calls.items() if n > 0), key=lambda item: -item[1])[:count])


def api_cpu_seconds(stack: Stack) -> float:
    """User + system CPU time of the API process (uvicorn, one process), from /proc."""
    pid = stack.api_host.processes["api"].pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class SharedCosts:
    """Per job: what it cost Redis and the API, measured over a batch (the client's own polling and the
    idle workers' background subtracted)."""

    redis_commands: float
    redis_cpu_ms: float
    redis_in_bytes: float
    redis_out_bytes: float
    redis_memory_bytes: float  # what stays in Redis: result, job record, artifacts
    api_cpu_ms: float

    @classmethod
    def between(cls, before: dict, after: dict, jobs: int, own_commands: int, idle_rate: float,
                api_cpu: float) -> "SharedCosts":
        seconds = after["at"] - before["at"]
        commands = after["total_commands_processed"] - before["total_commands_processed"] - own_commands \
            - idle_rate * seconds
        cpu = (after["used_cpu_sys"] + after["used_cpu_user"]) - (before["used_cpu_sys"] + before["used_cpu_user"])
        return cls(commands / jobs, 1000 * cpu / jobs,
                   (after["total_net_input_bytes"] - before["total_net_input_bytes"]) / jobs,
                   (after["total_net_output_bytes"] - before["total_net_output_bytes"]) / jobs,
                   (after["used_memory"] - before["used_memory"]) / jobs, 1000 * api_cpu / jobs)


def idle_command_rate(stack: Stack, seconds: float = 8.0) -> float:
    """Commands per second that the idle workers (and the API) send with nothing to do."""
    before = redis_counters(stack)
    time.sleep(seconds)
    after = redis_counters(stack)
    return (after["total_commands_processed"] - before["total_commands_processed"] - 1) / (after["at"] - before["at"])


@dataclass
class Batch:
    workers: int
    jobs: int
    seconds: float
    jobs_per_second: float
    submit_ms_mean: float
    elapsed_mean: float  # the jobs' own time (meta.elapsed_seconds)
    busy: float  # the workers' time spent in jobs: sum of elapsed / (workers x wall time)
    result_bytes_mean: float
    shared: SharedCosts
    commands: dict[str, float]  # the most frequent Redis commands per job


def run_batch(stack: Stack, seeds: range, workers: int) -> Batch:
    redis = stack.redis()
    finished = FinishedJobRegistry(queue=Queue(stack.settings.queue_name, connection=redis, serializer=JSONSerializer))
    done_before = redis.zcard(finished.key)
    idle = idle_command_rate(stack)
    api_before, before = api_cpu_seconds(stack), redis_counters(stack)
    job_ids, submit_ms = [], []
    with stack.client() as client:
        started = time.monotonic()
        for seed in seeds:
            sent = time.perf_counter()
            answer = client.post("/v1/learning-curves", json={**SMALL, "source": {**SMALL["source"], "seed": seed}})
            submit_ms.append(1000 * (time.perf_counter() - sent))
            if answer.status_code != 202:
                raise RuntimeError(f"submission refused or cached ({answer.status_code}): {answer.text[:300]}")
            job_ids.append(answer.json()["job_id"])
        polls = 0
        while redis.zcard(finished.key) - done_before < len(job_ids):
            polls += 1
            if time.monotonic() - started > 900:
                raise TimeoutError("the batch did not finish within 15 minutes")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        after, api_after = redis_counters(stack), api_cpu_seconds(stack)
    # own commands: one INFO per counter reading, one ZCARD per poll (the final one included)
    shared = SharedCosts.between(before, after, len(job_ids), own_commands=1 + polls + 1, idle_rate=idle,
                                 api_cpu=api_after - api_before)
    results = [json.loads(redis.get(keys.result(job_id))) for job_id in job_ids]
    sizes = [redis.strlen(keys.result(job_id)) for job_id in job_ids]
    elapsed = [r["meta"]["elapsed_seconds"] for r in results]
    return Batch(workers, len(job_ids), seconds, len(job_ids) / seconds, statistics.mean(submit_ms),
                 statistics.mean(elapsed), sum(elapsed) / (workers * seconds), statistics.mean(sizes), shared,
                 top_commands(before, after, len(job_ids), {"zcard": polls + 1, "info": 1}))


@dataclass
class Part:
    role: str
    alphas: int
    elapsed: float
    timings: dict[str, float]
    result_bytes: int
    record_bytes: int  # its RQ job record in Redis (payload, meta), kept for TLPROBE_JOB_TTL

    @property
    def spectra(self) -> float:
        return sum(t for stage, t in self.timings.items() if stage.startswith(SPECTRA))

    @property
    def per_alpha(self) -> float:
        """Solving and simulating, per alpha (everything but the network and the spectra)."""
        rest = sum(t for stage, t in self.timings.items() if stage != "source_network" and not stage.startswith(SPECTRA))
        return rest / self.alphas

    @property
    def overhead(self) -> float:
        """The part's time outside its stages: loading artifacts and validating and storing its result."""
        return self.elapsed - sum(self.timings.values())


@dataclass
class DiagramRun:
    submit_seconds: float  # the POST: planning, and submitting every part
    seconds: float
    network: float
    assembly: float
    assembly_cells: int
    assembly_result_bytes: int
    parts: list[Part]
    artifact_bytes: int  # the artifacts it added: its source network, each target's spectra
    shared_per_job: SharedCosts
    commands: dict[str, float]


def artifact_bytes(stack: Stack) -> int:
    redis = stack.redis()
    return sum(redis.memory_usage(key) or 0 for key in redis.scan_iter(f"{keys.PREFIX}:artifact:*"))


def run_diagram(stack: Stack) -> DiagramRun:
    redis = stack.redis()
    artifacts_before = artifact_bytes(stack)
    api_before, before = api_cpu_seconds(stack), redis_counters(stack)
    with stack.client() as client:
        started = time.monotonic()
        diagram_id = client.post("/v1/phase-diagrams", json=DIAGRAM).json()["job_id"]
        submit_seconds = time.monotonic() - started
        polls = [0]

        def done() -> bool:
            polls[0] += 1
            return redis.exists(keys.result(diagram_id)) == 1

        wait_for(done, 900, "the diagram", interval=0.1)
        seconds = time.monotonic() - started
        after, api_after = redis_counters(stack), api_cpu_seconds(stack)
    plan = Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]
    parts = []
    for part in plan["parts"]:
        body = redis.get(keys.result(part["job_id"]))
        meta = json.loads(body)["meta"]
        parts.append(Part(part["role"], len({cell[2] for cell in part["cells"]}), meta["elapsed_seconds"],
                          meta["timings"], len(body), redis.memory_usage(Job.key_for(part["job_id"])) or 0))
    (network_id,) = plan["networks"]
    network = json.loads(redis.get(keys.result(network_id)))["meta"]["elapsed_seconds"]
    diagram = redis.get(keys.result(diagram_id))
    jobs = len(parts) + 2  # the parts, the network, the assembly
    artifacts = artifact_bytes(stack) - artifacts_before
    shared = SharedCosts.between(before, after, jobs, own_commands=2 + polls[0], idle_rate=0.0,
                                 api_cpu=api_after - api_before)
    commands = top_commands(before, after, jobs, {"exists": polls[0], "info": 1})
    return DiagramRun(submit_seconds, seconds, network, json.loads(diagram)["meta"]["elapsed_seconds"], len(DIAGRAM_ALPHAS) * 2,
                      len(diagram), parts, artifacts, shared, commands)


@dataclass
class GridEstimate:
    diagrams: int
    jobs: int
    work_seconds: float
    critical_path_seconds: float
    workers: int
    redis_commands_per_second: float
    redis_cpu_fraction: float
    redis_out_megabytes_per_second: float
    results_megabytes: float
    memory_megabytes: float  # results, job records (kept a day) and artifacts in Redis


def estimate_grid(run: DiagramRun, dispatch: float, grid: int = GRID, block: int = BLOCK, chunk: int = CHUNK,
                  deadline: float = DEADLINE) -> GridEstimate:
    """Work of a ``grid`` x ``grid`` simulated diagram (alpha x a target's knob, the measured sizes and
    alpha range) cut into diagrams of ``block`` x ``block`` cells (the API admits at most 400 cells and 32
    values per axis), and the workers that finish it within ``deadline`` seconds.

    Per target: its spectra once (the first theory part builds them, the others of that target load them),
    ``grid / block`` theory parts and ``grid / chunk`` simulation parts, each with its measured overhead,
    and per alpha the measured mean cost of solving (theory parts) and of solving and simulating
    (simulation parts). One source network. Each diagram's assembly at the measured cost per cell. Every
    job also costs ``dispatch`` seconds of a worker outside its own time (RQ's dequeue, the fork of its
    work horse, the bookkeeping). Workers: the work over what the deadline leaves after the critical path
    (network, a first theory part, a simulation part, an assembly), rounded up. Redis's load: the measured
    per-job costs at that many jobs in ``deadline``; its memory: results, job records, and the measured
    diagram's artifacts scaled from its targets to ``grid`` targets."""
    theory = [p for p in run.parts if p.role == "theory"]
    simulation = [p for p in run.parts if p.role == "simulation"]
    spectra = statistics.mean(p.spectra for p in theory)
    solve = statistics.mean(p.per_alpha for p in theory)
    simulate = statistics.mean(p.per_alpha for p in simulation)
    theory_overhead = statistics.mean(p.overhead for p in theory)
    simulation_overhead = statistics.mean(p.overhead for p in simulation)
    assembly_per_cell = run.assembly / run.assembly_cells
    diagrams = (grid // block) ** 2
    theory_parts, simulation_parts = grid * (grid // block), grid * (grid // chunk)
    jobs = 1 + theory_parts + simulation_parts + diagrams
    work = (run.network + grid * spectra + theory_parts * theory_overhead + grid * grid * solve
            + simulation_parts * simulation_overhead + grid * grid * simulate
            + grid * grid * assembly_per_cell + jobs * dispatch)
    critical = (run.network + spectra + theory_overhead + block * solve + simulation_overhead + chunk * simulate
                + block * block * assembly_per_cell + 4 * dispatch)
    workers = math.ceil(work / (deadline - critical))
    per_job = run.shared_per_job
    result_bytes = (statistics.mean(p.result_bytes for p in theory) * theory_parts
                    + statistics.mean(p.result_bytes for p in simulation) * simulation_parts
                    + run.assembly_result_bytes / run.assembly_cells * grid * grid)
    records = statistics.mean(p.record_bytes for p in run.parts) * jobs
    targets_measured = len(DIAGRAM["y_axis"]["values"])
    memory = result_bytes + records + run.artifact_bytes * grid / targets_measured
    return GridEstimate(diagrams, jobs, work, critical, workers, per_job.redis_commands * jobs / deadline,
                        per_job.redis_cpu_ms / 1000 * jobs / deadline, per_job.redis_out_bytes * jobs / deadline / 1e6,
                        result_bytes / 1e6, memory / 1e6)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=40, help="small learning curves per batch (default 40)")
    parser.add_argument("--json", type=Path, help="also write every number measured here")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("[cluster throughput] skipped: namespace hosts need root")
        return {}
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as logs, Stack(Path(logs), start_workers=False, liveness={}) as stack:
        stack.start_worker("w1")
        one = run_batch(stack, range(1, 1 + args.jobs), workers=1)
        diagram = run_diagram(stack)  # on one worker: its parts' times are a core's, not two workers' sharing two
        stack.start_worker("w2")
        two = run_batch(stack, range(1001, 1001 + args.jobs), workers=2)
        dispatch = max(0.0, statistics.mean([one.seconds / one.jobs - one.elapsed_mean,
                                             2 * two.seconds / two.jobs - two.elapsed_mean]))
        loads.append(load_average())
    grid = estimate_grid(diagram, dispatch)
    for batch in (one, two):
        s = batch.shared
        print(f"[cluster throughput] {batch.jobs} small learning curves, {batch.workers} worker host(s): "
              f"{batch.seconds:.1f} s, {batch.jobs_per_second:.2f} jobs/s (each ran {batch.elapsed_mean:.2f} s, workers "
              f"busy {100 * batch.busy:.0f}% of the time; submission {batch.submit_ms_mean:.0f} ms); per job: "
              f"{s.redis_commands:.0f} Redis commands, {s.redis_cpu_ms:.1f} ms Redis CPU, {s.redis_in_bytes / 1e3:.1f} kB "
              f"in / {s.redis_out_bytes / 1e3:.1f} kB out of Redis, {s.redis_memory_bytes / 1e3:.1f} kB kept, "
              f"{s.api_cpu_ms:.1f} ms API CPU; result {batch.result_bytes_mean / 1e3:.1f} kB")
    print(f"[cluster throughput] Redis commands per job, most frequent: {one.commands}")
    print(f"[cluster throughput] two worker hosts / one: {two.jobs_per_second / one.jobs_per_second:.2f}x "
          f"(load average {loads[0]} before, {loads[1]} after; this machine has {os.cpu_count()} cores); with a core "
          f"per worker (each job as fast as alone): {2 * two.busy / one.busy:.2f}x")
    print(f"[cluster throughput] jobs running at once on average (jobs/s x each job's time): "
          f"{one.jobs_per_second * one.elapsed_mean:.2f} with one worker host, {two.jobs_per_second * two.elapsed_mean:.2f} "
          "with two")
    print(f"[cluster throughput] dispatch overhead per job beyond its own time: {dispatch:.2f} s")
    d = diagram.shared_per_job
    print(f"[phase diagram parts] {len(DIAGRAM_ALPHAS)} alphas x 2 targets at the default sizes, simulated, on one "
          f"worker host: {diagram.seconds:.1f} s (submission {diagram.submit_seconds:.2f} s for "
          f"{len(diagram.parts) + 1} jobs); network {diagram.network:.2f} s, assembly {diagram.assembly:.3f} s")
    for part in diagram.parts:
        print(f"[phase diagram parts]   {part.role:10} {part.alphas} alphas: {part.elapsed:.2f} s (spectra "
              f"{part.spectra:.2f}, per alpha {part.per_alpha:.3f}, overhead {part.overhead:.2f}); "
              f"result {part.result_bytes / 1e3:.1f} kB, job record {part.record_bytes / 1e3:.1f} kB")
    print(f"[phase diagram parts] per job: {d.redis_commands:.0f} Redis commands, {d.redis_cpu_ms:.1f} ms Redis CPU, "
          f"{d.redis_in_bytes / 1e3:.0f} kB in / {d.redis_out_bytes / 1e3:.0f} kB out of Redis, "
          f"{d.redis_memory_bytes / 1e3:.0f} kB kept; "
          f"artifacts added {diagram.artifact_bytes / 1e6:.1f} MB; diagram result {diagram.assembly_result_bytes / 1e3:.1f} kB")
    print(f"[phase diagram parts] Redis commands per job, most frequent: {diagram.commands}")
    print(f"[100 x 100 diagram] {grid.diagrams} diagrams of {BLOCK} x {BLOCK}, {grid.jobs} jobs, "
          f"{grid.work_seconds / 3600:.2f} worker-hours of work; critical path {grid.critical_path_seconds:.0f} s; "
          f"{grid.workers} workers finish it in {DEADLINE / 60:.0f} min; Redis then serves "
          f"{grid.redis_commands_per_second:.0f} commands/s, {100 * grid.redis_cpu_fraction:.0f}% of a core, "
          f"{grid.redis_out_megabytes_per_second:.1f} MB/s out; results {grid.results_megabytes:.0f} MB, with job "
          f"records and artifacts {grid.memory_megabytes:.0f} MB")
    numbers = {"batches": [asdict(one), asdict(two)], "ratio": two.jobs_per_second / one.jobs_per_second,
               "dispatch": dispatch, "diagram": asdict(diagram), "grid": asdict(grid), "load": loads}
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))
    return numbers


if __name__ == "__main__":
    main()
