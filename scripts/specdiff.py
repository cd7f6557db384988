"""Compare consecutive API specs; fail on a breaking change that no version change covers.

    python scripts/specdiff.py                 # report; exit 1 on an unmigrated breaking change
    python scripts/specdiff.py --changelog F   # also write the changelog (from the docstrings) to F
    python scripts/specdiff.py --check F       # also fail if F is not that changelog

Breaking: a removed or renamed field or operation, a field whose type changed, a new
required field, a removed enum value or changed constant, a moved endpoint, a change of
pagination parameters, a change of the webhook signature headers. Each must be covered
by an instruction of the newer version in ``overlay.migrations``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from overlay import migrations
from overlay.migrations import (
    EndpointMoved,
    EnumValuesRenamed,
    ErrorShapeChanged,
    FieldAdded,
    FieldRemoved,
    FieldRenamed,
    FieldsNested,
    FieldTypeChanged,
    Instruction,
    ItemsExpanded,
    PaginationChanged,
    SigningChanged,
)

ROOT = Path(__file__).resolve().parent.parent
REF = "#/components/schemas/"
IGNORED = {"ApiVersion"}  # each spec's enum is its own version
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Change:
    kind: str  # removed field | new required field | type changed | enum value removed | ...
    where: str  # Schema.field, Schema, or an operation id
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}{f' ({self.detail})' if self.detail else ''}"


def _type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).removeprefix(REF)
    for key in ("oneOf", "anyOf"):
        if key in node:
            return f"{key}[{', '.join(sorted(_type(b) for b in node[key]))}]"
    kind = node.get("type")
    kind = "|".join(kind) if isinstance(kind, list) else str(kind)
    if node.get("format"):
        kind += f":{node['format']}"
    if "items" in node:
        kind += f"[{_type(node['items'])}]"
    return kind


def schema_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    for name, before in old["components"]["schemas"].items():
        after = new["components"]["schemas"].get(name)
        if after is None or name in IGNORED:
            continue  # a schema no longer used: its users' fields changed type
        if before.get("enum") and after.get("enum"):
            for value in sorted(set(before["enum"]) - set(after["enum"])):
                out.append(Change("enum value removed", name, value))
        props_before, props_after = before.get("properties", {}), after.get("properties", {})
        for field, was in props_before.items():
            now = props_after.get(field)
            where = f"{name}.{field}"
            if now is None:
                out.append(Change("removed field", where))
            elif "const" in was and was["const"] != now.get("const"):
                out.append(Change("constant changed", where, f"{was['const']} → {now.get('const')}"))
            elif _type(was) != _type(now):
                out.append(Change("type changed", where, f"{_type(was)} → {_type(now)}"))
        for field in sorted(set(after.get("required", [])) - set(before.get("required", []))):
            out.append(Change("new required field", f"{name}.{field}"))
    return out


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def _params(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, bool]:
    out = {}
    for param in op.get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        out[param["name"]] = bool(param.get("required"))
    return out


def operation_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    before, after = _operations(old), _operations(new)
    for op_id, (method, path, op) in before.items():
        if op_id not in after:
            out.append(Change("removed operation", op_id))
            continue
        method2, path2, op2 = after[op_id]
        if (method, path) != (method2, path2):
            out.append(Change("endpoint moved", op_id, f"{method} {path} → {method2} {path2}"))
        params, params2 = _params(old, op), _params(new, op2)
        if ("offset" in params) != ("offset" in params2) or ("cursor" in params) != ("cursor" in params2):
            out.append(Change("pagination changed", op_id))
        for name in sorted(params.keys() - params2.keys() - {"offset", "cursor"}):
            out.append(Change("removed parameter", op_id, name))
        for name in sorted(k for k, required in params2.items() if required and not params.get(k)):
            out.append(Change("new required parameter", op_id, name))
    hooks, hooks2 = old.get("webhooks", {}), new.get("webhooks", {})
    for name, item in hooks.items():
        headers = _params(old, item["post"])
        headers2 = _params(new, hooks2.get(name, {}).get("post", {}))
        if {k for k, r in headers.items() if r} != {k for k, r in headers2.items() if r}:
            out.append(Change("webhook signature headers changed", name))
    return out


def covers(instruction: Instruction, change: Change) -> bool:
    """Whether ``instruction`` (of the newer version) migrates ``change``."""
    schema, _, field = change.where.partition(".")
    i = instruction
    if isinstance(i, ErrorShapeChanged):
        return i.schema == schema
    if change.kind == "removed field":
        return (
            (isinstance(i, FieldRenamed) and (i.schema, i.old) == (schema, field))
            or (isinstance(i, FieldRemoved) and (i.schema, i.name) == (schema, field))
            or (isinstance(i, FieldsNested) and i.schema == schema and field in i.fields)
        )
    if change.kind == "new required field":
        return (
            (isinstance(i, FieldRenamed) and (i.schema, i.new) == (schema, field))
            or (isinstance(i, FieldAdded) and (i.schema, i.name) == (schema, field))
            or (isinstance(i, FieldsNested) and (i.schema, i.into) == (schema, field))
            or (isinstance(i, FieldTypeChanged) and (i.schema, i.name) == (schema, field))
        )
    if change.kind == "type changed":
        return (isinstance(i, FieldTypeChanged) and (i.schema, i.name) == (schema, field)) or (
            isinstance(i, ItemsExpanded) and change.where in i.changes
        )
    if change.kind == "enum value removed":
        return (
            isinstance(i, EnumValuesRenamed)
            and i.schema == schema
            and i.field is None
            and change.detail in i.mapping
        )
    if change.kind == "constant changed":
        old_value, _, new_value = change.detail.partition(" → ")
        return isinstance(i, EnumValuesRenamed) and i.field == field and i.mapping.get(old_value) == new_value
    if change.kind == "endpoint moved":
        return (
            isinstance(i, EndpointMoved)
            and i.operation == schema
            and f"{i.old[0]} {i.old[1]} → {i.new[0]} {i.new[1]}" == change.detail
        )
    if change.kind == "pagination changed":
        return isinstance(i, PaginationChanged) and schema in i.operations
    if change.kind == "webhook signature headers changed":
        return isinstance(i, SigningChanged)
    return False


def load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        spec: dict[str, Any] = yaml.safe_load(f)
    return spec


def uncovered(old: dict[str, Any], new: dict[str, Any], version: str) -> tuple[list[Change], list[Change]]:
    """(every breaking change from ``old`` to ``new``, those no instruction of ``version`` covers)."""
    instructions = list(migrations.VERSIONS[version].instructions())
    changes = schema_changes(old, new) + operation_changes(old, new)
    return changes, [c for c in changes if not any(covers(i, c) for i in instructions)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-dir", type=Path, default=ROOT / "openapi")
    parser.add_argument("--changelog", type=Path, help="write the API changelog here")
    parser.add_argument("--check", type=Path, help="fail if this changelog is out of date")
    args = parser.parse_args(argv)
    specs = sorted(args.spec_dir.glob("crm-????-??-??.yaml"))
    versions = [p.stem.removeprefix("crm-") for p in specs]
    if tuple(versions) != migrations.VERSIONS.dates:
        print(f"specdiff: the specs ({', '.join(versions)}) are not the versions overlay.migrations "
              f"declares ({', '.join(migrations.VERSIONS.dates)})", file=sys.stderr)  # fmt: skip
        return 1
    failed = False
    for at in range(1, len(specs)):
        older, newer = versions[at - 1], versions[at]
        changes, missing = uncovered(load(specs[at - 1]), load(specs[at]), newer)
        print(f"{older} → {newer}: {len(changes)} breaking changes, {len(changes) - len(missing)} migrated")
        for change in missing:
            print(f"  NOT MIGRATED  {change}")
            failed = True
    log = migrations.changelog()
    if args.changelog:
        args.changelog.write_text(log)
    if args.check and (not args.check.exists() or args.check.read_text() != log):
        print(f"specdiff: {args.check} is out of date; run `make regen`", file=sys.stderr)
        failed = True
    if failed:
        print("specdiff: declare each change above in overlay/migrations/_versions.py", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
