"""The import plan: which column feeds which attribute, and how a row becomes a record's values.

A plan is built once per import from the file's columns and the object's attributes.
Columns are mapped explicitly (``{"E-mail": "email_addresses"}``, ``"name.first_name"``
for a property, a ``Column`` for a split or a transform) or by header, matched against
attribute slugs and titles. A column that maps to nothing stops the import before any
row is read, naming the column and the nearest attribute.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import InvalidArgumentError, MappingError
from .._metadata_core import AttributeInfo, hint, nearest
from ._cells import CellError, Settings, is_empty
from ._coerce import PROPERTIES, Coercer, transform_of
from ._options import date_formats_of
from ._table import ERROR_COLUMN, ROW_COLUMN, Row, column_letter
from ._write import unescape_formula

# Columns an import skips unless mapped: the importer's own error-file columns, and the
# record id an export writes first (a new workspace has other ids).
SKIPPED = frozenset({ROW_COLUMN, ERROR_COLUMN, "record_id", "created_at", "updated_at"})


@dataclass(frozen=True)
class Column:
    """How one column maps: to ``attribute`` (``"slug"`` or ``"slug.property"``), with an
    optional ``split`` for multiselect cells, a ``transform`` (a function, or ``"lower"``,
    ``"strip"``, ``"upper"``, ``"title"``, ``"digits"``, joined by ``|``) and date
    ``formats`` (``"%d/%m/%Y"``) tried before the usual ones."""

    attribute: str
    split: str | None = None
    transform: str | Callable[[Any], Any] | None = None
    formats: tuple[str, ...] = ()


Mapped = str | Column


Problem = tuple[str | None, str]  # the column to blame (if one is) and why


class RowError(Exception):
    """A row that cannot become an item: ``column`` (if one is to blame) and why.
    ``problems`` lists every problem of the row (the first is ``column``, ``reason``)."""

    def __init__(self, column: str | None, reason: str, problems: Sequence[Problem] = ()) -> None:
        self.column = column
        self.reason = reason
        self.problems: list[Problem] = list(problems) or [(column, reason)]
        super().__init__(reason)

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> RowError:
        """One error for all of a row's problems, their reasons joined by ``; ``."""
        return cls(problems[0][0], "; ".join(reason for _, reason in problems), problems)


_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_in(value: Any) -> str | None:
    """The first lone surrogate in a cell (text, or text inside lists and mappings), if any:
    text that is not Unicode and cannot be encoded to send."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return found.group() if found else None
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        return next((s for s in map(surrogate_in, value) if s is not None), None)
    return None


def not_unicode(column: str, surrogate: str) -> str:
    return (
        f"column {column!r} holds a lone surrogate (U+{ord(surrogate):04X}), "
        "which is not Unicode text and cannot be sent"
    )


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def parse_map(specs: Iterable[str]) -> dict[str, str]:
    """``["E-mail=email_addresses", "First=name.first_name|strip"]`` → a mapping (for the CLI)."""
    mapping: dict[str, str] = {}
    for spec in specs:
        column, sep, attribute = spec.rpartition("=")
        if not sep or not column or not attribute:
            raise MappingError(None, f"--map takes COLUMN=ATTRIBUTE, got {spec!r}.")
        mapping[column] = attribute
    return mapping


@dataclass
class Target:
    column: str
    slug: str
    prop: str
    split: str | None
    transform: Callable[[Any], Any] | None
    settings: Settings


@dataclass
class Plan:
    """Columns → attributes for one import, and the conversion of each row."""

    object: str
    attributes: dict[str, AttributeInfo]
    columns: list[str]
    settings: Settings
    match: str | None = None
    unescape: bool = False  # undo the formula escaping of CSV and Excel exports
    targets: list[Target] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)
    coercers: dict[str, Coercer] = field(default_factory=dict)
    splits: dict[str, str | None] = field(default_factory=dict)
    known: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        object: str,
        attributes: Mapping[str, AttributeInfo],
        columns: Sequence[str],
        *,
        mapping: Mapping[str, Mapped] | None = None,
        constants: Mapping[str, Any] | None = None,
        ignore: Iterable[str] = (),
        unmapped: str = "error",
        match: str | None = None,
        settings: Settings | None = None,
        unique: Mapping[str, str] | None = None,
        unescape: bool = False,
    ) -> Plan:
        if unmapped not in ("error", "ignore"):
            raise MappingError(None, f"unmapped is 'error' or 'ignore', got {unmapped!r}.")
        writable = {slug: a for slug, a in attributes.items() if a.writable}
        plan = cls(object, dict(writable), list(columns), settings or Settings(), match, unescape)
        mapping = dict(mapping or {})
        for column, target in mapping.items():
            if not isinstance(target, str | Column) or not (
                target.attribute if isinstance(target, Column) else target
            ):
                raise MappingError(
                    column,
                    f"mapping[{column!r}] is an attribute slug (or a Column), got {type(target).__name__} "
                    f"{target!r}.",
                )
        if isinstance(ignore, str):
            raise MappingError(ignore, f"ignore is a list of column names, got the text {ignore!r}.")
        ignore = set(ignore)
        for column in [*mapping, *ignore]:
            if column not in columns:
                raise MappingError(
                    column, f"The file has no column {column!r}.{hint(column, columns, 'Columns')}"
                )
        unknown: list[str] = []
        for column in columns:
            if column in ignore or (column in SKIPPED and column not in mapping):
                plan.ignored.append(column)
                continue
            given = mapping.get(column) or plan._auto(column)
            if given is None:
                if unmapped == "ignore":
                    plan.ignored.append(column)
                else:
                    unknown.append(column)
                continue
            plan._add(column, given if isinstance(given, Column) else Column(given))
        if unknown:
            raise plan._unmapped_error(unknown)
        plan._check_repeats()
        for slug, value in (constants or {}).items():
            plan._constant(slug, value)
        if match is not None:
            plan._check_match(match)
        for slug, info in writable.items():
            by = next((t.prop for t in plan.targets if t.slug == slug and t.prop), None)
            plan.coercers[slug] = Coercer(info, plan.settings, dict(unique or {}), by)
            plan.splits[slug] = next((t.split for t in plan.targets if t.slug == slug and t.split), None)
        plan.known = frozenset(columns)
        return plan

    # ------------------------------------------------------------------ mapping

    def _auto(self, column: str) -> str | None:
        """The attribute (or ``slug.property``) a header names, if exactly one fits."""
        wanted = _norm(column)
        if not wanted:
            return None
        names: dict[str, set[str]] = {}
        for slug, info in self.attributes.items():
            for name in (slug, info.title):
                names.setdefault(_norm(name), set()).add(slug)
            for prop in PROPERTIES.get(info.type, ()):
                names.setdefault(_norm(f"{slug}.{prop}"), set()).add(f"{slug}.{prop}")
                names.setdefault(_norm(f"{info.title} {prop}"), set()).add(f"{slug}.{prop}")
        people = [s for s, a in self.attributes.items() if a.type == "personal-name"]
        if len(people) == 1:
            for prop in ("first_name", "last_name"):
                names.setdefault(_norm(prop), set()).add(f"{people[0]}.{prop}")
        exact = names.get(wanted, set())
        if len(exact) == 1:
            return next(iter(exact))
        if len(wanted) >= 3:
            starts = {t for name, found in names.items() if name.startswith(wanted) for t in found}
            starts |= {
                t
                for name, found in names.items()
                if wanted.startswith(name) and len(name) >= 4
                for t in found
            }
            whole = {t for t in starts if "." not in t}  # "phone": the attribute, not its properties
            for found in (starts, whole):
                if len(found) == 1:
                    return next(iter(found))
        close = difflib.get_close_matches(wanted, list(names), n=2, cutoff=0.85)
        hits = {t for name in close for t in names[name]}
        return next(iter(hits)) if len(hits) == 1 else None

    def _unmapped_error(self, unknown: list[str]) -> MappingError:
        lines = []
        for column in unknown:
            letter = column_letter(self.columns.index(column))
            guess = nearest(column, [*self.attributes, *(a.title for a in self.attributes.values())])
            slug = next((s for s, a in self.attributes.items() if guess in (s, a.title)), None)
            suggestion = f" Did you mean {slug!r}?" if slug else ""
            lines.append(f"column {column!r} ({letter}) matches no attribute of {self.object}.{suggestion}")
        first = unknown[0]
        return MappingError(
            first,
            " ".join(lines)
            + f" Map a column (mapping={{{first!r}: 'attribute'}}, --map '{first}=attribute') or leave it out"
            + f" (ignore=[{first!r}], --ignore '{first}'). Attributes: {', '.join(sorted(self.attributes))}.",
        )

    def _add(self, column: str, spec: Column) -> None:
        slug, _, prop = spec.attribute.partition(".")
        info = self.attributes.get(slug)
        if info is None:
            raise MappingError(
                column,
                f"Column {column!r} maps to {slug!r}, which is not a writable attribute of {self.object}."
                + hint(slug, self.attributes, "Attributes"),
            )
        allowed = PROPERTIES.get(info.type, ())
        if prop and info.type != "record-reference" and prop not in allowed:
            known = ", ".join(allowed) if allowed else "none"
            raise MappingError(
                column, f"{slug!r} ({info.type}) has no property {prop!r}; properties: {known}."
            )
        try:
            transform = transform_of(spec.transform)
        except CellError as exc:
            raise MappingError(column, f"Column {column!r}: {exc}.") from None
        settings = self.settings
        if spec.formats:
            try:
                formats = date_formats_of(spec.formats, "formats")
            except InvalidArgumentError as exc:
                raise MappingError(column, f"Column {column!r}: {exc}") from None
            settings = replace(settings, date_formats=(*formats, *settings.date_formats))
        self.targets.append(Target(column, slug, prop, spec.split, transform, settings))

    def _check_repeats(self) -> None:
        by_target: dict[tuple[str, str], list[str]] = {}
        for target in self.targets:
            by_target.setdefault((target.slug, target.prop), []).append(target.column)
        for (slug, prop), columns in by_target.items():
            if len(columns) > 1 and not self.attributes[slug].multiselect:
                name = f"{slug}.{prop}" if prop else slug
                raise MappingError(
                    columns[1],
                    f"Columns {', '.join(map(repr, columns))} all map to {name!r}, which holds one value.",
                )

    def _constant(self, slug: str, value: Any) -> None:
        info = self.attributes.get(slug)
        if info is None:
            raise MappingError(None, f"constants names {slug!r}.{hint(slug, self.attributes, 'Attributes')}")
        surrogate = surrogate_in(value)
        if surrogate is not None:
            raise MappingError(None, f"constants[{slug!r}]: {not_unicode(slug, surrogate)}.")
        try:
            self.constants[slug] = Coercer(info, self.settings).value({"": value}, {})
        except CellError as exc:
            raise MappingError(None, f"constants[{slug!r}]: {exc}.") from None

    def _check_match(self, match: str) -> None:
        if not isinstance(match, str):
            raise MappingError(
                None, f"match names a unique attribute by its slug, got {type(match).__name__}."
            )
        info = self.attributes.get(match)
        if info is None:
            raise MappingError(None, f"match names {match!r}.{hint(match, self.attributes, 'Attributes')}")
        if not info.unique:
            uniques = sorted(s for s, a in self.attributes.items() if a.unique)
            raise MappingError(
                None,
                f"match={match!r} is not a unique attribute of {self.object}; "
                f"unique: {', '.join(uniques) or 'none'}.",
            )
        if not any(t.slug == match for t in self.targets) and match not in self.constants:
            raise MappingError(None, f"match={match!r}, but no column maps to it.")

    def describe(self) -> dict[str, str]:
        """Column → ``slug`` or ``slug.property``, as mapped."""
        return {t.column: f"{t.slug}.{t.prop}" if t.prop else t.slug for t in self.targets}

    # ------------------------------------------------------------------ rows

    def values(self, row: Row) -> dict[str, Any]:
        """The row as a record's write values; ``RowError`` lists every column that is wrong and why."""
        values, problems = self.convert(row)
        if problems:
            raise RowError.of(problems)
        return values

    def convert(self, row: Row) -> tuple[dict[str, Any], list[Problem]]:
        """The values of the row's good cells, and every problem of the others."""
        cells = row.cells
        if cells is None:
            return {}, [(row.column, row.problem or "the row cannot be read")]
        problems: list[Problem] = [
            (c, f"column {c!r} is not in the header and maps to no attribute")
            for c in cells
            if c not in self.known
        ]
        grouped: dict[str, dict[str, Any]] = {}
        columns: dict[str, str] = {}
        failed: set[str] = set()
        for target in self.targets:
            cell = cells.get(target.column)
            surrogate = surrogate_in(cell)
            if surrogate is not None:
                problems.append((target.column, not_unicode(target.column, surrogate)))
                failed.add(target.slug)
                continue
            if isinstance(cell, str) and self.unescape:
                cell = unescape_formula(cell)
            if target.transform is not None and not is_empty(cell):
                try:
                    cell = target.transform(cell)
                except Exception as exc:  # a caller's function: its failure is this row's
                    reason = f"column {target.column!r}: the transform failed: {exc!r}"
                    problems.append((target.column, reason))
                    failed.add(target.slug)
                    continue
            parts = grouped.setdefault(target.slug, {})
            columns.setdefault(target.slug, target.column)
            if target.prop in parts and not is_empty(cell):  # several columns into one multiselect
                before = parts[target.prop]
                parts[target.prop] = [*(before if isinstance(before, list) else [before]), cell]
            elif target.prop not in parts or is_empty(parts[target.prop]):
                parts[target.prop] = cell
        values: dict[str, Any] = {}
        for slug, parts in grouped.items():
            if slug in failed:
                continue
            try:
                value = self.coercers[slug].value(parts, {"": self.splits[slug]})
            except CellError as exc:
                column = columns[slug]
                problems.append((column, f"column {column!r} ({slug}): {exc}"))
                failed.add(slug)
                continue
            if value is not None and value != []:
                values[slug] = value
        for slug, value in self.constants.items():
            if slug not in failed:
                values.setdefault(slug, value)
        problems.sort(key=lambda problem: self.position(problem[0]))
        return values, problems

    def position(self, column: str | None) -> int:
        """Where a column is in the file (for listing a row's problems in order)."""
        return self.columns.index(column) if column in self.columns else len(self.columns)
