"""Records as table rows: one column per attribute, each flattened the way it is asked.

A record's attribute holds a list of value objects; a table cell holds one value. Each
column flattens by its own mode:

- ``first``: the first value (typed: a number stays a number, a date a date);
- ``join``: every value joined with ``"; "`` (the default; a single value stays typed,
  and a multiselect attribute's column is always text);
- ``json``: every value as a JSON array (native lists in JSON lines).

Values become their plain form: an option's title, an email address, a full name, a
referenced record's id, and money as ``"12.50 EUR"`` (which the importer reads back).
The work is done on the API's JSON, without building typed models, so an export costs
little more than the pages it reads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidArgumentError
from .._metadata_core import AttributeInfo, hint
from .._records import PLAIN_PATHS
from ._cells import format_money
from ._write import cell_text

MODES = ("first", "join", "json")
PLAIN_VALUES = frozenset({"text", "number", "rating", "checkbox"})  # whose ``value`` is the cell
PSEUDO = ("record_id", "created_at", "updated_at")
JOINER = "; "
KINDS = {
    "number": "number",
    "rating": "integer",
    "checkbox": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class ExportColumn:
    """One output column: the attribute it reads (and is named by), how it flattens, its cell kind."""

    slug: str
    mode: str
    kind: str
    type: str = ""

    @property
    def pseudo(self) -> bool:
        return self.slug in PSEUDO


def plan_columns(
    object: str,
    attributes: Mapping[str, AttributeInfo],
    columns: Sequence[str] | None = None,
    flatten: str | Mapping[str, str] = "join",
) -> list[ExportColumn]:
    """The export's columns: ``record_id`` then every attribute, unless ``columns`` says which.
    ``flatten`` is a mode, or modes by slug (``"*"``: the others' mode)."""
    modes = {} if isinstance(flatten, str) else dict(flatten)
    default = flatten if isinstance(flatten, str) else modes.pop("*", "join")
    for mode in [default, *modes.values()]:
        if mode not in MODES:
            raise InvalidArgumentError(f"flatten is one of {', '.join(MODES)}, got {mode!r}.")
    chosen = list(columns) if columns else ["record_id", *attributes]
    known = [*PSEUDO, *attributes]
    for slug in [*chosen, *modes]:
        if slug not in known:
            raise InvalidArgumentError(
                f"{object} has no attribute {slug!r} to export.{hint(slug, known, 'Attributes')}"
            )
    out: list[ExportColumn] = []
    for slug in chosen:
        if slug in PSEUDO:
            out.append(ExportColumn(slug, "first", "timestamp" if slug != "record_id" else "string"))
            continue
        info = attributes[slug]
        mode = modes.get(slug, default)
        typed = mode == "first" or (mode == "join" and not info.multiselect)
        out.append(ExportColumn(slug, mode, KINDS.get(info.type, "string") if typed else "string", info.type))
    return out


def parse_instant(text: Any) -> dt.datetime | None:
    """An API timestamp as an aware UTC datetime."""
    if not isinstance(text, str):
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def value_cells(kind: str, value: Mapping[str, Any]) -> tuple[Any, ...]:
    """One value object (the API's JSON) of an attribute of type ``kind`` as typed cells, in
    the order of the mirror's columns: money as minor units and code, a name as first, last
    and full, a date as a ``date``, a timestamp as an aware UTC ``datetime``, an option as its
    title, a reference as its target's id; a type this SDK does not know as its JSON."""
    if kind == "currency":
        return (value.get("amount_minor"), value.get("currency_code"))
    if kind == "personal-name":
        return (value.get("first_name"), value.get("last_name"), value.get("full_name"))
    if kind == "record-reference":
        return (value.get("target_record_id"),)
    if kind == "date":
        raw = value.get("value")
        return (dt.date.fromisoformat(raw) if isinstance(raw, str) else None,)
    if kind == "timestamp":
        return (parse_instant(value.get("value")),)
    if kind in PLAIN_VALUES:
        return (value.get("value"),)
    path = PLAIN_PATHS.get(kind)
    if not path:  # a type this SDK does not know: its JSON
        return (json.dumps({k: v for k, v in value.items() if k != "created_by_actor"}, sort_keys=True),)
    return (_walk(value, path),)


def _walk(value: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The field at ``path`` in a value object (``None`` where it is missing)."""
    found: Any = value
    for name in path:
        found = found.get(name) if isinstance(found, Mapping) else None
    return found


def plain_json(value: Mapping[str, Any]) -> Any:
    """The plain form of one value object as the API sends it."""
    kind = value.get("attribute_type")
    if kind == "currency":
        return format_money(value["amount_minor"], value["currency_code"])
    if kind == "record-reference":
        return value["target_record_id"]
    path = PLAIN_PATHS.get(kind, ("value",)) if isinstance(kind, str) else ()
    return (
        _walk(value, path)
        if path
        else {k: v for k, v in value.items() if k not in ("active_from", "active_until", "created_by_actor")}
    )


def flatten_record(record: Mapping[str, Any], columns: Iterable[ExportColumn]) -> list[Any]:
    """One record (the API's JSON) as a row of cells, in column order."""
    values = record.get("values") or {}
    row: list[Any] = []
    for column in columns:
        if column.pseudo:
            row.append(record["id"]["record_id"] if column.slug == "record_id" else record.get(column.slug))
            continue
        items = values.get(column.slug)
        if not items:
            row.append(None)
        elif column.mode == "first":
            row.append(plain_json(items[0]))
        elif column.mode == "json":
            row.append([plain_json(item) for item in items])
        elif len(items) == 1 and column.kind != "string":
            row.append(plain_json(items[0]))
        else:
            row.append(JOINER.join(cell_text(plain_json(item)) for item in items))
    return row
