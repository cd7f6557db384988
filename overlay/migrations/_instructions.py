"""What one version change does to payloads, as data: each instruction knows both directions.

An instruction names the schema it applies to; ``up`` turns an instance of the older
version into the newer one and ``down`` goes back, both in place. ``lossless`` says
whether ``down(up(x)) == x`` for every valid ``x``. Endpoint, pagination, error and
signing instructions describe what the transport and the sandbox do; they change no
schema instance here, except the error body, which is a payload too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError

Obj = dict[str, Any]
Convert = Callable[[Any, Obj], Any]  # (value, the object holding it) -> converted value


class MigrationDefinitionError(ConfigurationError):
    """A version change is declared wrongly; raised when its class is defined."""


def _need(condition: bool, instruction: object, problem: str) -> None:
    if not condition:
        raise MigrationDefinitionError(f"{type(instruction).__name__}: {problem}")


def _name(value: object) -> bool:
    return isinstance(value, str) and bool(value) and value.strip() == value


@dataclass(frozen=True)
class Instruction:
    """Base of every instruction."""

    lossless = True

    def validate(self) -> None:
        """Raise MigrationDefinitionError if the instruction is declared wrongly."""


@dataclass(frozen=True)
class SchemaInstruction(Instruction):
    """A change to instances of ``schema`` (a component schema's name)."""

    schema: str

    def validate(self) -> None:
        _need(_name(self.schema), self, f"schema must be a schema name, got {self.schema!r}")

    def up(self, obj: Obj) -> None:
        """Older → newer, in place."""

    def down(self, obj: Obj) -> None:
        """Newer → older, in place."""

    def upgrade(self, value: Any, status: int | None = None) -> Any:
        """``value`` (an instance of ``schema``) as of the newer version; objects change in place.
        ``status`` is the HTTP status when ``value`` is a response body."""
        if isinstance(value, dict):
            self.up(value)
        return value

    def downgrade(self, value: Any) -> Any:
        """``value`` as of the older version; objects change in place."""
        if isinstance(value, dict):
            self.down(value)
        return value


@dataclass(frozen=True)
class FieldRenamed(SchemaInstruction):
    old: str
    new: str

    def validate(self) -> None:
        super().validate()
        _need(_name(self.old) and _name(self.new), self, "old and new must be field names")
        _need(self.old != self.new, self, f"renames {self.old!r} to itself")

    def up(self, obj: Obj) -> None:
        if self.old in obj:
            obj[self.new] = obj.pop(self.old)

    def down(self, obj: Obj) -> None:
        if self.new in obj:
            obj[self.old] = obj.pop(self.new)


@dataclass(frozen=True)
class FieldAdded(SchemaInstruction):
    """A new field; ``default`` fills it when upgrading (a value, or a function of the object)."""

    name: str
    default: Any = None

    def validate(self) -> None:
        super().validate()
        _need(_name(self.name), self, "name must be a field name")

    def up(self, obj: Obj) -> None:
        if self.name not in obj:
            obj[self.name] = self.default(obj) if callable(self.default) else self.default

    def down(self, obj: Obj) -> None:
        obj.pop(self.name, None)


@dataclass(frozen=True)
class FieldRemoved(SchemaInstruction):
    """A field dropped; ``reconstruct`` rebuilds it from the rest when downgrading, if it can."""

    name: str
    reconstruct: Callable[[Obj], Any] | None = None

    def validate(self) -> None:
        super().validate()
        _need(_name(self.name), self, "name must be a field name")
        _need(self.reconstruct is None or callable(self.reconstruct), self, "reconstruct must be callable")

    @property
    def lossless(self) -> bool:  # type: ignore[override]
        return self.reconstruct is not None

    def up(self, obj: Obj) -> None:
        obj.pop(self.name, None)

    def down(self, obj: Obj) -> None:
        if self.reconstruct is not None and self.name not in obj:
            obj[self.name] = self.reconstruct(obj)


@dataclass(frozen=True)
class FieldTypeChanged(SchemaInstruction):
    """A field whose type changed: ``to_new`` and ``to_old`` convert its value (None stays None)."""

    name: str
    to_new: Convert
    to_old: Convert
    exact: bool = False  # to_old(to_new(v)) == v for every old value

    def validate(self) -> None:
        super().validate()
        _need(_name(self.name), self, "name must be a field name")
        _need(callable(self.to_new) and callable(self.to_old), self, "needs converters both ways")

    @property
    def lossless(self) -> bool:  # type: ignore[override]
        return self.exact

    def up(self, obj: Obj) -> None:
        if obj.get(self.name) is not None:
            obj[self.name] = self.to_new(obj[self.name], obj)

    def down(self, obj: Obj) -> None:
        if obj.get(self.name) is not None:
            obj[self.name] = self.to_old(obj[self.name], obj)


@dataclass(frozen=True)
class EnumValuesRenamed(SchemaInstruction):
    """Values of an enum renamed (``{old: new}``): of ``field`` in ``schema``'s objects, or,
    with no field, wherever the enum schema itself is used."""

    mapping: Mapping[str, str]
    field: str | None = None
    _back: Mapping[str, str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_back", {new: old for old, new in dict(self.mapping).items()})

    def validate(self) -> None:
        super().validate()
        _need(bool(self.mapping), self, "mapping is empty")
        _need(len(self._back) == len(self.mapping), self, "two old values map to one new value")
        _need(all(_name(k) and _name(v) and k != v for k, v in self.mapping.items()), self, "bad value")

    def upgrade(self, value: Any, status: int | None = None) -> Any:
        if self.field is None:  # the enum schema itself: value is one of its values
            return self.mapping.get(value, value) if isinstance(value, str) else value
        return super().upgrade(value)

    def downgrade(self, value: Any) -> Any:
        if self.field is None:
            return self._back.get(value, value) if isinstance(value, str) else value
        return super().downgrade(value)

    def up(self, obj: Obj) -> None:
        if self.field in obj:
            obj[self.field] = self.mapping.get(obj[self.field], obj[self.field])

    def down(self, obj: Obj) -> None:
        if self.field in obj:
            obj[self.field] = self._back.get(obj[self.field], obj[self.field])


@dataclass(frozen=True)
class EnumValuesAdded(SchemaInstruction):
    """New values of an enum, each read as an older value that the older version has
    (``{new: older}``): of ``field`` in ``schema``'s objects, or, with no field, wherever
    the enum schema itself is used. Upgrading changes nothing."""

    fallbacks: Mapping[str, str]
    field: str | None = None

    def validate(self) -> None:
        super().validate()
        _need(bool(self.fallbacks), self, "fallbacks is empty")
        _need(all(_name(k) and _name(v) and k != v for k, v in self.fallbacks.items()), self, "bad value")

    def upgrade(self, value: Any, status: int | None = None) -> Any:
        return value if self.field is None else super().upgrade(value)

    def downgrade(self, value: Any) -> Any:
        if self.field is None:
            return self.fallbacks.get(value, value) if isinstance(value, str) else value
        return super().downgrade(value)

    def down(self, obj: Obj) -> None:
        if self.field in obj and isinstance(obj[self.field], str):
            obj[self.field] = self.fallbacks.get(obj[self.field], obj[self.field])


@dataclass(frozen=True)
class ItemsExpanded(SchemaInstruction):
    """Items of the array ``field`` that the newer version writes in a shorter form:
    downgrading replaces each with ``expand(item)``, the items that mean the same at the
    older version (``[item]`` keeps it). ``changes`` names the item fields
    (``"Schema.field"``) whose newer values this carries. Upgrading changes nothing."""

    field: str
    expand: Callable[[Any], list[Any]]
    changes: tuple[str, ...] = ()

    def validate(self) -> None:
        super().validate()
        _need(_name(self.field), self, "field must be a field name")
        _need(callable(self.expand), self, "expand must be callable")
        _need(all(_name(c) and "." in c for c in self.changes), self, "changes are Schema.field names")

    def down(self, obj: Obj) -> None:
        items = obj.get(self.field)
        if isinstance(items, list):
            obj[self.field] = [out for item in items for out in self.expand(item)]


@dataclass(frozen=True)
class FieldsNested(SchemaInstruction):
    """Flat fields gathered into one object: ``{old flat name: name inside}`` under ``into``."""

    fields: Mapping[str, str]
    into: str

    def validate(self) -> None:
        super().validate()
        _need(_name(self.into), self, "into must be a field name")
        _need(len(self.fields) >= 1, self, "nests no field")
        inner = list(self.fields.values())
        _need(len(set(inner)) == len(inner), self, "two fields nest under one name")

    def up(self, obj: Obj) -> None:
        if any(flat in obj for flat in self.fields):
            obj[self.into] = {inner: obj.pop(flat) for flat, inner in self.fields.items() if flat in obj}

    def down(self, obj: Obj) -> None:
        nested = obj.pop(self.into, None)
        if isinstance(nested, dict):
            for flat, inner in self.fields.items():
                if inner in nested:
                    obj[flat] = nested[inner]


@dataclass(frozen=True)
class ErrorShapeChanged(SchemaInstruction):
    """The error body's shape: ``to_new(body, status)`` and ``to_old(body)``. The HTTP status
    is None for an error inside a payload (a batch item's); ``to_new`` then infers it."""

    to_new: Callable[[Obj, int | None], Obj]
    to_old: Callable[[Obj], Obj]

    lossless = False  # the older shape has fewer fields

    def validate(self) -> None:
        super().validate()
        _need(callable(self.to_new) and callable(self.to_old), self, "needs converters both ways")

    def upgrade(self, value: Any, status: int | None = None) -> Any:
        return self.to_new(value, status) if isinstance(value, dict) else value

    def up(self, obj: Obj) -> None:
        new = self.to_new(obj, None)
        obj.clear()
        obj.update(new)

    def down(self, obj: Obj) -> None:
        old = self.to_old(obj)
        obj.clear()
        obj.update(old)


@dataclass(frozen=True)
class EndpointMoved(Instruction):
    """An operation's method or path changed."""

    operation: str
    old: tuple[str, str]  # (method, path template)
    new: tuple[str, str]

    def validate(self) -> None:
        _need(_name(self.operation), self, "operation must be an operation id")
        for method, path in (self.old, self.new):
            _need(method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}, self, f"bad method {method!r}")
            _need(path.startswith("/"), self, f"bad path {path!r}")
        _need(self.old != self.new, self, "moves nowhere")


@dataclass(frozen=True)
class EndpointAdded(Instruction):
    """A new operation; calling it at an older version is an error the client raises."""

    operation: str

    def validate(self) -> None:
        _need(_name(self.operation), self, "operation must be an operation id")


@dataclass(frozen=True)
class PaginationChanged(Instruction):
    """List operations paged one way in the older version and another in the newer."""

    operations: tuple[str, ...]
    old: str = "offset"
    new: str = "cursor"

    def validate(self) -> None:
        _need(bool(self.operations), self, "names no operation")
        _need({self.old, self.new} == {"offset", "cursor"}, self, "styles are offset and cursor")


@dataclass(frozen=True)
class SigningChanged(Instruction):
    """How webhook deliveries are signed, by the subscription's version."""

    old: str = "crm-signature"
    new: str = "standard-webhooks"

    def validate(self) -> None:
        _need(self.old != self.new and {self.old, self.new} <= {"crm-signature", "standard-webhooks"}, self,
              "schemes are crm-signature and standard-webhooks")  # fmt: skip
