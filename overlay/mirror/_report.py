"""What a mirror run did."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MirrorReport:
    """What a run did: rows copied by the snapshot, events applied, tables changed."""

    url: str
    snapshot_rows: dict[str, int] = field(default_factory=dict)
    events_applied: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    tables_added: list[str] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    tables_rebuilt: list[str] = field(default_factory=list)
    options_renamed: int = 0
    resynced: bool = False
    cursor: str | None = None
    lag_seconds: float | None = None
    elapsed: float = 0.0

    def summary(self) -> str:
        parts = []
        if self.snapshot_rows:
            total = sum(self.snapshot_rows.values())
            parts.append(f"snapshot: {count(total, 'row')} in {count(len(self.snapshot_rows), 'table')}")
        parts.append(f"{count(self.events_applied, 'event')} applied")
        if self.resynced:
            parts.append("the cursor had expired: resynced in full")
        for label, items in (("tables added", self.tables_added), ("columns added", self.columns_added),
                             ("tables rebuilt", self.tables_rebuilt)):  # fmt: skip
            if items:
                parts.append(f"{label}: {', '.join(items)}")
        if self.options_renamed:
            parts.append(f"{count(self.options_renamed, 'row')} of renamed options updated")
        if self.lag_seconds is not None:
            parts.append(f"lag {self.lag_seconds:.2f} s")
        return f"mirror {self.url}: " + "; ".join(parts) + f" ({self.elapsed:.1f} s)"


def count(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``, ``1,000 rows``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
