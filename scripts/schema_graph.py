"""Where each schema of each API version sits inside the others, and each version's
operations: the maps the migrators walk.

``make regen`` writes them to ``generated/crm_client/api_versions.json`` from every dated spec,
so ``overlay.migrations`` can find, say, each ``CurrencyValue`` inside a ``Record`` payload
of any version without reading YAML at run time.

A shape is one of:
    {"props": {name: shape}, "extra": shape}   an object (``extra``: additionalProperties)
    {"ref": "Name"}                            a named schema
    {"items": shape}                           an array
    {"by": "field", "map": {value: "Name"}}    a union told apart by a field's value
    {"any": ["Name", ...]}                     a union told apart by its properties
A "ref" or "any" shape may also carry "items": the value is one of them, or an array of them.
Shapes that cannot hold an object (strings, numbers, ...) are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REF = "#/components/schemas/"


def _shape(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    if "$ref" in node:
        return {"ref": node["$ref"].removeprefix(REF)}
    if "items" in node:
        inner = _shape(node["items"])
        return {"items": inner} if inner else None
    for key in ("oneOf", "anyOf"):
        if key in node:
            refs = [b["$ref"].removeprefix(REF) for b in node[key] if "$ref" in b]
            arrays = [s for b in node[key] if "items" in b and (s := _shape(b))]
            union: dict[str, Any] = {}
            if len(refs) == 1:  # nullable: oneOf [$ref, null]
                union["ref"] = refs[0]
            elif refs:
                union["any"] = refs
            if arrays:  # one value or several: anyOf [$ref, array of $ref]
                union["items"] = arrays[0]["items"]
            return union or None
    props = {k: s for k, v in node.get("properties", {}).items() if (s := _shape(v))}
    extra = _shape(node.get("additionalProperties"))
    if not props and not extra:
        return None
    return {"props": props, **({"extra": extra} if extra else {})}


def _union(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any] | None:
    """A discriminated union: by its discriminator, or by a ``const`` every branch has."""
    branches = [b["$ref"].removeprefix(REF) for b in schema.get("oneOf", []) if "$ref" in b]
    if len(branches) < 2:
        return None
    if "discriminator" in schema:
        field = schema["discriminator"]["propertyName"]
        mapping = schema["discriminator"].get("mapping", {})
        return {"by": field, "map": {k: v.removeprefix(REF) for k, v in mapping.items()}}
    fields = set.intersection(
        *({k for k, v in schemas[b].get("properties", {}).items() if "const" in v} for b in branches)
    )
    if not fields:
        return None
    field = sorted(fields)[0]
    return {"by": field, "map": {schemas[b]["properties"][field]["const"]: b for b in branches}}


def graph(spec: dict[str, Any]) -> dict[str, Any]:
    """Each schema's shape, plus ``keys``: the property names of object schemas."""
    schemas = spec["components"]["schemas"]
    out: dict[str, Any] = {}
    for name, schema in schemas.items():
        shape = _union(schema, schemas) or _shape({k: v for k, v in schema.items() if k != "$ref"})
        entry = dict(shape or {})
        if "properties" in schema:
            entry["keys"] = sorted(schema["properties"])
            entry["required"] = sorted(schema.get("required", []))
        out[name] = entry
    return out


def _named(message: dict[str, Any], spec: dict[str, Any]) -> str | None:
    if "$ref" in message:  # a shared response
        message = spec["components"]["responses"][message["$ref"].rsplit("/", 1)[-1]]
    ref = message.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref.removeprefix(REF) or None


def operations(spec: dict[str, Any]) -> dict[str, Any]:
    """Operation id → its method, path template, request body schema and, by status (as
    text), the schema of each answer's body."""
    out = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                body = op.get("requestBody")
                out[op["operationId"]] = {
                    "method": method.upper(),
                    "path": path,
                    "body": _named(body, spec) if body else None,
                    "answers": {
                        code: name
                        for code, answer in op.get("responses", {}).items()
                        if code.isdigit() and (name := _named(answer, spec))
                    },
                }
    return out


MODULE = (
    '"""The API\'s versions, where each schema sits in the others, and each version\'s\n'
    "operations (scripts/schema_graph.py), read from ``api_versions.json`` beside this module.\n"
    '"""\n\n'
    "import json\n"
    "from pathlib import Path\n"
    "from typing import Any\n\n"
    '_MAPS: dict[str, Any] = json.loads(Path(__file__).with_name("api_versions.json").read_text("utf-8"))\n\n'
    'VERSIONS: tuple[str, ...] = tuple(_MAPS["versions"])\n'
    'SHAPES: dict[str, dict[str, Any]] = _MAPS["shapes"]\n'
    "# version -> operation id -> {method, path, body (schema), answers: {status text: schema}}\n"
    'OPERATIONS: dict[str, dict[str, Any]] = _MAPS["operations"]\n'
    '# attribute type -> property ("": the attribute itself) -> the filter operators it takes\n'
    'FILTER_OPERATORS: dict[str, dict[str, list[str]]] = _MAPS["filter_operators"]\n'
)
"""The source of ``api_versions.py``, which loads the maps: one JSON file, package data, read
in a millisecond (the same maps as Python literals took 45 ms to import without a bytecode cache)."""

GENERATED_NOTE = "Generated by `make regen` (scripts/regen.py, scripts/schema_graph.py). Do not edit by hand."


def filter_operators(spec: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Attribute type -> property (``""``: the attribute itself) -> the filter operators the
    API takes there, from each value schema's ``x-crm-filter-operators``."""
    schemas = spec["components"]["schemas"]
    mapping = schemas["AttributeValue"]["discriminator"]["mapping"]
    table: dict[str, dict[str, list[str]]] = {}
    for kind, ref in sorted(mapping.items()):
        declared = schemas[ref.removeprefix(REF)].get("x-crm-filter-operators")
        if not isinstance(declared, dict) or "" not in declared:
            raise ValueError(f'{ref} has no x-crm-filter-operators for the attribute itself ("")')
        table[kind] = {prop: list(ops) for prop, ops in declared.items()}
    return table


def maps(spec_dir: Path) -> dict[str, Any]:
    """Every version, oldest first, with its schemas and operations; the filter operators
    of each attribute type, as the latest spec declares them."""
    graphs, ops = {}, {}
    latest: dict[str, Any] = {}
    for path in sorted(spec_dir.glob("crm-????-??-??.yaml")):
        with path.open() as f:
            latest = yaml.safe_load(f)
        graphs[latest["info"]["version"]] = graph(latest)
        ops[latest["info"]["version"]] = operations(latest)
    return {
        "generated": GENERATED_NOTE,
        "versions": list(graphs),
        "shapes": graphs,
        "operations": ops,
        "filter_operators": filter_operators(latest),
    }


def render_json(found: dict[str, Any]) -> str:
    """``api_versions.json``: the maps, sorted and indented so a regeneration diffs by line."""
    return json.dumps(found, indent=1, sort_keys=True) + "\n"
