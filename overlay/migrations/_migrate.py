"""Moving payloads between versions: walk each version's schema map, apply the instructions.

Each step walks the payload with the map of the version it is in, visits only the
schemas from which one the step changes can be reached, and applies the instructions
to each instance after its children (so a parent restructures what its children
already hold).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from crm_client.api_versions import SHAPES

from .._errors import CRMError, InvalidArgumentError
from ._bundle import Version
from ._instructions import SchemaInstruction
from ._versions import VERSIONS

Apply = Callable[[Any, Any], Any]  # (what by_schema holds for the schema, instance) -> instance


def _refs(shape: dict[str, Any]) -> set[str]:
    out = set(shape.get("any", ())) | set(shape.get("map", {}).values())
    if "ref" in shape:
        out.add(shape["ref"])
    for inner in (shape.get("items"), shape.get("extra"), *shape.get("props", {}).values()):
        if inner:
            out |= _refs(inner)
    return out


@cache
def _reaching(version: str, targets: frozenset[str]) -> frozenset[str]:
    """The schemas of ``version`` from which one of ``targets`` can be reached."""
    graph = SHAPES[version]
    edges = {name: _refs(entry) for name, entry in graph.items()}
    found = set(targets)
    grew = True
    while grew:
        grew = False
        for name, refs in edges.items():
            if name not in found and refs & found:
                found.add(name)
                grew = True
    return frozenset(found)


def _fits(entry: dict[str, Any], keys: Any) -> bool:
    """Whether an object with ``keys`` can be an instance of the object schema ``entry``."""
    return "keys" in entry and set(entry["required"]) <= keys and keys <= set(entry["keys"])


class _Walk:
    def __init__(self, version: str, by_schema: Mapping[str, Sequence[Any]], apply: Apply) -> None:
        self.graph = SHAPES[version]
        self.by_schema = by_schema
        self.reach = _reaching(version, frozenset(by_schema))
        self.apply = apply

    def schema(self, name: str, value: Any) -> Any:
        if name not in self.reach:
            return value
        entry = self.graph.get(name, {})
        if "map" in entry:
            branch = entry["map"].get(value.get(entry["by"])) if isinstance(value, dict) else None
            if branch is not None:
                value = self.schema(branch, value)
        else:
            value = self.shape(entry, value)
        for instruction in self.by_schema.get(name, ()):
            value = self.apply(instruction, value)
        return value

    def _matching(self, names: list[str], value: dict[str, Any]) -> str | None:
        keys = value.keys()
        for name in names:
            if _fits(self.graph.get(name, {}), keys):
                return name
        return None

    def object(self, entry: dict[str, Any], value: dict[str, Any]) -> None:
        props = entry.get("props", {})
        for key, shape in props.items():
            if key in value:
                value[key] = self.shape(shape, value[key])
        extra = entry.get("extra")
        if extra is not None:
            for key in value:
                if key not in props:
                    value[key] = self.shape(extra, value[key])

    def shape(self, shape: dict[str, Any], value: Any) -> Any:
        if isinstance(value, list) and "items" in shape:
            inner = shape["items"]
            for i, item in enumerate(value):
                value[i] = self.shape(inner, item)
            return value
        if "ref" in shape:  # the named schema may be an array, or one value or several
            return self.schema(shape["ref"], value)
        if "any" in shape:
            branch = self._matching(shape["any"], value) if isinstance(value, dict) else None
            return self.schema(branch, value) if branch is not None else value
        if isinstance(value, dict):
            self.object(shape, value)
        return value


@cache
def _by_schema(version: Version, reverse: bool) -> dict[str, list[SchemaInstruction]]:
    out: dict[str, list[SchemaInstruction]] = {}
    for change in version.changes:
        for instruction in change.schema_instructions():
            out.setdefault(instruction.schema, []).append(instruction)
    if reverse:
        out = {name: instructions[::-1] for name, instructions in out.items()}
    return out


def _check(schema: str, version: str) -> None:
    VERSIONS.index(version)
    if schema not in SHAPES[version]:
        known = sorted(SHAPES[version])
        from .._metadata_core import hint

        raise InvalidArgumentError(f"No schema {schema!r} in API version {version}.{hint(schema, known)}")


def upgrade(
    payload: Any,
    schema: str,
    *,
    from_version: str,
    to_version: str | None = None,
    copy_payload: bool = True,
    status: int | None = None,
) -> Any:
    """``payload``, an instance of ``schema`` at ``from_version``, as of ``to_version``
    (the latest by default). The input is left alone unless ``copy_payload=False``.
    ``status`` is the HTTP status of an error body (the newer error shapes carry it)."""
    to_version = to_version or VERSIONS.latest
    _check(schema, from_version)

    def apply(instruction: SchemaInstruction, value: Any) -> Any:
        return instruction.upgrade(value, status)

    current = from_version
    with _payload_errors(schema, from_version, to_version):
        value = copy.deepcopy(payload) if copy_payload else payload
        for step in VERSIONS.steps(from_version, to_version):
            value = _Walk(current, _by_schema(step, False), apply).schema(schema, value)
            current = step.date
    return value


def downgrade(
    payload: Any, schema: str, *, to_version: str, from_version: str | None = None, copy_payload: bool = True
) -> Any:
    """``payload``, an instance of ``schema`` at ``from_version`` (the latest by default),
    as of the older ``to_version``."""
    from_version = from_version or VERSIONS.latest
    _check(schema, from_version)

    def apply(instruction: SchemaInstruction, value: Any) -> Any:
        return instruction.downgrade(value)

    with _payload_errors(schema, from_version, to_version):
        value = copy.deepcopy(payload) if copy_payload else payload
        for step in reversed(VERSIONS.steps(to_version, from_version)):
            value = _Walk(step.date, _by_schema(step, True), apply).schema(schema, value)
    return value


@contextlib.contextmanager
def _payload_errors(schema: str, from_version: str, to_version: str) -> Iterator[None]:
    """A payload the instructions cannot read (a date that is not one, a list where an
    object goes, nesting past Python's limit) is an ``InvalidArgumentError`` saying so."""
    try:
        yield
    except CRMError:
        raise
    except RecursionError:
        raise InvalidArgumentError(f"The {schema} payload is nested too deeply to move.") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise InvalidArgumentError(
            f"The {schema} payload cannot move from {from_version} to {to_version}: {exc}"
        ) from exc


def spell_out_currencies(
    payload: Any, schema: str, *, version: str, currencies: Callable[[], Mapping[str, str | None]]
) -> None:
    """Write out in full each currency amount that ``payload`` (an instance of ``schema`` at
    ``version``) writes: a bare number becomes the version's currency object, and an
    object without a code gets its attribute's default.

    An amount changes unit between versions (major units before 2026-04-01, minor after),
    so it converts right only once its currency is known. ``currencies()`` maps each
    currency attribute's slug to its default code (or None); it is called only when some
    value could be an amount.
    """
    _check(schema, version)
    currency = SHAPES[version].get("CurrencyInput", {})
    amount_field = next((k for k in currency.get("required", ()) if k != "currency_code"), None)
    pending: list[tuple[Any, Any, str]] = []  # (container, key or index, attribute slug)

    def collect(_: Any, values: Any) -> Any:
        for slug, given in values.items() if isinstance(values, dict) else ():
            many = isinstance(given, list)
            for at, value in enumerate(given) if many else [(slug, given)]:
                bare = isinstance(value, int | float) and not isinstance(value, bool)
                uncoded = isinstance(value, dict) and "currency_code" not in value
                if bare or (uncoded and _fits(currency, value.keys())):
                    pending.append((given if many else values, at, slug))
        return values

    _Walk(version, {"RecordValuesInput": [None]}, collect).schema(schema, payload)
    known = currencies() if pending and amount_field else {}
    for container, at, slug in pending:
        if slug not in known:
            continue
        if not isinstance(container[at], dict):
            container[at] = {amount_field: container[at]}
        if known[slug] is not None:
            container[at].setdefault("currency_code", known[slug])
