"""Sorts from short keys, and aggregates the API cannot compute, folded record by record.

``order_by("-created_at", "name.last_name")``: a leading ``-`` sorts descending, a dot
names a property. ``aggregate("count", "avg(rating)", "max(created_at)", group_by="stage")``
streams every matching record once and keeps only the running totals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import InvalidArgumentError
from .._records import Record

_SPEC = re.compile(r"^(count|sum|avg|min|max)(?:\(([A-Za-z_][\w-]*)\))?$")
_SORT = re.compile(r"^(-?)([A-Za-z_][\w-]*)(?:\.([a-z][a-z0-9_]*))?$")


def sorts_of(keys: Sequence[str]) -> list[dict[str, str]]:
    """The API's sorts for ``"-created_at"``-style keys."""
    sorts: list[dict[str, str]] = []
    for key in keys:
        match = _SORT.match(key)
        if match is None:
            raise InvalidArgumentError(
                f"Cannot sort by {key!r}: use 'slug', '-slug' (descending) or 'slug.property'."
            )
        descending, attribute, prop = match.groups()
        sort = {"attribute": attribute, "direction": "desc" if descending else "asc"}
        if prop:
            sort["field"] = prop
        sorts.append(sort)
    return sorts


def _number(value: Any) -> Any:
    """What a record's value adds up as: currency in minor units, everything else as it is."""
    return getattr(value, "amount_minor", value)


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
            match = _SPEC.match(spec.replace(" ", ""))
            if match is None or (match.group(1) == "count") == bool(match.group(2)):
                raise InvalidArgumentError(
                    f"Cannot aggregate {spec!r}: use count, sum(slug), avg(slug), min(slug) or max(slug)."
                )
            self.specs.append((spec, match.group(1), match.group(2)))
        self.group_by = group_by
        self._groups: dict[Any, _Totals] = {}

    def add(self, record: Record) -> None:
        key = _number(record.first(self.group_by)) if self.group_by else None
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
