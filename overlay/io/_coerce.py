"""Turning the cells of one column into what its attribute takes (``Coercer``): multiselect
cells split, properties gathered, transforms applied, each cell read by ``_cells``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._metadata_core import AttributeInfo
from ._cells import (
    CellError,
    Settings,
    checkbox,
    currency,
    date,
    domain,
    email,
    is_empty,
    number,
    option,
    personal_name,
    phone,
    rating,
    reference,
    text_of,
    timestamp,
)

SPLIT = re.compile(r"\s*[;,\n]\s*")
PROPERTIES = {
    "personal-name": ("first_name", "last_name", "full_name"),
    "currency": ("amount", "currency_code"),
    "phone-number": ("country_code",),
}


@dataclass
class Coercer:
    """Cells of one attribute (by property: ``""`` is the attribute itself) → its write value."""

    info: AttributeInfo
    settings: Settings
    unique: dict[str, str] = field(default_factory=dict)  # target object → its unique attribute
    by: str | None = None  # a record reference's lookup attribute (its mapped property)

    def pieces(self, cell: Any, split: str | None) -> list[Any]:
        """A multiselect cell's values: a list as is, text split on ``;``, newlines and commas
        (or on ``split``); an option title containing a comma stays whole."""
        if isinstance(cell, list | tuple):
            return [c for c in cell if not is_empty(c)]
        if not self.info.multiselect or not isinstance(cell, str):
            return [cell]
        text = cell.strip()
        if self.info.options and text in self.info.options:
            return [text]
        parts = text.split(split) if split else SPLIT.split(text)
        return [p.strip() for p in parts if p.strip()]

    def one(self, cell: Any, parts: dict[str, Any]) -> Any:
        kind, info, settings = self.info.type, self.info, self.settings
        if isinstance(cell, str) and len(cell) > settings.max_cell_chars:
            raise CellError(
                f"the cell holds {len(cell):,} characters; a cell holds at most {settings.max_cell_chars:,}"
            )
        if kind == "text":
            return text_of(cell) if not isinstance(cell, list | dict) else str(cell)
        if kind == "number":
            return number(cell, settings)
        if kind == "checkbox":
            return checkbox(cell, settings)
        if kind == "rating":
            return rating(cell, settings)
        if kind == "date":
            return date(cell, settings)
        if kind == "timestamp":
            return timestamp(cell, settings)
        if kind == "currency":
            code = (
                text_of(parts["currency_code"]).upper() if not is_empty(parts.get("currency_code")) else None
            )
            return currency(cell, settings, info.default_currency, code)
        if kind in ("select", "status"):
            return option(cell, info)
        if kind == "email-address":
            return email(cell)
        if kind == "domain":
            return domain(cell)
        if kind == "phone-number":
            country = (
                text_of(parts["country_code"]).upper() if not is_empty(parts.get("country_code")) else None
            )
            return phone(cell, settings, country)
        if kind == "record-reference":
            return reference(cell, info, self.by, self.unique)
        return cell  # a type newer than this SDK: the API judges it

    def value(self, parts: dict[str, Any], splits: dict[str, str | None]) -> Any:
        """The write value from this attribute's cells, or ``None`` when they are all empty."""
        if all(is_empty(v) for v in parts.values()):
            return None
        if self.info.type == "personal-name":
            return personal_name(parts)
        main = parts.get("")
        if main is None and self.info.type == "currency":
            main = parts.get("amount")
        if main is None and self.info.type == "record-reference":
            main = next((v for v in parts.values() if not is_empty(v)), None)
        if is_empty(main):
            return None
        values = [self.one(piece, parts) for piece in self.pieces(main, splits.get(""))]
        if not self.info.multiselect:
            if len(values) > 1:
                raise CellError(f"{len(values)} values for {self.info.slug!r}, which holds one")
            return values[0]
        return values


Transform = Callable[[Any], Any]
TRANSFORMS: dict[str, Transform] = {
    "strip": lambda v: v.strip() if isinstance(v, str) else v,
    "lower": lambda v: v.lower() if isinstance(v, str) else v,
    "upper": lambda v: v.upper() if isinstance(v, str) else v,
    "title": lambda v: v.title() if isinstance(v, str) else v,
    "digits": lambda v: re.sub(r"\D", "", v) if isinstance(v, str) else v,
}


def transform_of(given: str | Transform | Sequence[str] | None) -> Transform | None:
    """A named transform (``strip``, ``lower``, ``upper``, ``title``, ``digits``, or several
    joined by ``|``) or a function of one cell."""
    if given is None or callable(given):
        return given
    names = given.split("|") if isinstance(given, str) else list(given)
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        raise CellError(f"unknown transform {unknown[0]!r}; transforms: {', '.join(TRANSFORMS)}")
    steps = [TRANSFORMS[n] for n in names]

    def chained(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chained
