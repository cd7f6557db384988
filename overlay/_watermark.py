"""Where an incremental read of records stands, I/O-free.

A watermark is the newest ``updated_at`` read and the ids of the records read at that
instant. The next read asks for ``updated_at >= watermark`` in ``updated_at`` order and
passes over the records the watermark covers: a record changed while the last read ran
is read again (its ``updated_at`` moved on), and none is missed or read twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The order an incremental read goes in: by updated_at, ties broken by id.
ORDER = ("updated_at", "record_id")


@dataclass(frozen=True)
class Watermark:
    """The newest ``updated_at`` read (``None`` before the first read) and the ids read at it."""

    at: str | None = None
    ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of_state(cls, state: Mapping[str, Any]) -> Watermark:
        """The watermark a state (``{"watermark", "ids_at_watermark"}``) keeps."""
        at = state.get("watermark")
        return cls(at if isinstance(at, str) else None, frozenset(state.get("ids_at_watermark") or ()))

    def state(self) -> dict[str, Any]:
        """The watermark as a state file keeps it."""
        return {"watermark": self.at, "ids_at_watermark": sorted(self.ids)}

    def filter(self) -> dict[str, Any] | None:
        """The filter of the next read: what changed at or after the watermark."""
        return None if self.at is None else {"updated_at": {"$gte": self.at}}

    def covers(self, record_id: str, updated_at: Any) -> bool:
        """Whether the read that set this watermark already read the record as it is."""
        return self.at is not None and updated_at == self.at and record_id in self.ids


class Advance:
    """The watermark moving as records are read, from ``start``."""

    def __init__(self, start: Watermark) -> None:
        self._at, self._ids = start.at, set(start.ids)

    def read(self, record_id: str, updated_at: Any) -> None:
        """Count a record read; one without a textual ``updated_at`` does not move the mark."""
        if not isinstance(updated_at, str):
            return
        if self._at is None or updated_at > self._at:
            self._at, self._ids = updated_at, {record_id}
        elif updated_at == self._at:
            self._ids.add(record_id)

    @property
    def watermark(self) -> Watermark:
        return Watermark(self._at, frozenset(self._ids))
