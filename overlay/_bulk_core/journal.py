"""The journal of a bulk run: the file that lets a killed run resume as the same run."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO

from .._errors import InvalidArgumentError
from .keys import RUN_ID, Identity, new_run_id

log = logging.getLogger("overlay.bulk")


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
