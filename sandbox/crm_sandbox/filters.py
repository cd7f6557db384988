"""The filter and sort language, compiled to SQL over the ``keys`` index.

A compiled condition tests ``{alias}.id``; every attribute condition becomes an indexed
``id IN (SELECT owner_id FROM keys ...)``. Sizes are bounded so no request can make the
server spin, and a bad filter raises a 400 ``filter_error`` that names the offending part.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Callable
from typing import Any

from .errors import APIError
from .values import MAX_NUMBER, MAX_TEXT, TYPES, Prop, is_bounded_number, parse_timestamp

MAX_DEPTH = 12
MAX_NODES = 400
MAX_IN = 1000
PSEUDO = {"record_id": "id", "created_at": "created_at", "updated_at": "updated_at"}
OPERATORS = {
    "$eq",
    "$in",
    "$not_empty",
    "$contains",
    "$starts_with",
    "$ends_with",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
}
COMPARE = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}

Sql = tuple[str, list[Any]]


def filter_error(where: str, message: str) -> APIError:
    code = "sort_error" if where.startswith("sorts") else "filter_error"
    return APIError(400, code, f"{message} (at {where}).")


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(known)) or 'none'}."


class Compiler:
    """Compiles filters and sorts for the attributes of one object or list.

    ``attributes(parent_id)`` lists attribute rows; ``object_id(slug_or_id)`` resolves an object.
    """

    def __init__(
        self,
        attributes: Callable[[str], list[sqlite3.Row]],
        object_id: Callable[[str], str | None],
    ) -> None:
        self._attributes = attributes
        self._object_id = object_id
        self._nodes = 0

    # ------------------------------------------------------------------ filters

    def compile(self, parent_id: str, node: Any, alias: str = "r") -> Sql:
        self._nodes = 0
        return self._node(parent_id, node, alias, "filter", 0)

    def _node(self, parent_id: str, node: Any, alias: str, where: str, depth: int) -> Sql:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_NODES:
            raise filter_error(
                where, f"Filter too large (at most {MAX_DEPTH} levels and {MAX_NODES} conditions)"
            )
        if not isinstance(node, dict):
            raise filter_error(where, f"Expected an object, got {type(node).__name__}")
        parts: list[Sql] = []
        if "path" in node or "constraints" in node:
            parts.append(self._path(parent_id, node, alias, where))
        for key, value in node.items():
            here = f"{where}.{key}"
            if key in ("path", "constraints"):
                continue
            if key in ("$and", "$or"):
                if not isinstance(value, list) or not value:
                    raise filter_error(here, f"{key} takes a non-empty list of filters")
                subs = [
                    self._node(parent_id, v, alias, f"{here}[{i}]", depth + 1) for i, v in enumerate(value)
                ]
                joiner = " AND " if key == "$and" else " OR "
                parts.append((f"({joiner.join(s for s, _ in subs)})", [p for _, ps in subs for p in ps]))
            elif key == "$not":
                sql, params = self._node(parent_id, value, alias, here, depth + 1)
                parts.append((f"(NOT {sql})", params))
            elif key.startswith("$"):
                raise filter_error(here, f"Unknown combinator {key!r} (use $and, $or, $not)")
            elif key in PSEUDO:
                parts.append(self._pseudo(key, value, alias, here))
            else:
                attribute = self._attribute(parent_id, key, here, pseudo=True)
                parts.append(self._condition(attribute, value, alias, here))
        if not parts:
            return "1", []
        return " AND ".join(s for s, _ in parts), [p for _, ps in parts for p in ps]

    def _attribute(self, parent_id: str, slug: str, where: str, pseudo: bool = False) -> sqlite3.Row:
        """The attribute ``slug``; a 400 suggesting the nearest name (with the pseudo-attributes
        ``record_id``, ``created_at``, ``updated_at`` where ``pseudo`` says they are usable)."""
        rows = self._attributes(parent_id)
        for row in rows:
            if row["api_slug"] == slug or row["id"] == slug:
                return row
        known = [r["api_slug"] for r in rows] + (list(PSEUDO) if pseudo else [])
        raise filter_error(where, f"Unknown attribute {slug!r}." + suggest(slug, known))

    def _condition(self, attribute: sqlite3.Row, value: Any, alias: str, where: str) -> Sql:
        """A bare value, an operator object, or an object of property conditions."""
        kind = TYPES[attribute["type"]]
        if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            return self._operators(attribute, "", kind.props[""], value, alias, where)
        if isinstance(value, dict):
            if not value:
                raise filter_error(where, "Empty condition")
            parts = []
            for prop, cond in value.items():
                if prop not in kind.props or prop == "":
                    props = [p for p in kind.props if p]
                    raise filter_error(
                        f"{where}.{prop}",
                        f"{attribute['type']} has no property {prop!r}." + suggest(prop, props),
                    )
                spec = kind.props[prop]
                ops = cond if isinstance(cond, dict) else {"$eq": cond}
                parts.append(self._operators(attribute, prop, spec, ops, alias, f"{where}.{prop}"))
            return " AND ".join(s for s, _ in parts), [p for _, ps in parts for p in ps]
        if value is None:
            return self._operators(attribute, "", kind.props[""], {"$not_empty": False}, alias, where)
        return self._operators(attribute, "", kind.props[""], {"$eq": value}, alias, where)

    def _operators(
        self,
        attribute: sqlite3.Row,
        prop: str,
        spec: Prop,
        ops: dict[str, Any],
        alias: str,
        where: str,
    ) -> Sql:
        if not ops:
            raise filter_error(where, "Empty operator object")
        parts: list[Sql] = []
        for op, operand in ops.items():
            here = f"{where}.{op}"
            if op not in OPERATORS:
                raise filter_error(here, f"Unknown operator {op!r}." + suggest(op, sorted(OPERATORS)))
            if op not in spec.ops:
                name = f"{attribute['type']}{'.' + prop if prop else ''}"
                raise filter_error(here, f"{op} does not apply to {name}; use {', '.join(sorted(spec.ops))}")
            base = "SELECT owner_id FROM keys WHERE attribute_id = ? AND prop = ?"
            params: list[Any] = [attribute["id"], prop]
            if op == "$not_empty":
                if not isinstance(operand, bool):
                    raise filter_error(here, "$not_empty takes true or false")
                parts.append((f"{alias}.id {'IN' if operand else 'NOT IN'} ({base})", params))
                continue
            test, extra = self._compare(attribute["type"], spec, op, operand, here)
            parts.append((f"{alias}.id IN ({base} AND {test})", params + extra))
        return " AND ".join(s for s, _ in parts), [p for _, ps in parts for p in ps]

    def _compare(self, attribute_type: str, spec: Prop, op: str, operand: Any, where: str) -> Sql:
        if op in ("$contains", "$starts_with", "$ends_with"):
            if not isinstance(operand, str) or len(operand) > MAX_TEXT:
                raise filter_error(where, f"{op} takes a string of at most {MAX_TEXT:,} characters")
            text = operand.lower()
            if op == "$starts_with":
                return "lk >= ? AND lk < ?", [text, text + "\U0010ffff"]
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%" if op == "$contains" else f"%{escaped}"
            return "lk LIKE ? ESCAPE '\\'", [pattern]
        if op == "$in":
            if not isinstance(operand, list) or len(operand) > MAX_IN:
                raise filter_error(where, f"$in takes a list of at most {MAX_IN} values")
            keys = [self._key(attribute_type, spec, v, where) for v in operand]
            if not keys:
                return "0", []
            column = "nk" if spec.numeric else "sk"
            return f"{column} IN ({', '.join('?' * len(keys))})", keys
        key = self._key(attribute_type, spec, operand, where)
        column = "nk" if spec.numeric else "sk"
        return f"{column} {COMPARE.get(op, '=')} ?", [key]

    def _key(self, attribute_type: str, spec: Prop, operand: Any, where: str) -> Any:
        if spec.numeric:
            if not is_bounded_number(operand):
                shown = "an integer beyond that" if type(operand) is int else repr(operand)
                raise filter_error(
                    where,
                    f"{attribute_type} compares with finite numbers of magnitude at most {MAX_NUMBER:g}, "
                    f"got {shown}",
                )
            return float(operand)
        if isinstance(operand, bool):
            return "true" if operand else "false"
        if attribute_type == "timestamp":
            parsed = parse_timestamp(operand)
            if parsed is None:
                raise filter_error(where, f"Expected an ISO 8601 timestamp with offset, got {operand!r}")
            return parsed.isoformat(timespec="microseconds")
        if not isinstance(operand, str | int | float):
            raise filter_error(where, f"Expected a string or number, got {type(operand).__name__}")
        if isinstance(operand, str) and len(operand) > MAX_TEXT:
            raise filter_error(where, f"A text operand has at most {MAX_TEXT:,} characters")
        return operand if isinstance(operand, str) else str(operand)

    def _pseudo(self, name: str, value: Any, alias: str, where: str) -> Sql:
        column = f"{alias}.{PSEUDO[name]}"
        ops = value if isinstance(value, dict) else {"$eq": value}
        parts: list[Sql] = []
        for op, operand in ops.items():
            here = f"{where}.{op}"
            allowed = {"$eq", "$in"} if name == "record_id" else {"$eq", "$in", "$lt", "$lte", "$gt", "$gte"}
            if op not in allowed:
                raise filter_error(here, f"{op} does not apply to {name}; use {', '.join(sorted(allowed))}")
            operands = operand if op == "$in" else [operand]
            if not isinstance(operands, list) or len(operands) > MAX_IN:
                raise filter_error(here, f"$in takes a list of at most {MAX_IN} values")
            keys = []
            for v in operands:
                if name == "record_id":
                    if not isinstance(v, str):
                        raise filter_error(here, "record_id compares with strings")
                    keys.append(v)
                else:
                    parsed = parse_timestamp(v)
                    if parsed is None:
                        raise filter_error(here, f"Expected an ISO 8601 timestamp with offset, got {v!r}")
                    keys.append(parsed.isoformat(timespec="microseconds"))
            if op == "$in":
                parts.append((f"{column} IN ({', '.join('?' * len(keys))})" if keys else "0", keys))
            else:
                parts.append((f"{column} {COMPARE.get(op, '=')} ?", keys))
        return " AND ".join(s for s, _ in parts), [p for _, ps in parts for p in ps]

    def _steps(self, parent_id: str, path: Any, where: str) -> list[sqlite3.Row]:
        """The attributes along a path, checked: each but the last is a reference to the next object."""
        if not isinstance(path, list) or not 1 <= len(path) <= 5:
            raise filter_error(where, "path takes 1 to 5 steps of [object, attribute]")
        steps: list[sqlite3.Row] = []
        current: str | None = parent_id  # None once a step names no object
        for i, step in enumerate(path):
            here = f"{where}[{i}]"
            if not (isinstance(step, list) and len(step) == 2 and all(isinstance(s, str) for s in step)):
                raise filter_error(here, "Each step is [object_slug, attribute_slug]")
            object_id = self._object_id(step[0])
            if object_id is None or object_id != current:
                raise filter_error(here, f"Step starts at {step[0]!r}, but the path is at another object")
            attribute = self._attribute(object_id, step[1], here)
            if i < len(path) - 1:
                if attribute["type"] != "record-reference":
                    raise filter_error(here, f"{step[1]!r} is a {attribute['type']}, not a record reference")
                current = self._object_id(path[i + 1][0]) if isinstance(path[i + 1], list) else None
            steps.append(attribute)
        return steps

    def _path(self, parent_id: str, node: dict[str, Any], alias: str, where: str) -> Sql:
        if "path" not in node or "constraints" not in node:
            raise filter_error(where, "A path filter needs both path and constraints")
        steps = self._steps(parent_id, node["path"], f"{where}.path")
        last = steps[-1]
        target = f"t{len(steps)}"
        sql, params = self._condition(last, node["constraints"], target, f"{where}.constraints")
        inner = (
            f"SELECT {target}.id FROM records {target} WHERE {target}.object_id = ? AND {sql}",
            [last["parent_id"], *params],
        )
        for attribute in reversed(steps[:-1]):
            inner = (
                f"SELECT owner_id FROM keys WHERE attribute_id = ? AND prop = '' AND sk IN ({inner[0]})",
                [attribute["id"], *inner[1]],
            )
        return f"{alias}.id IN ({inner[0]})", inner[1]

    # ------------------------------------------------------------------ sorts

    def order_by(self, parent_id: str, sorts: Any, alias: str = "r") -> Sql:
        if sorts is None:
            return f"{alias}.created_at, {alias}.id", []
        if not isinstance(sorts, list) or len(sorts) > 10:
            raise filter_error("sorts", "sorts takes a list of at most 10 sort keys")
        parts: list[str] = []
        params: list[Any] = []
        for i, sort in enumerate(sorts):
            where = f"sorts[{i}]"
            direction = sort.get("direction") if isinstance(sort, dict) else None
            if direction not in ("asc", "desc"):
                raise filter_error(where, "direction must be asc or desc")
            field = sort.get("field")
            if "attribute" in sort and sort["attribute"] in PSEUDO:
                parts.append(f"{alias}.{PSEUDO[sort['attribute']]} {direction}")
                continue
            if "attribute" in sort:
                steps = [self._attribute(parent_id, sort["attribute"], where, pseudo=True)]
            elif "path" in sort:
                steps = self._steps(parent_id, sort["path"], f"{where}.path")
            else:
                raise filter_error(where, "A sort needs an attribute or a path")
            last = steps[-1]
            kind = TYPES[last["type"]]
            prop = field or ""
            if prop not in kind.props:
                raise filter_error(
                    f"{where}.field",
                    f"{last['type']} has no property {prop!r}." + suggest(prop, [p for p in kind.props if p]),
                )
            column = "nk" if kind.props[prop].numeric else "lk"
            # Walk the path: k0 belongs to the record, each next key to the record the previous refers to.
            joins = " ".join(
                f"JOIN keys k{j} ON k{j}.owner_id = k{j - 1}.sk AND k{j}.attribute_id = ? AND k{j}.prop = ?"
                for j in range(1, len(steps))
            )
            join_params: list[Any] = []
            for j, attribute in enumerate(steps[1:], start=1):
                join_params += [attribute["id"], prop if j == len(steps) - 1 else ""]
            n = len(steps) - 1
            first_prop = prop if len(steps) == 1 else ""
            agg = "MIN" if direction == "asc" else "MAX"
            sub = (
                f"(SELECT {agg}(k{n}.{column}) FROM keys k0 {joins} WHERE k0.owner_id = {alias}.id "
                f"AND k0.attribute_id = ? AND k0.prop = ?)"
            )
            parts.append(f"{sub} IS NULL, {sub} {direction}")
            params += [*join_params, steps[0]["id"], first_prop] * 2
        parts.append(f"{alias}.created_at, {alias}.id")
        return ", ".join(parts), params
