"""A progress bar for the client that works in a notebook and in a terminal.

``client.learning_curve(request, progress=True)`` draws one with ``tqdm.auto``: a widget in Jupyter
(when ipywidgets is installed; tqdm falls back to text otherwise), a text bar in a terminal. It is
fed the job's views (or a batch's): the bar's total and position are the job's progress (done of
total in its current stage, e.g. epochs of the source network, then cells), its description the
stage, and its postfix the status. A stage change restarts the bar's count, as the job's own does.
"""

from __future__ import annotations

import warnings
from typing import Any

from .contract.batches import BatchView
from .contract.jobs import JobView

#: done/total of the current stage and the time: a job's progress has no meaningful rate
BAR_FORMAT = "{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


class ProgressBar:
    """Callable as a ``progress`` listener; ``close()`` leaves the last state shown."""

    def __init__(self, label: str = "", **options: Any) -> None:
        with warnings.catch_warnings():  # in Jupyter without ipywidgets tqdm falls back to text, as it should
            warnings.filterwarnings("ignore", message="IProgress not found")
            from tqdm.auto import tqdm  # loaded when a bar is asked for

        self.bar = tqdm(total=None, desc=label, leave=True, dynamic_ncols=True, bar_format=BAR_FORMAT, **options)
        self.label = label
        self.stage: str | None = None

    def __call__(self, view: JobView | BatchView) -> None:
        if isinstance(view, BatchView):
            ended = sum(n for status, n in view.counts.items() if status.ended)
            self._show("jobs", ended, len(view.jobs), ", ".join(f"{n} {s.value}" for s, n in view.counts.items() if n))
        elif view.progress is not None:
            self._show(view.progress.stage, view.progress.done, view.progress.total, view.status.value)
        else:
            self._show("waiting for a worker" if view.status.value == "queued" else view.status.value, 0, None,
                       view.status.value)

    def _show(self, stage: str, done: int, total: int | None, status: str) -> None:
        if stage != self.stage:
            self.stage = stage
            self.bar.set_description(f"{self.label} {stage}".strip(), refresh=False)
            self.bar.total = total  # reset() keeps the old total when given None
            self.bar.reset(total=total)
        self.bar.n = done
        self.bar.set_postfix_str(status, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
