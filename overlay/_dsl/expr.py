"""Filter expressions in Python, compiled to the API's filter language (and read back from it).

    from overlay import F

    F.name.contains("ada") & (F.rating >= 3) | ~F.email_addresses.email_domain.eq("spam.com")
    F.company.via("companies").name.starts_with("Ac")          # a path through a reference
    F.created_at >= "2026-01-01"                                # record_id, created_at, updated_at

Expressions are immutable values: ``to_filter()`` gives the API's JSON, ``from_filter()``
reads it back, two expressions are equal when their JSON is, and ``repr()`` is Python that
builds the same expression. ``&`` and ``|`` flatten: ``a & (b & c)`` is ``a & b & c``.
"""

from __future__ import annotations

import functools
import json
import keyword
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from .._errors import InvalidArgumentError
from .lexicon import OP_SYMBOLS, quote_name, quote_value

# Operator → the method that builds it (and shows it in reprs).
OPERATORS = {
    "$eq": "eq",
    "$in": "in_",
    "$not_empty": "is_set",
    "$contains": "contains",
    "$starts_with": "starts_with",
    "$ends_with": "ends_with",
    "$lt": "lt",
    "$lte": "lte",
    "$gt": "gt",
    "$gte": "gte",
}
SYMBOLS = {"$eq": "==", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")

Scalar = str | int | float | bool | None


class Expr:
    """A filter: a condition, or conditions combined with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def to_filter(self, object: str | None = None) -> dict[str, Any]:
        """The API's filter JSON. ``object`` is the slug path filters start from."""
        raise NotImplementedError

    def to_text(self) -> str:
        """The expression in the text query language (``from_text`` reads it back)."""
        return to_text(self)

    def _key(self) -> str:
        return json.dumps(self.to_filter(object="?"), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __and__(self, other: Expr) -> Expr:
        return And(_flatten(And, (self, _expr(other))))

    def __or__(self, other: Expr) -> Expr:
        return Or(_flatten(Or, (self, _expr(other))))

    def __invert__(self) -> Expr:
        return Not(self)

    def __bool__(self) -> bool:
        raise InvalidArgumentError(
            "A filter expression has no truth value: combine with & | ~ (not and/or/not), "
            "and compare with == only inside a filter."
        )


def _expr(value: object) -> Expr:
    if not isinstance(value, Expr):
        raise InvalidArgumentError(f"Expected a filter expression, got {type(value).__name__}: {value!r}.")
    return value


def _flatten(kind: type[And] | type[Or], items: Iterable[Expr]) -> tuple[Expr, ...]:
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return tuple(flat)


@dataclass(frozen=True, eq=False, repr=False)
class Cond(Expr):
    """One condition: ``field`` (an attribute, maybe a property of it, maybe at the end of a
    path) compared by ``op`` with ``value``."""

    field: Field
    op: str
    value: Any

    def to_filter(self, object: str | None = None) -> dict[str, Any]:
        condition: dict[str, Any] = {self.op: list(self.value) if self.op == "$in" else self.value}
        if self.field.property is not None:
            condition = {self.field.property: condition}
        if not self.field.path:
            return {self.field.attribute: condition}
        start = self.field.path[0][0] or object
        if not start:
            raise InvalidArgumentError(
                f"{self!r} follows a path, which starts from an object: to_filter(object='people'), "
                "or use it in records('people').where(...)."
            )
        steps = [[source or start, attribute] for source, attribute, _ in self.field.path]
        return {"path": [*steps, [self.field.path[-1][2], self.field.attribute]], "constraints": condition}

    def __repr__(self) -> str:
        if self.op in SYMBOLS:
            return f"({self.field!r} {SYMBOLS[self.op]} {self.value!r})"  # & binds tighter than >=
        if self.op == "$not_empty":
            return f"{self.field!r}.{'is_set' if self.value else 'is_empty'}()"
        value = list(self.value) if self.op == "$in" else self.value
        return f"{self.field!r}.{OPERATORS[self.op]}({value!r})"


@dataclass(frozen=True, eq=False, repr=False)
class And(Expr):
    items: tuple[Expr, ...]

    def to_filter(self, object: str | None = None) -> dict[str, Any]:
        if len(self.items) == 1:
            return self.items[0].to_filter(object)
        return {"$and": [item.to_filter(object) for item in self.items]}

    def __repr__(self) -> str:
        return "(" + " & ".join(map(repr, self.items)) + ")"


@dataclass(frozen=True, eq=False, repr=False)
class Or(Expr):
    items: tuple[Expr, ...]

    def to_filter(self, object: str | None = None) -> dict[str, Any]:
        if len(self.items) == 1:
            return self.items[0].to_filter(object)
        return {"$or": [item.to_filter(object) for item in self.items]}

    def __repr__(self) -> str:
        return "(" + " | ".join(map(repr, self.items)) + ")"


@dataclass(frozen=True, eq=False, repr=False)
class Not(Expr):
    item: Expr

    def to_filter(self, object: str | None = None) -> dict[str, Any]:
        return {"$not": self.item.to_filter(object)}

    def __repr__(self) -> str:
        return f"~{self.item!r}"


# A step of a path: (the object it starts from, the reference attribute, the object it reaches).
# The first step's object may be None until the query says which object it starts from.
Step = tuple[str | None, str, str]


@dataclass(frozen=True, repr=False)
class Field:
    """An attribute (``F.name``), a property of it (``F.name.last_name``), or an attribute
    reached through record references (``F.company.via("companies").name``)."""

    attribute: str
    property: str | None = None
    path: tuple[Step, ...] = ()

    def __repr__(self) -> str:
        where = repr(_Via(self.path)) + _access(self.attribute)
        return where + (_access(self.property) if self.property else "")

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Field:
        """A property of the attribute (``F.email_addresses["email_domain"]``)."""
        if self.property is not None:
            raise InvalidArgumentError(f"{self!r} is already a property; properties do not nest.")
        return Field(self.attribute, name, self.path)

    def via(self, target: str) -> _Via:
        """Follow this record-reference attribute to records of ``target``."""
        if self.property is not None:
            raise InvalidArgumentError(f"{self!r}: only an attribute (not a property) can be followed.")
        if len(self.path) >= 4:
            raise InvalidArgumentError("A path follows at most 4 references.")
        start = self.path[-1][2] if self.path else None
        return _Via((*self.path, (start, self.attribute, target)))

    # -------------------------------------------------------------- conditions

    def _cond(self, op: str, value: Any) -> Cond:
        for item in value if isinstance(value, tuple) else (value,):
            problem = _unsendable_number(item)
            if problem:
                raise InvalidArgumentError(f"{self!r}: {problem}.")
        return Cond(self, op, value)

    def eq(self, value: Scalar) -> Cond:
        """Equal to ``value``; ``eq(None)`` is ``is_empty()``, as ``= null`` reads."""
        return self.is_empty() if value is None else self._cond("$eq", value)

    def ne(self, value: Scalar) -> Expr:
        """Not equal to ``value``; ``ne(None)`` is ``is_set()``."""
        return self.is_set() if value is None else Not(self.eq(value))

    def lt(self, value: str | float) -> Cond:
        return self._cond("$lt", value)

    def lte(self, value: str | float) -> Cond:
        return self._cond("$lte", value)

    def gt(self, value: str | float) -> Cond:
        return self._cond("$gt", value)

    def gte(self, value: str | float) -> Cond:
        return self._cond("$gte", value)

    def in_(self, values: Sequence[Scalar]) -> Cond:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | set | frozenset):
            raise InvalidArgumentError(f"{self!r}.in_() takes a list of values, got {values!r}.")
        return self._cond("$in", tuple(values))

    def contains(self, text: str) -> Cond:
        return self._cond("$contains", text)

    def starts_with(self, text: str) -> Cond:
        return self._cond("$starts_with", text)

    def ends_with(self, text: str) -> Cond:
        return self._cond("$ends_with", text)

    def is_set(self) -> Cond:
        return self._cond("$not_empty", True)

    def is_empty(self) -> Cond:
        return self._cond("$not_empty", False)

    def __eq__(self, value: object) -> Cond:  # type: ignore[override]
        return self.eq(value)  # type: ignore[arg-type]

    def __ne__(self, value: object) -> Expr:  # type: ignore[override]
        return self.ne(value)  # type: ignore[arg-type]

    def __lt__(self, value: str | float) -> Cond:
        return self.lt(value)

    def __le__(self, value: str | float) -> Cond:
        return self.lte(value)

    def __gt__(self, value: str | float) -> Cond:
        return self.gt(value)

    def __ge__(self, value: str | float) -> Cond:
        return self.gte(value)

    __hash__ = None  # type: ignore[assignment]


def _access(name: str) -> str:
    plain = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
    return f".{name}" if plain and name not in _FIELD_NAMES else f"[{name!r}]"


@dataclass(frozen=True, repr=False)
class _Via:
    """Records reached through a path; ``.attribute`` names one of their attributes."""

    path: tuple[Step, ...]

    def __repr__(self) -> str:
        return "F" + "".join(f"{_access(attribute)}.via({target!r})" for _, attribute, target in self.path)

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_"):
            raise AttributeError(name)
        return Field(name, None, self.path)

    def __getitem__(self, name: str) -> Field:
        return Field(name, None, self.path)


class _Root:
    """``F``: ``F.slug`` (or ``F["slug"]``) is the attribute with that slug."""

    def __repr__(self) -> str:
        return "F"

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)


F = _Root()
# Names a Field has as methods: attributes or properties with these names go through [...].
_FIELD_NAMES = frozenset(name for name in dir(Field) if not name.startswith("_")) | {
    "attribute",
    "property",
    "path",
}


R = TypeVar("R")
P = ParamSpec("P")


def shallow(function: Callable[P, R]) -> Callable[P, R]:
    """``function``, refusing a filter nested past Python's recursion limit with an
    ``InvalidArgumentError`` instead of a ``RecursionError``."""

    @functools.wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except RecursionError:
            raise InvalidArgumentError(
                "The filter nests and/or/not too deeply to read; flatten it."
            ) from None

    return guarded


@shallow
def as_filter(filter: Expr | Mapping[str, Any] | None, object: str | None) -> Mapping[str, Any] | None:
    """The JSON of a filter given as an expression or already as JSON (for ``object``)."""
    return filter.to_filter(object) if isinstance(filter, Expr) else filter


# The most digits Python turns an int into text with (sys.get_int_max_str_digits()).
MAX_INT_DIGITS = 4300


def _unsendable_number(value: Any) -> str | None:
    """Why a number cannot be a filter's value in JSON (``None`` when it can)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number, and a filter compares with finite numbers"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_DIGITS * 3.32:
        return f"a number of over {MAX_INT_DIGITS} digits cannot be sent"
    return None


# ------------------------------------------------------------------ writing text


def _text_field(field: Field) -> str:
    text = "".join(f"{quote_name(attribute)}->{quote_name(target)}." for _, attribute, target in field.path)
    text += quote_name(field.attribute)
    return text + (f".{quote_name(field.property)}" if field.property else "")


@shallow
def to_text(expr: Expr) -> str:
    """The text query of an expression (``parse_text(to_text(e)) == e``)."""
    if isinstance(expr, Cond):
        field = _text_field(expr.field)
        if expr.op == "$in":
            return f"{field} in [{', '.join(quote_value(v) for v in expr.value)}]"
        if expr.op == "$not_empty":
            return f"{field} is {'set' if expr.value else 'empty'}"
        return f"{field} {OP_SYMBOLS[expr.op]} {quote_value(expr.value)}"
    if isinstance(expr, Not):
        inner = to_text(expr.item)
        return f"not {inner}" if isinstance(expr.item, Cond | Not) else f"not ({inner})"
    if isinstance(expr, And):
        return " and ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in expr.items)
    if isinstance(expr, Or):
        return " or ".join(to_text(i) for i in expr.items)
    raise InvalidArgumentError(f"Cannot write {expr!r} as text.")
