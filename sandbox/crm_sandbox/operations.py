"""The API's operations, read from the spec: paths, parameters and request validation.

Requests are checked against the very schemas the clients are generated from, so every
malformed request gets a 400 that names the parameter or the body field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml
from jsonschema.exceptions import best_match  # untyped in its stubs

from .errors import bad_request

SPEC_DIR = Path(__file__).resolve().parent / "openapi"
WRITE_METHODS = {"post", "put", "patch", "delete"}
# POSTs that only read: they count against the read limit and take no Idempotency-Key.
READ_POSTS = {"query_records", "query_entries", "count_records", "count_entries", "search_records"}


@cache
def load_spec(version: str) -> dict[str, Any]:
    with (SPEC_DIR / f"crm-{version}.yaml").open() as f:
        # libyaml's loader: the pure-Python one took most of the sandbox's start.
        spec: dict[str, Any] = yaml.load(f, Loader=yaml.CSafeLoader)
    return spec


class Schema:
    """A JSON Schema (2020-12) checked by a compiled validator; jsonschema explains a failure.

    jsonschema_rs decides (a 100-item batch in 0.02 ms, against 6 ms); jsonschema, built on
    the first failure, gives the error a client reads (its best match, with the path).
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    @cached_property
    def _check(self) -> jsonschema_rs.Validator:
        """Compiled on first use: a server serves few of its 700 schemas in a test, and
        compiling them all took seconds at start."""
        return jsonschema_rs.Draft202012Validator(self.schema, validate_formats=False)

    @cached_property
    def _explainer(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.schema)

    def error(self, instance: Any) -> jsonschema.ValidationError | None:
        """Why ``instance`` does not validate, or None if it does."""
        if self._check.is_valid(instance):
            return None
        best: jsonschema.ValidationError | None = best_match(self._explainer.iter_errors(instance))
        return best


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    validator: Schema


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str  # OpenAPI template, e.g. /v2/objects/{object}
    params: tuple[Param, ...]
    body: Schema | None
    body_required: bool

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS and self.id not in READ_POSTS

    def coerce_params(self, location: str, raw: dict[str, str]) -> dict[str, Any]:
        """Typed values of the parameters in ``location``; 400 naming the first bad one."""
        out: dict[str, Any] = {}
        for param in self.params:
            if param.location != location:
                continue
            if param.name not in raw:
                if param.required:
                    raise bad_request("missing_parameter", f"Missing {location} parameter {param.name!r}.")
                if "default" in param.schema:
                    out[param.name] = param.schema["default"]
                continue
            value = _typed(raw[param.name], param.schema)
            error = param.validator.error(value)
            if error is not None:
                raise bad_request(
                    "invalid_parameter",
                    f"Invalid {location} parameter {param.name!r}: {error.message}.",
                )
            out[param.name] = value
        return out

    def check_body(self, body: Any) -> None:
        if self.body is None or (body is None and not self.body_required):
            return
        error = self.body.error(body)
        if error is not None:
            path = list(error.absolute_path)
            where = "body" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in path)
            top = str(path[0]) if path else ""
            code = {"filter": "filter_error", "sorts": "sort_error"}.get(top, "invalid_request")
            raise bad_request(code, f"Invalid request body at {where}: {_short(error.message)}")


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _typed(raw: str, schema: dict[str, Any]) -> Any:
    """A query or header string read as its schema's type (left as is when it does not parse)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?[0-9]{1,18}", raw):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(version: str) -> list[Operation]:
    spec = load_spec(version)
    root = {"components": spec["components"]}
    # Written values are checked by their attribute type's coercion (values.py), which knows
    # the attribute and says what it expects; checking the spec's union of value shapes first
    # cost two thirds of a batch's time, so bodies are validated with that union left open.
    schemas = {**spec["components"]["schemas"], "ValueInputs": {}}
    body_root = {"components": {**spec["components"], "schemas": schemas}}

    def validator(schema: dict[str, Any], within: dict[str, Any] = root) -> Schema:
        return Schema({**schema, **within})

    ops = []
    for path, item in spec["paths"].items():
        shared = [_resolve(spec, p) for p in item.get("parameters", [])]
        for method, op in item.items():
            if method == "parameters":
                continue
            params = tuple(
                Param(
                    p["name"],
                    p["in"],
                    p.get("required", False),
                    p["schema"],
                    validator(p["schema"]),
                )
                for p in shared + [_resolve(spec, p) for p in op.get("parameters", [])]
            )
            body = op.get("requestBody")
            schema = body["content"]["application/json"]["schema"] if body else None
            ops.append(
                Operation(
                    op["operationId"],
                    method,
                    path,
                    params,
                    validator(schema, body_root) if schema else None,
                    bool(body and body.get("required")),
                )
            )
    return ops
