"""Aggregates the API cannot compute, folded record by record.

``aggregate("count", "avg(rating)", "max(created_at)", group_by="stage")``
streams every matching record once and keeps only the running totals. The attributes are
checked against the schema first (``check``): each must exist, sums and averages take
numbers, and a group of a record reference is its target's record id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import InvalidArgumentError
from .._metadata_core import hint
from .._records import Record
from .check import NUMERIC, PSEUDO_OPERATORS, TYPE_OPERATORS, Schema, check_readable, kind_of

_SPEC = re.compile(r"^(count|sum|avg|min|max)(?:\(([A-Za-z_][\w-]*)\))?$")


def _number(value: Any) -> Any:
    """What a record's value adds up as: currency in minor units, everything else as it is."""
    return getattr(value, "amount_minor", value)


def _group(value: Any) -> Any:
    """A value as a group key: hashable (JSON text for the JSON of an unknown type)."""
    value = _number(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


@dataclass
class _Totals:
    count: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    lows: dict[str, Any] = field(default_factory=dict)
    highs: dict[str, Any] = field(default_factory=dict)


class Aggregator:
    """Running totals of ``specs`` (``"count"``, ``"sum(slug)"``, ...), per group when asked."""

    def __init__(self, specs: Sequence[str], group_by: str | None = None) -> None:
        if not specs:
            raise InvalidArgumentError(
                "aggregate() needs at least one of count, sum(x), avg(x), min(x), max(x)."
            )
        self.specs: list[tuple[str, str, str | None]] = []
        for spec in specs:
            match = _SPEC.match(spec.replace(" ", "")) if isinstance(spec, str) else None
            if match is None or (match.group(1) == "count") == bool(match.group(2)):
                raise InvalidArgumentError(
                    f"Cannot aggregate {spec!r}: use count, sum(slug), avg(slug), min(slug) or max(slug)."
                )
            self.specs.append((spec, match.group(1), match.group(2)))
        self.group_by = group_by
        self._groups: dict[Any, _Totals] = {}
        self._group_by_reference = False

    def check(self, root: str, schema: Schema) -> None:
        """Refuse attributes ``root`` lacks (with the nearest slug), sums and averages of what
        is not a number, and the least or greatest of references, which have no order."""
        for spec, function, slug in self.specs:
            if slug is None:
                continue
            kind = kind_of(slug, schema)
            if kind is None:
                slugs = [*schema, *PSEUDO_OPERATORS]
                raise InvalidArgumentError(
                    f"Cannot aggregate {spec!r}: no attribute {slug!r} on {root!r}.{hint(slug, slugs)}"
                )
            known = kind in TYPE_OPERATORS or kind == "record_id"  # else a type the API added: try
            if function in ("sum", "avg") and known and kind not in NUMERIC:
                raise InvalidArgumentError(
                    f"Cannot aggregate {spec!r}: {slug!r} is {kind}; "
                    f"{function} takes a number, rating or currency attribute."
                )
            if function in ("min", "max") and kind == "record-reference":
                raise InvalidArgumentError(
                    f"Cannot aggregate {spec!r}: {slug!r} is a record reference, which has no order."
                )
        if self.group_by is not None:
            check_readable([self.group_by], root, schema, "group by")
            self._group_by_reference = kind_of(self.group_by, schema) == "record-reference"

    def _key(self, record: Record) -> Any:
        if self.group_by is None:
            return None
        if self._group_by_reference:
            targets = record.references(self.group_by)
            return targets[0][1] if targets else None
        return _group(record.first(self.group_by))

    def add(self, record: Record) -> None:
        key = self._key(record)
        totals = self._groups.setdefault(key, _Totals())
        totals.count += 1
        for _, function, slug in self.specs:
            if slug is None:
                continue
            value = _number(record.first(slug))
            if value is None:
                continue
            if function in ("sum", "avg"):
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise InvalidArgumentError(
                        f"{function}({slug}) needs numbers; record {record.id} has {value!r}."
                    )
                totals.sums[slug] = totals.sums.get(slug, 0) + value
                totals.seen[slug] = totals.seen.get(slug, 0) + 1
            elif function == "min" and (slug not in totals.lows or value < totals.lows[slug]):
                totals.lows[slug] = value
            elif function == "max" and (slug not in totals.highs or value > totals.highs[slug]):
                totals.highs[slug] = value

    def _row(self, totals: _Totals) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for spec, function, slug in self.specs:
            if function == "count":
                row[spec] = totals.count
            elif function == "sum":
                row[spec] = totals.sums.get(slug or "", 0)
            elif function == "avg":
                seen = totals.seen.get(slug or "", 0)
                row[spec] = totals.sums[slug or ""] / seen if seen else None
            elif function == "min":
                row[spec] = totals.lows.get(slug or "")
            else:
                row[spec] = totals.highs.get(slug or "")
        return row

    def result(self) -> dict[str, Any]:
        """``{spec: value}``, or ``{group: {spec: value}}`` with ``group_by``."""
        if self.group_by is None:
            return self._row(self._groups.get(None, _Totals()))
        return {group: self._row(totals) for group, totals in self._groups.items()}
