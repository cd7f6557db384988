"""Moving payloads between versions: walk each version's schema map, apply the instructions.

Each step walks the payload with the map of the version it is in, visits only the
schemas from which one the step changes can be reached, and applies the instructions
to each instance after its children (so a parent restructures what its children
already hold).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from functools import cache
from typing import Any

from crm_client.api_versions import SHAPES

from .._errors import InvalidArgumentError
from ._bundle import Version
from ._instructions import EnumValuesRenamed, ErrorShapeChanged, SchemaInstruction
from ._versions import VERSIONS

Apply = Callable[[SchemaInstruction, Any], Any]


def _refs(shape: dict[str, Any]) -> set[str]:
    if "ref" in shape:
        return {shape["ref"]}
    if "items" in shape:
        return _refs(shape["items"])
    if "map" in shape:
        return set(shape["map"].values())
    if "any" in shape:
        return set(shape["any"])
    out = set().union(*(_refs(s) for s in shape.get("props", {}).values())) if shape.get("props") else set()
    if "extra" in shape:
        out |= _refs(shape["extra"])
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


class _Walk:
    def __init__(self, version: str, by_schema: dict[str, list[SchemaInstruction]], apply: Apply) -> None:
        self.graph = SHAPES[version]
        self.by_schema = by_schema
        self.reach = _reaching(version, frozenset(by_schema))
        self.apply = apply

    def schema(self, name: str, value: Any) -> Any:
        if name not in self.reach:
            return value
        entry = self.graph.get(name, {})
        if isinstance(value, dict):
            if "map" in entry:
                branch = entry["map"].get(value.get(entry["by"]))
                if branch is not None:
                    value = self.schema(branch, value)
            elif "any" in entry:
                branch = self._matching(entry["any"], value)
                if branch is not None:
                    value = self.schema(branch, value)
            else:
                self.object(entry, value)
        for instruction in self.by_schema.get(name, ()):
            value = self.apply(instruction, value)
        return value

    def _matching(self, names: list[str], value: dict[str, Any]) -> str | None:
        keys = value.keys()
        for name in names:
            entry = self.graph.get(name, {})
            if "keys" in entry and set(entry["required"]) <= keys and keys <= set(entry["keys"]):
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
        if "ref" in shape:
            return self.schema(shape["ref"], value)
        if "items" in shape:
            if isinstance(value, list):
                inner = shape["items"]
                for i, item in enumerate(value):
                    value[i] = self.shape(inner, item)
            return value
        if "any" in shape and isinstance(value, dict):
            branch = self._matching(shape["any"], value)
            return self.schema(branch, value) if branch is not None else value
        if isinstance(value, dict):
            self.object(shape, value)
        return value


def _up(instruction: SchemaInstruction, value: Any, status: int | None = None) -> Any:
    if isinstance(instruction, EnumValuesRenamed) and instruction.field is None:
        return instruction.value_up(value)
    if isinstance(instruction, ErrorShapeChanged) and isinstance(value, dict):
        instruction.up(value, status)
    elif isinstance(value, dict):
        instruction.up(value)
    return value


def _down(instruction: SchemaInstruction, value: Any) -> Any:
    if isinstance(instruction, EnumValuesRenamed) and instruction.field is None:
        return instruction.value_down(value)
    if isinstance(value, dict):
        instruction.down(value)
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
        from .._metadata import hint

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
    value = copy.deepcopy(payload) if copy_payload else payload
    apply = _up if status is None else functools.partial(_up, status=status)
    current = from_version
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
    value = copy.deepcopy(payload) if copy_payload else payload
    for step in reversed(VERSIONS.steps(to_version, from_version)):
        value = _Walk(step.date, _by_schema(step, True), _down).schema(schema, value)
    return value
