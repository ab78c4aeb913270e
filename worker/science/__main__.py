"""Command line for the engine alone (no Redis, no service).

    python -m worker.science learning-curve [SPEC.json | -]   # the body of POST /v1/learning-curves
    python -m worker.science gcm REQUEST.json                 # the body of POST /v1/gcm
    python -m worker.science learning-curve --dry-run SPEC    # only validate: print it with every default

A spec is validated by the same contract as the API (``tlprobe.contract``), so the command line
accepts exactly what the API accepts; the service's deployment budgets (``TLPROBE_MAX_WORK``, ...)
are not applied here: on your own machine, the size of a run is yours to choose. The result is
printed as JSON on stdout; progress goes to stderr. An invalid spec exits with 2 and names the field.
Learning curves on uploaded datasets ({"dataset": ID}) run through the API, which stores the datasets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pydantic import ValidationError

from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

from .curve_orchestrator import run_learning_curve
from .gcm.custom import solve_custom
from .invalid_spec import InvalidSpec
from .synthetic_source import SyntheticSource


def _read(path: str | None) -> str:
    """The JSON text of a request (validated as JSON, like an HTTP body)."""
    if path is None:
        return "{}"
    if path == "-":
        return sys.stdin.read()
    with open(path) as handle:
        return handle.read()


def _stderr_progress(min_interval: float = 1.0):
    last = {"stage": None, "time": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != last["stage"] or done == total or now - last["time"] >= min_interval:
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)
            last.update(stage=stage, time=now)

    return report


def _synthetic_curve(request: LearningCurveRequest) -> dict:
    if request.uses_datasets:
        raise InvalidSpec("source", "learning curves on uploaded datasets run through the API (POST /v1/datasets, "
                                    "then POST /v1/learning-curves): the command line has no dataset store")
    return run_learning_curve(SyntheticSource(request), progress=_stderr_progress()).model_dump(mode="json")


#: the kinds this command line runs, each with its runner: those the engine computes alone (a phase
#: diagram is gathered from jobs on the queue, a source network is a part of one: they need the service)
RUNNERS = {"learning_curve": _synthetic_curve, "gcm": solve_custom}
#: command -> (request model, runner), named as the kinds are on the ``tlprobe`` command line
COMMANDS = {KINDS[name].command: (KINDS[name].request, run) for name, run in RUNNERS.items()}


def _reasons(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}" for error in exc.errors())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.science", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in RUNNERS:
        kind = KINDS[name]
        command = commands.add_parser(kind.command, help=kind.help)
        command.add_argument("spec", nargs="?", default=None,
                             help="JSON request file, '-' for stdin, none for every default")
        command.add_argument("--dry-run", action="store_true",
                             help="validate only: print the request with every default filled in")
    args = parser.parse_args(argv)
    contract, run = COMMANDS[args.command]
    try:
        request = contract.model_validate_json(_read(args.spec))
        result = request.model_dump(mode="json") if args.dry_run else run(request)
    except ValidationError as exc:
        print(f"invalid input: {_reasons(exc)}", file=sys.stderr)
        return 2
    except InvalidSpec as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
