"""What the mirror's parts (applying, the snapshot, verifying) need of ``_mirror.Mirror``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .._bulk_core.report import Progress
    from .._sync.client import Client
    from ._destination import Destination
    from ._layout import TableLayout
    from ._report import MirrorReport


class Mirror(Protocol):
    client: Client
    db: Destination
    layouts: dict[str, TableLayout]
    options: dict[str, dict[str, str]]
    report: MirrorReport
    soft_delete: bool
    objects: list[str] | None
    lists: list[str] | None
    progress: Progress | bool | None

    def _plan(self) -> dict[str, TableLayout]: ...
    def _define(self, table: TableLayout) -> None: ...
    def _define_activity(self) -> None: ...
    def _saved_layout(self, name: str, saved: Any) -> TableLayout: ...
    def _create(self, connection: Connection, table: TableLayout, *, fresh: bool) -> None: ...
    def _write(
        self,
        connection: Connection,
        table: TableLayout,
        items: Sequence[Mapping[str, Any]],
        sequence: int | Sequence[int],
        *,
        fresh: bool = False,
    ) -> None: ...
    def _remove(self, connection: Connection, table: TableLayout, keys: Sequence[str]) -> None: ...
