"""Command line for the engine alone (no Redis, no service).

    python -m worker.science learning-curve [SPEC.json | -]   # spec as in POST /v1/learning-curves
    python -m worker.science gcm REQUEST.json                 # {"spectrum" | "covariances", "loss",
                                                              #  "regularisation", "sample_complexities"}
The result is printed as JSON on stdout; progress goes to stderr. An invalid spec exits with 2 and
names the field.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import InvalidSpec
from .gcm.custom import solve_custom
from .learning_curve import run_learning_curve
from .specs import LearningCurveSpec, SolverSettings


def _read(path: str) -> dict:
    if path == "-":
        return json.load(sys.stdin)
    with open(path) as handle:
        return json.load(handle)


def _stderr_progress(min_interval: float = 1.0):
    last = {"stage": None, "time": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != last["stage"] or done == total or now - last["time"] >= min_interval:
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)
            last.update(stage=stage, time=now)

    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.science", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    curve = commands.add_parser("learning-curve", help="theory and simulation of a learning curve")
    curve.add_argument("spec", nargs="?", default=None, help="JSON spec file, '-' for stdin, none for defaults")
    gcm = commands.add_parser("gcm", help="solve a user-supplied Gaussian covariate model")
    gcm.add_argument("request", help="JSON request file or '-'")
    args = parser.parse_args(argv)
    try:
        if args.command == "learning-curve":
            spec = LearningCurveSpec.from_dict(_read(args.spec) if args.spec else {})
            result = run_learning_curve(spec, progress=_stderr_progress())
        else:
            request = _read(args.request)
            solver = SolverSettings(**request.pop("solver", {}))
            result = solve_custom(**request, solver=solver)
    except InvalidSpec as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
    except TypeError as exc:  # an unknown field in the request
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
