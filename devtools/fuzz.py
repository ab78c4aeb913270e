"""``make fuzz``: a schemathesis campaign against a live stack (Redis, RQ workers, uvicorn).

Every operation of openapi/openapi.json, ``--examples`` generated cases each (100 by default) in
the examples, coverage and fuzzing phases, then the stateful phase (sequences following the links
schemathesis infers: submit, then read the job, its result, cancel it, ...). Every check runs but two:
``positive_data_acceptance``, since a schema-valid request may break a rule JSON Schema cannot state
(alpha against N, matrix shapes, budgets; listed in each operation's description) and its 422 is
correct; and ``use_after_free``, since ``DELETE /v1/jobs/{id}`` cancels a job rather than deleting
it: a finished job is returned unchanged and its result stays readable (docs/api.md).

The stack runs with small budgets (``STACK_ENV``), so that accepted jobs finish within seconds and
the workers get through what the campaign queues. After the campaign the queue is given
``--drain`` seconds, then every failed job is read: a job that failed on its input ("invalid
input: ...", or an unexpected exception) is a defect unless it is the one documented case, the
joint covariance's positive semi-definiteness (O(p^3), checked by the worker). Timeouts and jobs
still waiting are counted, not judged.

Exit status 0 when there is no failed check (no server error among them) and no defect.
``python -m devtools.fuzz --examples 100`` prints the counts; ``--json PATH`` writes them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from redis import Redis
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from devtools.localredis import LocalRedis
from service.openapi_export import PATH as SPEC_PATH
from tlprobe_server.queues import queues
from tlprobe_server.settings import Settings

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
#: where the stack's queues (interactive and bulk) get their names: the environment, which the stack inherits
NAMES = Settings()
#: budgets small enough that what the campaign queues is done in seconds; no rate limit, a deep queue
STACK_ENV = {
    "TLPROBE_MAX_WORK": "1e10", "TLPROBE_MAX_DIAGRAM_WORK": "1e10", "TLPROBE_MAX_GCM_WORK": "1e10",
    "TLPROBE_MAX_MEMORY_BYTES": "5e8", "TLPROBE_MAX_DIAGRAM_TRAINING_RUNS": "4", "TLPROBE_RATE_LIMIT_PER_MINUTE": "0",
    "TLPROBE_MAX_QUEUED_JOBS": "100000", "TLPROBE_LEARNING_CURVE_TIMEOUT": "120", "TLPROBE_GCM_TIMEOUT": "120",
    "TLPROBE_PHASE_DIAGRAM_TIMEOUT": "120", "TLPROBE_MAX_DATASET_UPLOAD_BYTES": "1048576",
    "TLPROBE_MAX_WAIT": "5",  # long polls (?wait=) end well within the client's request timeout
}
EXCLUDED_CHECKS = ["positive_data_acceptance", "use_after_free"]
PHASES = ["examples", "coverage", "fuzzing", "stateful"]
#: the one failure on input the API leaves to the worker (docs/api.md, "What is checked where")
DOCUMENTED = "invalid input: covariances: the joint covariance"


@dataclass
class Summary:
    operations: int = 0
    test_cases: int = 0
    failures: list[dict] = field(default_factory=list)
    server_errors: int = 0
    phases: dict[str, str] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)  # per submitting operation: 2xx answers
    jobs_failed: dict[str, int] = field(default_factory=dict)
    defects: list[dict] = field(default_factory=list)
    jobs_unfinished: int = 0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.failures and not self.defects


def run_schemathesis(api_url: str, examples: int, seed: int, report: Path, phases: list[str],
                     max_time: float | None = None) -> dict:
    """The CLI run; returns its JSON report."""
    command = [str(SCHEMATHESIS), "run", str(SPEC_PATH), "--url", api_url, "--max-examples", str(examples),
               "--seed", str(seed), "--phases", ",".join(phases), "--checks", "all",
               "--exclude-checks", ",".join(EXCLUDED_CHECKS), "--workers", "1", "--continue-on-failure",
               "--request-timeout", "30", "--suppress-health-check", "all", "--no-color",
               "--report", "json", "--report-json-path", str(report)]
    if max_time:
        command += ["--max-time", str(int(max_time))]
    # run in the report's directory: schemathesis keeps a cache of past cases in ./.schemathesis,
    # which would make one run depend on the ones before it
    completed = subprocess.run(command, capture_output=True, text=True, cwd=report.parent)
    (report.parent / "schemathesis.out").write_text(completed.stdout + completed.stderr)
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {completed.returncode}):\n{completed.stdout[-3000:]}"
                           f"\n{completed.stderr[-3000:]}")
    return json.loads(report.read_text())


def judge_jobs(redis: Redis, summary: Summary) -> None:
    """Failed jobs by reason; the ones the API could have refused are defects."""
    both = queues(redis, NAMES).values()
    summary.jobs_unfinished = sum(queue.count + queue.started_job_registry.count for queue in both)
    for job_id in (job_id for queue in both for job_id in FailedJobRegistry(queue=queue).get_job_ids()):
        try:
            job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
        except Exception:  # noqa: BLE001 (expired between listing and reading)
            continue
        reason = str(job.meta.get("error") or "no reason recorded")
        category = reason.split(":", 1)[0]
        summary.jobs_failed[category] = summary.jobs_failed.get(category, 0) + 1
        if category in ("invalid input", "error", "no reason recorded") and not reason.startswith(DOCUMENTED):
            summary.defects.append({"job_id": job_id, "reason": reason[:300], "request": job.kwargs.get("request")})


def summarise(report: dict, summary: Summary) -> None:
    """Counts from schemathesis's JSON report (its format in schemathesis 4)."""
    summary.operations = report["operations"]["tested"]
    summary.phases = {name: phase["status"] for name, phase in report["phases"].items()}
    summary.test_cases = report["test_cases"]["generated"]
    summary.accepted = {operation: sum(phase.get("accepted", 0) for phase in phases.values())
                        for operation, phases in report.get("valid_rates", {}).items()}
    summary.failures = list(report.get("failures", [])) + [{"error": e} for e in report.get("errors", [])]
    summary.server_errors = sum(1 for failure in summary.failures if "server error" in json.dumps(failure).lower()
                                or "not_a_server_error" in json.dumps(failure))


def campaign(redis_url: str, workdir: Path, examples: int = 100, seed: int = 1, phases: list[str] | None = None,
             workers: int = 1, drain: float = 120.0, max_time: float | None = None) -> Summary:
    """Workers and an API on ``redis_url`` (a database of its own: it is flushed), the CLI run, the
    queue drained, failed jobs judged."""
    from devtools.stack import Api, Workers  # the same helpers as the test suite's live stack

    redis = Redis.from_url(redis_url)
    redis.flushdb()
    started = time.monotonic()
    pool = Workers(redis_url, count=workers, log_path=workdir / "workers.log", **STACK_ENV).start()
    api = Api(redis_url, log_path=workdir / "api.log", **STACK_ENV).start()
    summary = Summary()
    try:
        report = run_schemathesis(api.url, examples, seed, workdir / "report.json", phases or PHASES, max_time)
        summarise(report, summary)
        deadline = time.monotonic() + drain
        both = queues(redis, NAMES).values()
        while time.monotonic() < deadline and any(queue.count + queue.started_job_registry.count for queue in both):
            time.sleep(1)
        judge_jobs(redis, summary)
    finally:
        api.stop()
        pool.stop()
    summary.seconds = round(time.monotonic() - started, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="generated cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain", type=float, default=180.0, help="seconds the queue is given after the run")
    parser.add_argument("--max-time", type=float, default=None, help="time budget of the schemathesis run (s)")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    parser.add_argument("--keep", type=Path, default=None, help="directory for the logs and the report")
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tlprobe-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server = LocalRedis(workdir / "redis")
    server.start()
    try:
        summary = campaign(server.url, workdir, args.examples, args.seed, workers=args.workers, drain=args.drain,
                           max_time=args.max_time)
    finally:
        server.stop()
    print(json.dumps({k: v for k, v in asdict(summary).items() if k not in ("failures", "defects")}, indent=1))
    for failure in summary.failures[:50]:
        print("FAILURE", json.dumps(failure)[:600])
    for defect in summary.defects[:50]:
        print("DEFECT", defect["job_id"], defect["reason"], json.dumps(defect["request"])[:300])
    print(f"{summary.operations} operations, {summary.test_cases} test cases, {len(summary.failures)} failures "
          f"({summary.server_errors} server errors), {len(summary.defects)} jobs failed on input the API could check; "
          f"logs and report in {workdir}")
    if args.json:
        args.json.write_text(json.dumps(asdict(summary), indent=1) + "\n")
    return 0 if summary.clean else 1


if __name__ == "__main__":
    sys.exit(main())
