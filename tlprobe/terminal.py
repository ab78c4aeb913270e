"""What the command line shows a person: a live progress bar (on a terminal only) and aligned tables,
among them the summary of a result (test errors per protocol and alpha, a diagram's gain grid)."""

from __future__ import annotations

import shutil
import time
from typing import IO, Any

from .contract.jobs import BatchView, JobStatus, JobView

CLEAR = "\x1b[K"  # erase to the end of the line


def number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.2e}"
    return str(value)


def table(rows: list[list[Any]], header: list[str]) -> str:
    """Columns aligned: text to the left, numbers to the right."""
    cells = [[number(value) for value in row] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(header, *cells)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) and bool(rows)
               for i in range(len(header))]

    def line(texts: list[str]) -> str:
        return "  ".join(t.rjust(w) if n else t.ljust(w) for t, w, n in zip(texts, widths, numeric)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, cells)])


def learning_curve_summary(result: dict[str, Any]) -> str:
    rows = []
    for protocol, curve in result["curves"].items():
        theory, simulation = curve.get("theory"), curve.get("simulation")
        for i, alpha in enumerate(result["alphas"]):
            mc = theory.get("test_error_mc_error") if theory else None
            rows.append([protocol, f"{alpha:g}", theory["test_error"][i] if theory else None, mc[i] if mc else None,
                         simulation["test_error_mean"][i] if simulation else None,
                         simulation["test_error_sem"][i] if simulation else None])
    text = table(rows, ["protocol", "alpha", "theory", "+/- mc", "simulation", "+/- sem"])
    return (f"test error on the target per protocol and alpha = n_t / N\n{text}\n"
            f"source network: test error {number(result['source_test_error'])}, "
            f"train error {number(result['source_train_error'])}")


def phase_diagram_summary(result: dict[str, Any]) -> str:
    x, y = result["x_axis"], result["y_axis"]
    rows = [[f"{value:g}", *result["gain"][i]] for i, value in enumerate(y["values"])]
    text = table(rows, [f"{y['name']} \\ {x['name']}", *[f"{v:g}" for v in x["values"]]])
    crossings = [f"  {y['name']} = {row['y']:g}: {x['name']} = {', '.join(f'{c:.3g}' for c in row['crossings'])}"
                 for row in result["boundary"] if row["crossings"]]
    lines = [f"gain = error({result['baseline']}) - error(tf), on {result['gain_basis']} (positive: transfer pays)", text]
    lines += ["gain = 0 boundary (x values):", *crossings] if crossings else ["the gain does not change sign in any row"]
    if result["failures"]:
        lines.append(f"{len(result['failures'])} cells failed (complete: false); resubmit to recompute them")
    return "\n".join(lines)


def gcm_summary(result: dict[str, Any]) -> str:
    rows = [[f"{result['sample_complexity'][i]:g}", result["regularisation"][i], result["test_error"][i],
             result["converged"][i], result["status"][i]] for i in range(len(result["sample_complexity"]))]
    return table(rows, ["alpha = n/p", "lambda", "test error", "converged", "status"])


def summary(result: dict[str, Any]) -> str:
    kind = result["kind"]
    if kind == "learning_curve":
        return learning_curve_summary(result)
    if kind == "phase_diagram":
        return phase_diagram_summary(result)
    if kind == "gcm":
        return gcm_summary(result)
    return table([[result["source_test_error"], result["source_train_error"]]], ["source test error", "train error"])


def job_line(view: JobView) -> str:
    parts = [view.job_id, view.status.value]
    if view.progress and view.status in (JobStatus.queued, JobStatus.started):
        parts.append(f"{view.progress.stage} {view.progress.done}/{view.progress.total}")
    if view.error:
        parts.append(f"({view.error})")
    return "  ".join(parts)


class Bar:
    """One line redrawn in place on a terminal: label, status, stage, a bar, done/total, elapsed."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream, self.label, self.started = stream, label, time.monotonic()
        self.drawn = False

    def _draw(self, status: str, stage: str, done: int | None, total: int | None) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        elapsed = f"{time.monotonic() - self.started:.0f}s"
        head = f"{self.label}  {status}" + (f"  {stage}" if stage else "")
        if done is not None and total:
            count = f"{done}/{total} {100 * done // total:3d}%"
            width = max(10, min(40, columns - len(head) - len(count) - len(elapsed) - 8))
            filled = width * done // total
            line = f"{head}  [{'#' * filled}{'.' * (width - filled)}] {count}  {elapsed}"
        else:
            line = f"{head}  {elapsed}"
        self.stream.write("\r" + line[: columns - 1] + CLEAR)
        self.stream.flush()
        self.drawn = True

    def job(self, view: JobView) -> None:
        progress = view.progress
        if progress is None:
            self._draw(view.status.value, "waiting for a worker" if view.status is JobStatus.queued else "", None, None)
        else:
            self._draw(view.status.value, progress.stage, progress.done, progress.total)

    def batch(self, view: BatchView) -> None:
        counts = {status: n for status, n in view.counts.items() if n}
        ended = sum(counts.get(s, 0) for s in (JobStatus.finished, JobStatus.failed, JobStatus.canceled))
        stage = " ".join(f"{n} {status.value}" for status, n in counts.items())
        self._draw("jobs", stage, ended, len(view.jobs))

    def close(self) -> None:
        """Leave the last state on screen and move to the next line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
