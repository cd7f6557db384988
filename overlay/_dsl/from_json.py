"""Reading a filter in the API's JSON (the shorthand and the verbose path forms alike)
back into an expression: ``from_filter``."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from .._errors import InvalidArgumentError
from .expr import _SLUG, OPERATORS, And, Expr, Field, Not, Or, _flatten, shallow


@shallow
def from_filter(filter: Mapping[str, Any]) -> Expr:
    """The expression of a filter in the API's JSON (shorthand and verbose forms alike)."""
    if not isinstance(filter, Mapping):
        raise InvalidArgumentError(f"A filter is a JSON object, got {type(filter).__name__}.")
    if "path" in filter or "constraints" in filter:
        return _path_filter(filter)
    parts: list[Expr] = []
    for key, value in filter.items():
        if key == "$and":
            parts.append(And(_flatten(And, [from_filter(v) for v in _list(key, value)])))
        elif key == "$or":
            parts.append(Or(_flatten(Or, [from_filter(v) for v in _list(key, value)])))
        elif key == "$not":
            parts.append(Not(from_filter(value)))
        elif key.startswith("$"):
            raise InvalidArgumentError(f"Unknown combinator {key!r}: use $and, $or or $not.")
        else:
            parts.extend(_conditions(Field(key), value))
    if not parts:
        raise InvalidArgumentError("An empty filter matches everything; leave the filter out instead.")
    return parts[0] if len(parts) == 1 else And(_flatten(And, parts))


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidArgumentError(f"{key} takes a non-empty list of filters.")
    return value


def _conditions(field: Field, condition: Any) -> list[Expr]:
    if not isinstance(condition, Mapping):
        return [field._cond("$eq", condition)]
    found: list[Expr] = []
    for key, value in condition.items():
        if key in OPERATORS:
            found.append(field._cond(key, tuple(value) if key == "$in" else value))
        elif key.startswith("$"):
            raise InvalidArgumentError(
                f"Unknown operator {key!r} on {field!r}; known: {', '.join(OPERATORS)}."
            )
        elif field.property is None and _SLUG.match(key):
            found.extend(_conditions(field[key], value))
        else:
            raise InvalidArgumentError(
                f"{key!r} in the condition on {field!r} is neither an operator nor a property."
            )
    return found


def _path_filter(filter: Mapping[str, Any]) -> Expr:
    path: Any = filter.get("path")
    constraints = filter.get("constraints")
    ok = isinstance(path, list) and path and all(isinstance(s, list) and len(s) == 2 for s in path)
    if not ok or constraints is None or len(filter) != 2:
        raise InvalidArgumentError(
            'A path filter is {"path": [[object, attribute], ...], "constraints": {...}}.'
        )
    steps = tuple((obj, attribute, target) for (obj, attribute), (target, _) in itertools.pairwise(path))
    field = Field(path[-1][1], None, steps)
    parts = _conditions(field, constraints)
    return parts[0] if len(parts) == 1 else And(tuple(parts))
