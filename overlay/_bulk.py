"""The parts of bulk writes that do no I/O: runs, item keys, the journal, progress, the report.

A run has a random id. Each item has a stable key (given by the caller, or a hash of its
content); its idempotency key is derived from the run id and that key, so within a run an
item is applied at most once (a batch resent after a lost response replays the stored
answers), while a new run applies its items again. The journal file keeps the run id and
each item the API has applied: a run started again with it resumes the same run, reusing
its id, and skips what was done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from ._errors import InvalidArgumentError

MAX_BATCH_ITEMS = 100
MAX_BATCH_BYTES = 512 * 1024

log = logging.getLogger("overlay.bulk")


def content_key(item: Any) -> str:
    """A key for an item from its content: the same item always gets the same key."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


KeyFn = Callable[[Mapping[str, Any]], Any]


def readable(value: Any) -> str:
    """A key value as text a person recognises: ``["acme.com"]`` is ``acme.com``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        return readable(next(iter(value.values())))
    if isinstance(value, list | tuple) and value:
        return ",".join(readable(part) for part in value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def key_of(item: Mapping[str, Any], key: str | KeyFn | None) -> str:
    """The item's stable key: ``key(item)``, the value of attribute ``key``, or its content hash."""
    if key is None:
        return content_key(item)
    value = key(item) if callable(key) else item.get(key)
    if value is None or value == "" or value == [] or value == {}:
        raise InvalidArgumentError(f"The item has no value for the key {key!r}.")
    return readable(value)


# An item within a run: its key, and how many earlier items of the input had the same key.
Identity = tuple[str, int]


class Identities:
    """Gives each item of a run its identity: the n-th item with key ``k`` is ``(k, n)``.

    Two items with one key are two items (an upsert's versions of one record, say), each
    applied once; the input's order makes the numbering the same when a run resumes."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, key: str) -> Identity:
        repeat = self._seen.get(key, 0)
        self._seen[key] = repeat + 1
        return key, repeat


RUN_ID = re.compile(r"run_[0-9a-f]{16}")


def new_run_id() -> str:
    return "run_" + secrets.token_hex(8)


def idempotency_key(run_id: str, operation: str, object: str, item: Identity) -> str:
    """The item's idempotency key: the same within its run (and its resumes), new in another."""
    text = json.dumps([run_id, operation, object, *item])  # ASCII: lone surrogates are escaped
    return "bulk_" + hashlib.sha256(text.encode()).hexdigest()[:40]


def encoded(body: Any) -> bytes:
    """The body as UTF-8 JSON; ``InvalidArgumentError`` naming the field whose text is not
    valid Unicode (a lone surrogate such as ``"\\ud800"``, which no request can carry)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            _bad_text(body, "") or "The item holds text that is not valid Unicode."
        ) from None


def _bad_text(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            char = value[exc.start]
            return (
                f"{where or 'The item'} holds a lone surrogate ({char!r} at character {exc.start}), "
                "which is not valid Unicode text."
            )
        return None
    if isinstance(value, Mapping):
        for name, part in value.items():
            problem = _bad_text(name, f"The name {name!r}") or _bad_text(part, _field(where, name))
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for position, part in enumerate(value):
            if problem := _bad_text(part, f"{where or 'The item'}[{position}]"):
                return problem
    return None


def _field(where: str, name: Any) -> str:
    return f"{where}.{name}" if where else f"The value of {name!r}"


def item_problem(
    item: Mapping[str, Any], types: Mapping[str, str], options: Mapping[str, list[str]]
) -> str | None:
    """What is wrong with an item for an object with these attribute ``types`` (None: nothing
    the schema can tell); select and status values must be among ``options``."""
    from ._metadata import hint

    for slug, value in item.items():
        if slug not in types:
            return f"Unknown attribute {slug!r}.{hint(slug, types)}"
        titles = options.get(slug)
        if titles is not None:
            for title in value if isinstance(value, list) else [value]:
                if isinstance(title, str) and title not in titles:
                    return f"{title!r} is not an option of {slug!r}.{hint(title, titles, 'Options')}"
    return None


@dataclass(frozen=True)
class Sourced:
    """An item that remembers where it came from: ``values`` to write, ``key`` (its stable
    key, or ``None`` for the usual one) and ``source`` (say, an import row), which the
    item's ``ItemError`` carries back if the API refuses it."""

    values: Mapping[str, Any]
    source: Any = None
    key: str | None = None


@dataclass
class Pending:
    """One input item on its way: its position in the input, its key, identity and body."""

    index: int
    key: str
    body: Any
    identity: Identity = ("", 0)
    size: int = 0
    source: Any = None


class Journal:
    """An append-only JSON-lines file: the run's id (``{"run_id", "operation", "object"}``),
    then each item the API has applied (``{"key", "repeat", "record_id"}``).

    A damaged line (cut short by a kill, garbage bytes, JSON that is not an entry) is
    skipped with a warning on the ``overlay.bulk`` logger naming the file and the line;
    appending after a line cut short starts on a new line."""

    def __init__(self, path: str | os.PathLike[str], operation: str, object: str) -> None:
        self.path = Path(path)
        self.done: dict[Identity, str | None] = {}
        self.run_id: str | None = None
        try:
            torn = self._read(operation, object) if self.path.exists() else False
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        except OSError as error:  # a folder, a missing folder, no permission
            raise InvalidArgumentError(
                f"The journal {str(self.path)!r} cannot be opened: {error.strerror or error}."
            ) from error
        if torn:
            self._file.write("\n")
        if self.run_id is None:
            self.run_id = new_run_id()
            header = {"run_id": self.run_id, "operation": operation, "object": object}
            self._file.write(json.dumps(header) + "\n")
            self._sync()

    def _read(self, operation: str, object: str) -> bool:
        """Load the file; True when its last line is cut short (it lacks its newline)."""
        torn = False
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                torn = not raw.endswith(b"\n")
                if not raw.strip():
                    continue
                problem = self._load(raw, operation, object)
                if problem is not None:
                    cut = " (cut short: the run stopped while writing it)" if torn else ""
                    log.warning("journal %s line %d: %s%s; skipped", self.path, number, problem, cut)
        return torn

    def _load(self, raw: bytes, operation: str, object: str) -> str | None:
        """Take in one line; what is wrong with it, or None."""
        try:
            entry = json.loads(raw.decode())
        except UnicodeDecodeError:
            return "not UTF-8 text"
        except (ValueError, RecursionError):
            return "not JSON"
        if not isinstance(entry, dict):
            return f"a JSON {type(entry).__name__}, not an entry"
        if "run_id" in entry:
            if not isinstance(entry["run_id"], str) or not RUN_ID.fullmatch(entry["run_id"]):
                return "a header whose run_id is not one this SDK writes (run_ and 16 hex digits)"
            if (entry.get("operation"), entry.get("object")) not in ((operation, object), (None, None)):
                raise InvalidArgumentError(
                    f"The journal {str(self.path)!r} belongs to a run of "
                    f"{entry.get('operation')} {entry.get('object')}, not {operation} {object}: "
                    "give this run a journal of its own."
                )
            self.run_id = self.run_id or entry["run_id"]
            return None
        key, repeat, record_id = entry.get("key"), entry.get("repeat", 0), entry.get("record_id")
        if not isinstance(key, str) or type(repeat) is not int or not isinstance(record_id, str | None):
            return "not an entry (key, repeat, record_id)"
        self.done[(key, repeat)] = record_id
        return None

    def record(self, entries: list[tuple[Identity, str | None]]) -> None:
        for (key, repeat), record_id in entries:
            self.done[(key, repeat)] = record_id
            line = {"key": key, "record_id": record_id} | ({"repeat": repeat} if repeat else {})
            self._file.write(json.dumps(line) + "\n")
        self._sync()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


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
        ready to be fixed and fed back in."""
        with Path(path).open("w", encoding="utf-8") as out:
            for error in self.errors:
                fields = {k: v for k, v in error.__dict__.items() if k != "source"}
                out.write(json.dumps(fields, default=str) + "\n")


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


class Run:
    """One run of a bulk operation: its id (the journal's when there is one), its report,
    its journal, the identities of its items and the progress tracker."""

    def __init__(
        self,
        operation: str,
        object: str,
        journal: str | os.PathLike[str] | None,
        progress: Progress | None,
        total: int | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self.operation, self.object = operation, object
        self.journal = Journal(journal, operation, object) if journal is not None else None
        self.run_id = self.journal.run_id if self.journal and self.journal.run_id else new_run_id()
        self.report = BulkReport(operation, object, run_id=self.run_id, dry_run=dry_run)
        self.tracker = Tracker(self.report, total, progress)
        self._identities = Identities()

    def admit(self, index: int, key: str, body: Any, source: Any = None) -> Pending | None:
        """The item on its way, or None when it is skipped (done by an earlier attempt of this
        run) or failed (its text cannot be sent: it goes to the report)."""
        identity = self._identities(key)
        if self.journal is not None and identity in self.journal.done:
            self.report.skipped += 1
            return None
        pending = Pending(index, key, body, identity, source=source)
        try:
            pending.size = len(encoded(body))
        except InvalidArgumentError as error:
            self.fail([pending], None, "invalid_unicode", str(error))
            return None
        return pending

    def idempotency_key(self, item: Pending) -> str:
        return idempotency_key(self.run_id, self.operation, self.object, item.identity)

    def fail(self, items: list[Pending], status: int | None, code: str, message: str) -> None:
        for item in items:
            self.report.failed += 1
            self.report.errors.append(
                ItemError(item.index, item.key, status, code, message, item.body, item.source)
            )

    def applied(self, entries: list[tuple[Identity, str | None]]) -> None:
        if self.journal is not None and entries:
            self.journal.record(entries)

    def close(self) -> None:
        self.tracker.update()
        self.report.errors.sort(key=lambda error: error.index)  # in input order
        if self.journal is not None:
            self.journal.close()
