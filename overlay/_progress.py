"""Progress of bulk runs: a rich bar on a terminal, periodic log lines elsewhere, or a callback."""

from __future__ import annotations

import sys
import time

from ._bulk_core.report import Progress, ProgressState
from ._errors import InvalidArgumentError
from ._logging import logger


class LogLines:
    """An ``overlay`` log line at most every ``every`` seconds (and at the end)."""

    def __init__(self, label: str, every: float = 2.0) -> None:
        self.label = label
        self.every = every
        self.last = 0.0
        self.ended = False

    def __call__(self, state: ProgressState) -> None:
        now = time.monotonic()
        finished = state.done + state.failed == state.total
        if (now - self.last < self.every and not finished) or (finished and self.ended):
            return
        self.last, self.ended = now, finished
        of = f"/{state.total}" if state.total is not None else ""
        eta = f", {state.eta:.0f} s left" if state.eta is not None else ""
        eta += f", {state.detail}" if state.detail else ""
        logger.warning(
            "%s: %d%s done, %d failed, %.0f/s%s", self.label, state.done, of, state.failed, state.rate, eta
        )


class RichBar:
    """A rich progress bar on stderr."""

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:,.0f}/s {task.fields[failed]} failed"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[detail]}"),
            transient=False,
        )
        self.task = self.bar.add_task(label, total=None, rate=0.0, failed=0, detail="")
        self.bar.start()

    def __call__(self, state: ProgressState) -> None:
        self.bar.update(
            self.task,
            completed=state.done,
            total=state.total,
            rate=state.rate,
            failed=state.failed,
            detail=state.detail,
        )
        if state.total is not None and state.done + state.failed >= state.total:
            self.bar.stop()


def renderer(progress: Progress | bool | None, label: str) -> Progress | None:
    """``True``: a bar on a terminal (with rich), log lines otherwise; a callable: itself."""
    if progress is None or progress is False:
        return None
    if progress is True:
        if sys.stderr.isatty():
            try:
                return RichBar(label)
            except ImportError:
                pass
        return LogLines(label)
    if callable(progress):
        return progress
    raise InvalidArgumentError(f"progress is True, False or a callable, got {progress!r}.")
