"""What a bulk run reports: each item counted once, the errors, and the progress it shows."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class ItemError:
    """An item that was not applied: where it was in the input, its key (the value of
    ``key=``, such as the domain, or its content hash), and why."""

    index: int
    key: str
    status: int | None
    code: str
    message: str
    item: Any = None
    source: Any = None  # the ``Sourced`` item's source


@dataclass
class BulkReport:
    """What a bulk run did, item by item: each item of the input is counted once, as
    applied (``created``, ``updated``, ``unchanged``; ``succeeded`` is every applied item),
    ``skipped`` or ``failed``.

    ``replayed`` counts, among the applied, answers the API replayed for an item this run
    had already sent (a batch resent after a lost response); ``skipped`` counts items an
    earlier attempt of this run applied, per its journal. ``run_id`` names the run."""

    operation: str
    object: str
    total: int = 0
    succeeded: int = 0
    skipped: int = 0
    replayed: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    requests: int = 0
    elapsed: float = 0.0
    errors: list[ItemError] = field(default_factory=list)
    unchanged: int = 0  # upserts whose values equal what was stored: nothing written
    run_id: str = ""
    dry_run: bool = False

    @property
    def throughput(self) -> float:
        """Items applied per second."""
        return self.succeeded / self.elapsed if self.elapsed else 0.0

    def __str__(self) -> str:
        counted = (("created", self.created), ("updated", self.updated), ("unchanged", self.unchanged))
        parts = [f"{n:,} {name}" for name, n in counted if n]
        other = self.succeeded - self.created - self.updated - self.unchanged
        if other or not parts:
            parts.append(f"{other:,} {'would apply' if self.dry_run else 'ok'}")
        if self.replayed:
            parts[-1] += f" ({self.replayed:,} replayed)"
        parts.append(f"{self.failed:,} failed")
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped (done by an earlier attempt)")
        run = f", {self.run_id}" if self.run_id else ""
        pace = f"{self.throughput:,.0f}/s, {self.requests} requests{run}"
        return (
            f"{'dry run: ' if self.dry_run else ''}{self.operation} {self.object}: {', '.join(parts)}, "
            f"of {self.total:,} in {self.elapsed:.1f} s ({pace})"
        )

    def add(self, other: BulkReport) -> None:
        """Count in ``other``, the report of one part of this run."""
        for name in ("succeeded", "replayed", "created", "updated", "unchanged", "failed", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def write_errors(self, path: str | os.PathLike[str]) -> None:
        """The failed items as JSON lines (``index``, ``key``, ``code``, ``message``, ``item``),
        ready to be fixed and fed back in; an item JSON cannot hold (a 5,000-digit number,
        nesting past Python's limit) is written as ``null`` with ``item_error`` saying why."""
        with Path(path).open("w", encoding="utf-8") as out:
            for error in self.errors:
                fields = {k: v for k, v in error.__dict__.items() if k != "source"}
                try:
                    line = json.dumps(fields, default=str)
                except (ValueError, TypeError, RecursionError) as exc:
                    fields["item"], fields["item_error"] = None, f"not written: {type(exc).__name__}"
                    line = json.dumps(fields, default=str)
                out.write(line + "\n")


class Progress(Protocol):
    """Called after every request with the run's state so far."""

    def __call__(self, state: ProgressState, /) -> None: ...


@dataclass(frozen=True)
class ProgressState:
    done: int
    failed: int
    total: int | None
    rate: float  # items per second so far
    eta: float | None  # seconds left, when the total is known
    detail: str = ""  # what else to show, like a follower's lag


class Tracker:
    """Counts for the report and the progress callback."""

    def __init__(self, report: BulkReport, total: int | None, progress: Progress | None) -> None:
        self.report = report
        self.total = total
        self.progress = progress
        self.started = time.perf_counter()

    def update(self) -> None:
        self.report.elapsed = time.perf_counter() - self.started
        if self.progress is None:
            return
        done = self.report.succeeded + self.report.skipped
        rate = self.report.succeeded / self.report.elapsed if self.report.elapsed else 0.0
        left = None if self.total is None else max(0, self.total - done - self.report.failed)
        eta = left / rate if left is not None and rate else None
        self.progress(ProgressState(done, self.report.failed, self.total, rate, eta))
