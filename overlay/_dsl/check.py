"""Checking a query against the workspace's schema before it is sent (no I/O).

Every attribute must exist (else: the nearest slug), every property must belong to the
attribute's type, every operator must fit it (else: the ones that do), select and status
titles must be options, and values are coerced to what the API compares: numbers from
text, dates and timestamps through dateutil (naive times are UTC), flags from text.
Sort keys must name an attribute (or ``record_id``, ``created_at``, ``updated_at``) and a
property of its type; ``include`` must name record-reference attributes.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crm_client.api_versions import FILTER_OPERATORS

from .._errors import InvalidArgumentError
from .._metadata_core import hint
from .expr import And, Cond, Expr, Field, Not, Or, shallow

# For each attribute type, its filterable properties ("" is the attribute itself) and their
# operators: the spec's x-crm-filter-operators on each value schema, as make regen lists them.
TYPE_OPERATORS: dict[str, dict[str, frozenset[str]]] = {
    kind: {prop: frozenset(ops) for prop, ops in props.items()} for kind, props in FILTER_OPERATORS.items()
}
PSEUDO_OPERATORS = {
    "record_id": frozenset({"$eq", "$in"}),
    "created_at": frozenset({"$eq", "$in", "$lt", "$lte", "$gt", "$gte"}),
    "updated_at": frozenset({"$eq", "$in", "$lt", "$lte", "$gt", "$gte"}),
}
METHODS = {
    "$eq": "== / eq",
    "$in": "in_",
    "$not_empty": "is_set / is_empty",
    "$contains": "contains",
    "$starts_with": "starts_with",
    "$ends_with": "ends_with",
    "$lt": "< / lt",
    "$lte": "<= / lte",
    "$gt": "> / gt",
    "$gte": ">= / gte",
}
NUMERIC = {"number", "rating", "currency"}

# slug -> attribute type, for one object
Schema = Mapping[str, str]


@shallow
def objects_of(expr: Expr, root: str) -> set[str]:
    """The objects whose attributes the check needs: the root and every path's objects."""
    found = {root}
    for cond in conditions(expr):
        found.update(target for _, _, target in cond.field.path)
    return found


def conditions(expr: Expr) -> list[Cond]:
    if isinstance(expr, Cond):
        return [expr]
    if isinstance(expr, Not):
        return conditions(expr.item)
    if isinstance(expr, And | Or):
        return [c for item in expr.items for c in conditions(item)]
    return []


@shallow
def option_lookups(expr: Expr, root: str, schemas: Mapping[str, Schema]) -> set[tuple[str, str]]:
    """``(object, attribute)`` of the select and status attributes compared by title."""
    found: set[tuple[str, str]] = set()
    for cond in conditions(expr):
        obj = _object_of(cond.field, root)
        kind = schemas.get(obj, {}).get(cond.field.attribute)
        if kind in ("select", "status") and cond.field.property is None and cond.op in ("$eq", "$in"):
            found.add((obj, cond.field.attribute))
    return found


def _object_of(field: Field, root: str) -> str:
    return field.path[-1][2] if field.path else root


@shallow
def check(
    expr: Expr,
    root: str,
    schemas: Mapping[str, Schema],
    options: Mapping[tuple[str, str], list[str]],
    objects: Sequence[str] = (),
) -> Expr:
    """``expr`` with its values coerced, or an ``InvalidArgumentError`` naming what is wrong.

    ``schemas`` has the attribute types of the objects the filter reaches, ``options`` the
    titles of the selects it compares, ``objects`` every object (for suggestions).
    """
    if isinstance(expr, Cond):
        return _check_condition(expr, root, schemas, options, objects)
    if isinstance(expr, Not):
        return Not(check(expr.item, root, schemas, options, objects))
    if isinstance(expr, And):
        return And(tuple(check(item, root, schemas, options, objects) for item in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(check(item, root, schemas, options, objects) for item in expr.items))
    raise InvalidArgumentError(f"Not a filter expression: {expr!r}.")


def check_sorts(sorts: Sequence[Any], root: str, schema: Schema) -> None:
    """Refuse a sort by an attribute ``root`` lacks, or by a property its type lacks.

    Sorts along a path are left to the API (they reach other objects' schemas).
    """
    for sort in sorts:
        attribute = sort.get("attribute") if isinstance(sort, Mapping) else None
        if not isinstance(attribute, str):
            continue
        prop = sort.get("field") or ""
        key = f"{attribute}.{prop}" if prop else attribute
        if attribute in PSEUDO_OPERATORS and attribute not in schema:
            if prop:
                raise InvalidArgumentError(f"Cannot sort by {key!r}: {attribute} has no properties.")
            continue
        if attribute not in schema:
            known = [*schema, *PSEUDO_OPERATORS]
            raise InvalidArgumentError(
                f"Cannot sort by {key!r}: no attribute {attribute!r} on {root!r}.{hint(attribute, known)}"
            )
        kind = schema[attribute]
        properties = TYPE_OPERATORS.get(kind)
        if prop and properties is not None and prop not in properties:
            known = [p for p in properties if p]
            raise InvalidArgumentError(
                f"Cannot sort by {key!r}: {attribute!r} ({kind}) has no property {prop!r}."
                + hint(prop, known, "Properties")
            )


def check_includes(slugs: Sequence[str], root: str, schema: Schema) -> None:
    """Refuse an ``include`` of an attribute ``root`` lacks, or of one that is not a reference."""
    references = [slug for slug, kind in schema.items() if kind == "record-reference"]
    for slug in slugs:
        if slug not in schema:
            raise InvalidArgumentError(
                f"Cannot include {slug!r}: no attribute {slug!r} on {root!r}."
                + hint(slug, references or list(schema), "References" if references else "Known")
            )
        if schema[slug] != "record-reference":
            raise InvalidArgumentError(
                f"Cannot include {slug!r}: it is {schema[slug]} on {root!r}, not a record reference."
                + hint(slug, references, "References")
            )


def check_readable(slugs: Sequence[str], root: str, schema: Schema, action: str) -> None:
    """Refuse to read (``pluck``, ``group_by``, ...) an attribute ``root`` lacks."""
    for slug in slugs:
        if slug not in schema and slug not in PSEUDO_OPERATORS:
            known = [*schema, *PSEUDO_OPERATORS]
            raise InvalidArgumentError(
                f"Cannot {action} {slug!r}: no attribute {slug!r} on {root!r}.{hint(slug, known)}"
            )


def kind_of(slug: str, schema: Schema) -> str | None:
    """The type of ``slug`` (pseudo-attributes: ``timestamp`` or ``record_id``), ``None`` if unknown."""
    if slug in schema:
        return schema[slug]
    if slug in PSEUDO_OPERATORS:
        return "record_id" if slug == "record_id" else "timestamp"
    return None


def _unknown(kind: str, name: str, where: str, known: list[str]) -> InvalidArgumentError:
    return InvalidArgumentError(f"Unknown {kind} {name!r} on {where}.{hint(name, known)}")


def _check_condition(
    cond: Cond,
    root: str,
    schemas: Mapping[str, Schema],
    options: Mapping[tuple[str, str], list[str]],
    objects: Sequence[str],
) -> Expr:
    field = cond.field
    source = root
    for obj, attribute, target in field.path:
        source = obj or source
        schema = schemas[source]
        if attribute not in schema:
            raise _unknown("attribute", attribute, repr(source), list(schema))
        if schema[attribute] != "record-reference":
            kind = schema[attribute]
            raise InvalidArgumentError(f"{attribute!r} on {source!r} is {kind}, not a reference to follow.")
        if target not in schemas:
            raise _unknown("object", target, "this workspace", [*objects] or list(schemas))
        source = target
    schema = schemas[source]
    titles: list[str] | None = None
    if field.attribute in PSEUDO_OPERATORS and field.attribute not in schema:
        allowed = PSEUDO_OPERATORS[field.attribute]
        kind = "timestamp" if field.attribute != "record_id" else "record_id"
        label = field.attribute
    else:
        if field.attribute not in schema:
            raise _unknown("attribute", field.attribute, repr(source), [*schema, *PSEUDO_OPERATORS])
        kind = schema[field.attribute]
        properties = TYPE_OPERATORS.get(kind)
        if properties is None:  # a type this client does not know: the API decides
            return cond
        prop = field.property or ""
        if prop not in properties:
            known = [p for p in properties if p]
            raise _unknown("property", prop, f"{field.attribute!r} ({kind})", known)
        allowed = properties[prop]
        label = f"{field.attribute!r} ({kind})" + (f" property {prop!r}" if prop else "")
        if kind in ("select", "status") and not prop:
            titles = options.get((source, field.attribute))
        if prop:
            kind = "currency" if prop == "amount_minor" else "text"
    if cond.op not in allowed:
        fits = ", ".join(METHODS[op] for op in METHODS if op in allowed)
        raise InvalidArgumentError(f"{METHODS[cond.op]} does not apply to {label}; use one of: {fits}.")
    if cond.op == "$not_empty":
        if not isinstance(cond.value, bool):
            raise InvalidArgumentError(f"is_set/is_empty on {label} takes true or false, got {cond.value!r}.")
        return cond
    coerce = _coercer(kind, label, titles)
    value = tuple(coerce(v) for v in cond.value) if cond.op == "$in" else coerce(cond.value)
    return Cond(field, cond.op, value)


def _coercer(kind: str, label: str, titles: list[str] | None) -> Callable[[Any], Any]:
    def fail(expected: str, value: Any) -> InvalidArgumentError:
        return InvalidArgumentError(f"{label} compares with {expected}, got {value!r}.")

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        if kind in NUMERIC:
            if isinstance(value, bool):
                raise fail("numbers", value)
            if isinstance(value, int | float):
                return value
            try:
                number = float(str(value).strip())
            except ValueError:
                raise fail("numbers", value) from None
            if not math.isfinite(number):
                raise fail("finite numbers", value)
            return int(number) if number.is_integer() and kind == "rating" else number
        if kind == "checkbox":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "1"):
                return True
            if text in ("false", "no", "0"):
                return False
            raise fail("true or false", value)
        if kind == "date":
            return _when(value, fail, "a date").date().isoformat()
        if kind == "timestamp":
            return _when(value, fail, "a date and time").isoformat()
        if titles is not None:
            if value not in titles:
                options = hint(str(value), titles, "Options")
                raise InvalidArgumentError(f"{value!r} is not an option of {label}.{options}")
            return value
        if not isinstance(value, str | int | float | bool):
            raise fail("text or numbers", value)
        return value

    return coerce


def _when(value: Any, fail: Callable[[str, Any], InvalidArgumentError], expected: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            from dateutil import parser as dateparser  # on first use: it takes 15 ms to load

            moment = dateparser.parse(value)
        except (ValueError, OverflowError):
            raise fail(expected, value) from None
    else:
        raise fail(expected, value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    try:
        moment.utcoffset()  # an offset of +99:00, which dateutil reads but datetime refuses
    except (ValueError, OverflowError):
        raise fail(expected, value) from None
    return moment
