"""The ``tlprobe`` command line (the console script installed with the package): argparse over
``tlprobe.client``, with the bar and tables of ``tlprobe.terminal``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx2 as httpx

from . import __version__
from .client import DEFAULT_URL, Client
from .contract.batches import BatchView
from .contract.common import Protocol
from .contract.datasets import DatasetDescription
from .contract.jobs import JobStatus, JobView
from .contract.phase_diagram import AxisName, Baseline
from .errors import InvalidRequest, JobFailed, NotFinished, TlprobeError
from .kinds import KINDS, kind_of_result, rows_of
from .terminal import Bar, job_line
from .text_tables import table
from .tidy import to_csv

OK, FAILED, USAGE = 0, 1, 2
#: ``tlprobe submit <command>``: the kinds with a name on the command line
COMMANDS = {kind.command: kind for kind in KINDS.values() if kind.command is not None}


DESCRIPTION = "Submit, follow, fetch, draw, cancel and list the computations of a tlprobe service."
EPILOG = """examples:
  tlprobe submit learning-curve spec.json --wait     # a live progress bar, then the test errors per protocol and alpha
  tlprobe submit phase-diagram diagram.json          # prints the job id
  tlprobe status pd-3f0c... --wait
  tlprobe result lc-3f0c... --format csv -o curve.csv
  tlprobe plot pd-3f0c... -o diagram.png
  tlprobe diagrams --axis teacher_noise --range source.input_dim:100:400
  tlprobe batch requests.jsonl --wait
  tlprobe dataset upload source.npz                  # prints the dataset id: {"source": {"dataset": ID}} in a spec
  tlprobe dataset list

exit codes:
  0  the work finished (or was submitted, listed, canceled; a dataset uploaded, shown, deleted)
  1  it failed or was canceled (the reason is printed), or the service refused or could not be reached
  2  usage errors: bad arguments, an unreadable spec, or a request the contract refuses (each field named)

The progress bar is drawn only when stdout and stderr are terminals; in a pipe only the answer is printed.
Every command has --help."""


class UsageError(Exception):
    """Wrong input on the command line (exit code 2)."""


def interactive() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


def note(text: str) -> None:
    """A remark for a person at a terminal (never mixed into piped output)."""
    if interactive():
        print(text, file=sys.stderr)


def short(identifier: str) -> str:
    return identifier if len(identifier) <= 15 else identifier[:14] + "..."


def read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None


def emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text if text.endswith("\n") else text + "\n")
        note(f"wrote {output}")
    else:
        print(text)


def render(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2)
    if fmt == "csv":
        return to_csv(*rows_of(result)).rstrip("\n")
    return kind_of_result(result).summary(result)


def follow(client: Client, job_id: str) -> JobView:
    """Wait for a job to end, with a live bar on a terminal."""
    if not interactive():
        return client.wait(job_id)
    print(f"job {job_id}", file=sys.stderr)
    bar = Bar(sys.stderr, short(job_id))
    try:
        return client.wait(job_id, progress=bar.job)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: the job goes on (tlprobe status {job_id}; tlprobe cancel {job_id})", file=sys.stderr)
        raise
    finally:
        bar.close()


# ---- commands
def cmd_submit(client: Client, args: argparse.Namespace) -> int:
    kind = COMMANDS[args.kind]
    submission = client.submit(kind.name, read_json(args.spec), wait=False)
    if not args.wait:
        if args.format == "json":
            emit(submission.model_dump_json(indent=2), args.output)
        else:
            emit(submission.job_id, args.output)
            note(f"{submission.status.value}" + (": already computed" if submission.cached else "")
                 + f" (tlprobe status {short(submission.job_id)}, tlprobe result ...)")
        return OK
    if not submission.cached:
        view = follow(client, submission.job_id)
        if view.status is not JobStatus.finished:
            raise JobFailed(view)
    result = client.result(submission.job_id)
    emit(render(result.model_dump(mode="json"), args.format), args.output)
    return OK


def _batch_table(client: Client, view: BatchView) -> str:
    rows = []
    for job in view.jobs:
        error = client.job(job.job_id).error if job.status.unsuccessful else None
        rows.append([job.kind, job.status.value, job.job_id, error or ""])
    counts = ", ".join(f"{n} {status.value}" for status, n in view.counts.items() if n)
    header = ["kind", "status", "job_id", "reason"]
    if not any(row[-1] for row in rows):
        rows, header = [row[:-1] for row in rows], header[:-1]
    return f"batch {view.batch_id}: {counts}\n" + table(rows, header)


def _batch_outcome(client: Client, view: BatchView, fmt: str, output: str | None) -> int:
    emit(view.model_dump_json(indent=2) if fmt == "json" else _batch_table(client, view), output)
    bad = [job for job in view.jobs if job.status.unsuccessful]
    if bad:
        print(f"tlprobe: {len(bad)} of {len(view.jobs)} jobs failed or were canceled", file=sys.stderr)
    return FAILED if bad else OK


def follow_batch(client: Client, batch_id: str) -> BatchView:
    if not interactive():
        return client.wait_batch(batch_id)
    bar = Bar(sys.stderr, f"batch {short(batch_id)}")
    try:
        return client.wait_batch(batch_id, progress=bar.batch)
    finally:
        bar.close()


def _line_of(loc: list, items: list, lines: list[int]) -> list:
    """["body", "requests", 2, "gcm", "request", ...] -> ["line 5", "request", ...]"""
    if len(loc) > 2 and loc[1] == "requests" and isinstance(loc[2], int) and loc[2] < len(lines):
        rest = loc[3:]
        if rest and isinstance(items[loc[2]], dict) and rest[0] == items[loc[2]].get("kind"):
            rest = rest[1:]  # the union's tag: the line's own kind
        return [f"line {lines[loc[2]]}", *rest]
    return loc


def cmd_batch(client: Client, args: argparse.Namespace) -> int:
    items, lines = [], []
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise UsageError(f"{args.file} line {number} is not JSON: {exc}") from None
            lines.append(number)
    if not items:
        raise UsageError(f"{args.file} holds no request (one JSON object a line)")
    try:
        view = client.batch(items)
    except InvalidRequest as exc:  # name the file's line, not the item's index
        errors = [{**error, "loc": _line_of(error.get("loc", []), items, lines)} for error in exc.errors]
        raise InvalidRequest(exc.method, exc.path, errors, local=exc.local) from None
    note(f"batch {view.batch_id}")
    if args.wait:
        view = follow_batch(client, view.batch_id)
    return _batch_outcome(client, view, args.format, args.output)


def cmd_status(client: Client, args: argparse.Namespace) -> int:
    if "-" not in args.id:  # a batch id (32 hex digits); job ids start with their kind
        view = follow_batch(client, args.id) if args.wait else client.batch_status(args.id)
        return _batch_outcome(client, view, args.format, None)
    job = follow(client, args.id) if args.wait else client.job(args.id)
    emit(job.model_dump_json(indent=2) if args.format == "json" else job_line(job), None)
    if job.status.unsuccessful:
        print(f"tlprobe: job {job.status.value}" + (f": {job.error}" if job.error else ""), file=sys.stderr)
        return FAILED
    return OK


def cmd_result(client: Client, args: argparse.Namespace) -> int:
    emit(render(client.result(args.id).model_dump(mode="json"), args.format), args.output)
    return OK


def cmd_plot(client: Client, args: argparse.Namespace) -> int:
    if Path(args.output).suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"-o {args.output}: the file name must end in .png or .svg")
    client.plot(args.id, args.output)
    note(f"wrote {args.output}")
    return OK


def cmd_cancel(client: Client, args: argparse.Namespace) -> int:
    view = client.cancel(args.id)
    print(job_line(view))
    return OK


def cmd_diagrams(client: Client, args: argparse.Namespace) -> int:
    filters = {"x_axis": args.x_axis, "y_axis": args.y_axis, "axis": args.axis, "protocol": args.protocol,
               "baseline": args.baseline, "complete": args.complete, "dataset": args.dataset, "range": args.range or None}
    entries = client.diagrams(**filters)
    if args.format == "json":
        emit(json.dumps([entry.model_dump(mode="json") for entry in entries], indent=2), args.output)
        return OK
    rows = [{"diagram_id": e.diagram_id, "y_axis": e.y_axis.value, "x_axis": e.x_axis.value,
             "cells": f"{len(e.y_values)}x{len(e.x_values)}", "baseline": e.baseline.value,
             "protocols": " ".join(p.value for p in e.protocols), "complete": e.complete, "computed_at": e.computed_at}
            for e in entries]
    columns = ["y_axis", "x_axis", "cells", "baseline", "protocols", "complete", "computed_at", "diagram_id"]
    emit_listing(rows, columns, "diagram", args)
    return OK


def emit_listing(rows: list[dict[str, Any]], columns: list[str], noun: str, args: argparse.Namespace) -> None:
    """A listing as CSV, or as a table followed by how many rows it has."""
    if args.format == "csv":
        emit(to_csv(rows, columns).rstrip("\n"), args.output)
    else:
        emit(table([[row[c] for c in columns] for row in rows], columns)
             + f"\n{len(rows)} {noun}{'' if len(rows) == 1 else 's'}", args.output)


# ---- datasets
DATASET_COLUMNS = ["dataset_id", "samples", "input_dim", "positive_fraction", "constant_features", "size_bytes",
                   "created_at", "expires_in"]


def _dataset_row(description: DatasetDescription) -> dict[str, Any]:
    data = description.model_dump(mode="json")
    return {column: data[column] for column in DATASET_COLUMNS}


def _described(description: DatasetDescription) -> str:
    data = description.model_dump(mode="json")
    rows = [[name, data[name]] for name in DATASET_COLUMNS + ["positives", "negatives"]]
    for stat in ("feature_mean", "feature_scale"):
        rows.append([f"{stat} (min / median / max)",
                     " / ".join(f"{data[stat][k]:.4g}" for k in ("min", "median", "max"))])
    return table(rows, ["field", "value"])


def cmd_dataset_upload(client: Client, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"cannot read {args.file}: no such file")
    description = client.upload_dataset(path)
    if args.format == "json":
        emit(description.model_dump_json(indent=2), args.output)
    else:
        emit(description.dataset_id, args.output)
        note(f"{description.samples} samples, N = {description.input_dim}, {description.positives} labelled +1 "
             f"(use it as {{\"dataset\": \"{description.dataset_id}\"}} in a spec)")
    return OK


def cmd_dataset_list(client: Client, args: argparse.Namespace) -> int:
    found = client.datasets()
    if args.format == "json":
        emit(json.dumps([d.model_dump(mode="json") for d in found], indent=2), args.output)
        return OK
    emit_listing([_dataset_row(d) for d in found], DATASET_COLUMNS, "dataset", args)
    return OK


def cmd_dataset_show(client: Client, args: argparse.Namespace) -> int:
    description = client.dataset(args.id)
    emit(description.model_dump_json(indent=2) if args.format == "json" else _described(description), args.output)
    return OK


def cmd_dataset_delete(client: Client, args: argparse.Namespace) -> int:
    client.delete_dataset(args.id)
    print(f"deleted {args.id}")
    return OK


# ---- the parser
def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS  # given before or after the command
    parser.add_argument("--url", default=default, help=f"the service (default: $TLPROBE_URL, else {DEFAULT_URL})")
    parser.add_argument("--token", default=default, help="bearer token (default: $TLPROBE_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30.0 if top else argparse.SUPPRESS,
                        help="seconds per HTTP request (default: 30; long-polls add their wait)")


def _choices(enum) -> list[str]:
    return [member.value for member in enum]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tlprobe", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tlprobe {__version__}")
    _common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        _common(sub, top=False)
        sub.set_defaults(handler=handler)
        return sub

    def output(sub: argparse.ArgumentParser, formats: list[str], default: str) -> None:
        sub.add_argument("--format", choices=formats, default=default, help=f"output format (default: {default})")
        sub.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE instead of stdout")

    sub = command("submit", cmd_submit, "submit a computation: " + "; ".join(f"{name}: {kind.help}"
                                                                              for name, kind in COMMANDS.items()))
    sub.add_argument("kind", choices=list(COMMANDS), help="what to compute")
    sub.add_argument("spec", metavar="SPEC.json", help="the request as JSON ('-' for stdin; {} means every default)")
    sub.add_argument("--wait", action="store_true", help="follow the job (a progress bar on a terminal), then print "
                                                         "its result: a summary table unless --format says otherwise")
    output(sub, ["table", "json", "csv"], "table")

    sub = command("status", cmd_status, "a job's status and progress (or a batch's, given its id)")
    prefixes = ", ".join(kind.prefix + "-..." for kind in KINDS.values())
    sub.add_argument("id", metavar="ID", help=f"job id ({prefixes}) or batch id")
    sub.add_argument("--wait", action="store_true", help="follow it until it ends, with a progress bar on a terminal")
    sub.add_argument("--format", choices=["table", "json"], default="table", help="output format (default: table)")

    sub = command("result", cmd_result, "a finished job's result")
    sub.add_argument("id", metavar="ID")
    output(sub, ["json", "csv", "table"], "json")

    sub = command("plot", cmd_plot, "save the picture of a learning curve or phase diagram")
    sub.add_argument("id", metavar="ID")
    sub.add_argument("-o", "--output", metavar="FILE", required=True, help="FILE.png (or FILE.svg for a phase diagram)")

    sub = command("cancel", cmd_cancel, "cancel a queued job or stop a running one")
    sub.add_argument("id", metavar="ID")

    sub = command("diagrams", cmd_diagrams, "list the computed phase diagrams, newest first")
    sub.add_argument("--x-axis", choices=_choices(AxisName))
    sub.add_argument("--y-axis", choices=_choices(AxisName))
    sub.add_argument("--axis", choices=_choices(AxisName), help="either axis")
    sub.add_argument("--protocol", choices=_choices(Protocol), help="the diagram includes this protocol")
    sub.add_argument("--baseline", choices=_choices(Baseline))
    done = sub.add_mutually_exclusive_group()
    done.add_argument("--complete", dest="complete", action="store_true", default=None, help="only complete diagrams")
    done.add_argument("--incomplete", dest="complete", action="store_false", help="only diagrams with failed cells")
    sub.add_argument("--dataset", metavar="ID", help="only diagrams that read this dataset (as source or target)")
    sub.add_argument("--range", action="append", metavar="PATH:MIN:MAX",
                     help="value range of a fixed parameter, repeatable, e.g. source.input_dim:100:400 or "
                          "target.teacher_noise::0.2")
    output(sub, ["table", "json", "csv"], "table")

    sub = command("dataset", None, "upload, list, show and delete datasets (for learning curves and diagrams on data)")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, handler, help: str) -> argparse.ArgumentParser:
        act = actions.add_parser(name, help=help, description=help)
        _common(act, top=False)
        act.set_defaults(handler=handler)
        return act

    act = action("upload", cmd_dataset_upload, "upload an .npz file (arrays inputs, n x N, and labels, n: -1/+1 or "
                                               "0/1); prints its id (the same content always gets the same id)")
    act.add_argument("file", metavar="FILE.npz")
    output(act, ["id", "json"], "id")
    act = action("list", cmd_dataset_list, "list the stored datasets, newest first")
    output(act, ["table", "json", "csv"], "table")
    act = action("show", cmd_dataset_show, "a dataset's description: size, class balance, feature summaries, lifetime")
    act.add_argument("id", metavar="ID", help="the dataset's id (ds-...)")
    output(act, ["table", "json"], "table")
    act = action("delete", cmd_dataset_delete, "delete a dataset (refused while a queued or running job reads it)")
    act.add_argument("id", metavar="ID", help="the dataset's id (ds-...)")

    sub = command("batch", cmd_batch, "submit up to 100 requests from a JSON-lines file")
    sub.add_argument("file", metavar="FILE.jsonl",
                     help='one request a line: {"kind": KIND, "request": {...}} with KIND one of '
                          f"{', '.join(kind.name for kind in KINDS.values() if kind.batchable)} ('-' for stdin)")
    sub.add_argument("--wait", action="store_true", help="follow the batch (one bar) until every job has ended")
    output(sub, ["table", "json"], "table")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit with 2 here
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    url = args.url or os.environ.get("TLPROBE_URL") or DEFAULT_URL
    try:
        with Client(url, args.token, timeout=args.timeout) as client:
            return args.handler(client, args)
    except (UsageError, InvalidRequest) as exc:
        print(f"tlprobe: {exc}", file=sys.stderr)
        return USAGE
    except NotFinished as exc:
        print(f"tlprobe: {exc._explain()}", file=sys.stderr)
        return FAILED
    except TlprobeError as exc:
        print(f"tlprobe: {exc}", file=sys.stderr)
        return FAILED
    except httpx.TransportError as exc:
        print(f"tlprobe: cannot reach {url}: {exc}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
