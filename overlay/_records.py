"""Records that are pleasant to read: ``rec["name"]``, ``rec.first(...)``, ``rec.all(...)``.

A record's values arrive as typed value objects (``PersonalNameValue``, ``SelectValue``,
...). Reading one gives its plain Python value: the text, number, date or flag itself,
an email address, a domain, a phone number, a full name, a select option's or status's
title. A currency value stays a ``CurrencyValue`` (amount in minor units and code). A
record reference reads as its target's record id (as an export writes it), or, for an
attribute the query asked to ``include``, as the referenced ``Record`` (``None`` when that
record no longer exists). Values of types this client does not know give their JSON.
The pseudo-attributes ``record_id``, ``created_at`` and ``updated_at`` read like
attributes (unless the object has a real attribute of that name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from ._errors import ResponseParseError

if TYPE_CHECKING:
    from crm_client.models.record import Record as RecordModel

_MISSING: Any = object()

# What every record has besides its attributes, readable (and filterable, sortable) like them.
PSEUDO_ATTRIBUTES = ("record_id", "created_at", "updated_at")


# Where each attribute type keeps its plain value: a path of fields, the same in the typed
# value objects and in the API's JSON. Currency and record references have none (they
# stay whole); every other known type keeps it in ``value``.
PLAIN_PATHS: dict[str, tuple[str, ...]] = {
    "select": ("option", "title"),
    "status": ("status", "title"),
    "email-address": ("email_address",),
    "domain": ("domain",),
    "phone-number": ("phone_number",),
    "personal-name": ("full_name",),
    "currency": (),
    "record-reference": (),
}


def plain(value: Any) -> Any:
    """The plain Python value of one attribute value object."""
    kind = getattr(value, "attribute_type", None)
    if kind is None:  # UnknownVariant
        return value.data if hasattr(value, "data") else value
    for name in PLAIN_PATHS.get(kind, ("value",)):
        value = getattr(value, name)
    return value


class Record:
    """One record: its id, its values, and the request it came in.

    ``rec["slug"]`` is the plain first value (``KeyError`` if the record has no such
    attribute); ``rec.first(slug)`` the same or a default; ``rec.all(slug)`` every value;
    ``rec.values(slug)`` the typed value objects; ``rec.raw`` the generated model.

    A record read from a query page keeps its JSON and parses an attribute's values the
    first time they are read (``rec.raw`` parses all of it), so paging through records
    costs little more than the JSON itself.
    """

    __slots__ = ("_data", "_included", "_included_slugs", "_model", "_parsed", "object", "request_id")

    def __init__(
        self, raw: RecordModel | dict[str, Any], request_id: str | None = None, object: str | None = None
    ) -> None:
        self._model: RecordModel | None = None if isinstance(raw, dict) else raw
        self._data: dict[str, Any] | None = raw if isinstance(raw, dict) else None
        self._parsed: dict[str, list[Any]] = {}
        self.request_id = request_id
        self.object = object  # the object's slug, when the record was fetched through it
        self._included: dict[tuple[str, str], Record] = {}
        self._included_slugs: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: Any, request_id: str | None = None, object: str | None = None) -> Record:
        """A record from its JSON, checked for the shape every record has (id, values)."""
        try:
            if type(data["values"]) is dict and type(data["id"]["record_id"]) is str and "created_at" in data:
                return cls(data, request_id, object)
        except (KeyError, TypeError):
            pass
        reason = "expected an object with id.record_id, created_at and values"
        raise ResponseParseError("Record", reason, request_id=request_id)

    def _fail(self, exc: Exception) -> ResponseParseError:
        return ResponseParseError.from_exception("Record", exc, request_id=self.request_id)

    @property
    def raw(self) -> RecordModel:
        """The generated model of the whole record (parsed on first use)."""
        if self._model is None:
            from crm_client.models import Record as RecordModel

            try:
                self._model = RecordModel.from_dict(self._data or {})
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise self._fail(exc) from None
        return self._model

    def __repr__(self) -> str:
        name = self.first("name", None)
        label = f" {name!r}" if isinstance(name, str) else ""
        return f"<Record {self.object or self.object_id}/{self.id}{label}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def id(self) -> str:
        return str(self._data["id"]["record_id"]) if self._data is not None else self.raw.id.record_id

    @property
    def object_id(self) -> str:
        return str(self._data["id"].get("object_id")) if self._data is not None else self.raw.id.object_id

    @property
    def created_at(self) -> dt.datetime:
        if self._data is None:
            return self.raw.created_at
        moment = self._moment("created_at")
        if moment is None:
            raise self._fail(KeyError("created_at"))
        return moment

    @property
    def updated_at(self) -> dt.datetime | None:
        """When the record or any of its values last changed (``None`` if the API did not say)."""
        if self._data is not None:
            return self._moment("updated_at")
        found = self.raw.updated_at
        return found if isinstance(found, dt.datetime) else None

    def _moment(self, key: str) -> dt.datetime | None:
        text = (self._data or {}).get(key)
        if text is None:
            return None
        try:
            return dt.datetime.fromisoformat(text)
        except (TypeError, ValueError) as exc:
            raise self._fail(exc) from None

    def _pseudo(self, slug: str) -> list[Any] | None:
        """A pseudo-attribute's value as a list (empty when the API did not send it), or
        ``None`` when ``slug`` is not one (or the object has a real attribute so named)."""
        if slug not in PSEUDO_ATTRIBUTES or slug in self._values():
            return None
        if slug == "record_id":
            return [self.id]
        moment = self.created_at if slug == "created_at" else self.updated_at
        return [] if moment is None else [moment]

    def _values(self) -> Mapping[str, Any]:
        if self._data is not None:
            values: dict[str, Any] = self._data["values"]
            return values
        return self.raw.values.additional_properties

    def slugs(self) -> list[str]:
        """The attribute slugs this record has values for."""
        return list(self._values())

    def __contains__(self, slug: object) -> bool:
        """Whether ``rec[slug]`` can be read: an attribute of the record, or a pseudo-attribute."""
        return slug in self._values() or (isinstance(slug, str) and bool(self._pseudo(slug)))

    def values(self, slug: str) -> list[Any]:
        """The typed value objects of one attribute (empty if none; pseudo-attributes have none)."""
        if self._data is None:
            return list(self.raw.values.additional_properties.get(slug, ()))
        parsed = self._parsed.get(slug)
        if parsed is None:
            items = self._data["values"].get(slug)
            if not items:
                parsed = []
            else:
                from crm_client.models import RecordValues

                try:
                    parsed = RecordValues.from_dict({slug: items}).additional_properties[slug]
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise self._fail(exc) from None
            self._parsed[slug] = parsed
        return list(parsed)

    def _plain(self, slug: str, value: Any) -> Any:
        if getattr(value, "attribute_type", None) == "record-reference":
            if slug in self._included_slugs:  # None: the referenced record no longer exists
                return self._included.get((value.target_object, value.target_record_id))
            return value.target_record_id
        return plain(value)

    def all(self, slug: str) -> list[Any]:
        """The plain values of one attribute (or pseudo-attribute), in the API's order."""
        pseudo = self._pseudo(slug)
        if pseudo is not None:
            return pseudo
        return [self._plain(slug, v) for v in self.values(slug)]

    def first(self, slug: str, default: Any = None) -> Any:
        """The plain first value of one attribute (or pseudo-attribute), or ``default``."""
        pseudo = self._pseudo(slug)
        if pseudo is not None:
            return pseudo[0] if pseudo else default
        values = self.values(slug)
        return self._plain(slug, values[0]) if values else default

    def __getitem__(self, slug: str) -> Any:
        value = self.first(slug, _MISSING)
        if value is _MISSING:
            raise KeyError(slug)
        return value

    def references(self, slug: str) -> list[tuple[str, str]]:
        """``(object, record_id)`` of each record an attribute refers to."""
        return [
            (v.target_object, v.target_record_id)
            for v in self.values(slug)
            if getattr(v, "attribute_type", None) == "record-reference"
        ]

    def include(self, slugs: Iterable[str], found: dict[tuple[str, str], Record]) -> None:
        """Attach the records (``(object, record_id)`` → Record) fetched for ``include=slugs``:
        those attributes then read as records, or ``None`` for a target that was not found."""
        self._included_slugs |= frozenset(slugs)
        self._included.update(found)

    def to_dict(self) -> dict[str, Any]:
        """The record as the API sends it (JSON-ready: ids, ``created_at``, typed values)."""
        return dict(self._data) if self._data is not None else self.raw.to_dict()


class RecordList(list[Record]):
    """A list of records with the look-ups a caller reaches for first."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> RecordList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Record | RecordList:
        if isinstance(index, slice):
            return RecordList(super().__getitem__(index))
        return super().__getitem__(index)

    def pluck(self, slug: str, default: Any = None) -> list[Any]:
        """The plain first value of ``slug`` of every record, in order."""
        return [record.first(slug, default) for record in self]

    def find_by(self, **criteria: Any) -> Record | None:
        """The first record where, for every ``slug=value``, one of its plain values equals it."""
        for record in self:
            if all(value in record.all(slug) for slug, value in criteria.items()):
                return record
        return None

    def by_id(self) -> dict[str, Record]:
        """The records keyed by record id."""
        return {record.id: record for record in self}


def references(records: Iterable[Record], slugs: Sequence[str]) -> dict[str, set[str]]:
    """The record ids the ``slugs`` of ``records`` refer to, grouped by target object."""
    targets: dict[str, set[str]] = {}
    for record in records:
        for slug in slugs:
            for target_object, record_id in record.references(slug):
                targets.setdefault(target_object, set()).add(record_id)
    return targets


def chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
