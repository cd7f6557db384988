"""Records and their values: writing (create, append, replace), reading, querying, history.

The same machinery serves list entries, whose values belong to the list's attributes.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from typing import Any

from . import paging
from .catalog import Catalog
from .errors import APIError, bad_request, conflict
from .store import Store, dumps, new_id, now
from .values import TYPES, render

Actor = tuple[str, str | None]  # (type, id)
ACTIVE_VALUES = "SELECT id, data FROM vals WHERE owner_id = ? AND attribute_id = ? AND active_until IS NULL"


class Values:
    """Writes and reads the values of owners (records or entries) of one parent (object or list)."""

    def __init__(self, store: Store, catalog: Catalog, parent_id: str, parent_slug: str) -> None:
        self.store = store
        self.catalog = catalog
        self.parent_id = parent_id
        self.parent_slug = parent_slug
        self.attributes = {row["api_slug"]: row for row in catalog.attributes(parent_id)}
        self.by_id = {row["id"]: row for row in self.attributes.values()}
        self._option_rows: dict[str, Any] | None = None
        self._described_rows: dict[str, dict[str, Any]] = {}

    # Context for coercion -------------------------------------------------------------

    def option_id(self, attribute: dict[str, Any], ref: str) -> tuple[str, str]:
        row = self.catalog.option_row(attribute, ref)
        if row is None or row["is_archived"]:
            known = [r["title"] for r in self.catalog.options(attribute)]
            close = difflib.get_close_matches(ref, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Options: {', '.join(known) or 'none'}."
            raise bad_request(
                "unknown_select_option",
                f"Attribute {attribute['api_slug']!r} has no option {ref!r}.{hint}",
            )
        return row["id"], row["title"]

    def record_exists(self, object_ref: str, record_id: str) -> bool:
        return self.catalog.record_exists(object_ref, record_id)

    # Writing ------------------------------------------------------------------------------

    def attribute(self, slug: str) -> sqlite3.Row:
        row = self.attributes.get(slug) or self.by_id.get(slug)
        if row is None:
            close = difflib.get_close_matches(slug, list(self.attributes), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise bad_request(
                "unknown_attribute", f"Unknown attribute {slug!r} on {self.parent_slug!r}.{hint}"
            )
        return row

    def coerce(self, values: Any) -> dict[str, list[dict[str, Any]]]:
        """Check and normalise written values; returns slug -> stored values."""
        if not isinstance(values, dict):
            raise bad_request("invalid_request", "values must be an object keyed by attribute slug.")
        out: dict[str, list[dict[str, Any]]] = {}
        for slug, given in values.items():
            attribute = self.attribute(slug)
            if not attribute["is_writable"]:
                raise bad_request("read_only_attribute", f"Attribute {slug!r} is read-only.")
            items = given if isinstance(given, list) else [given]
            if len(items) > 1 and not attribute["is_multiselect"]:
                raise bad_request("not_multiselect", f"Attribute {slug!r} takes one value, got {len(items)}.")
            kind = TYPES[attribute["type"]]
            described = self._described(attribute)
            stored: list[dict[str, Any]] = []
            for item in items:
                value = kind.coerce(item, described, self)
                if value not in stored:
                    stored.append(value)
            out[attribute["api_slug"]] = stored
        return out

    def _described(self, attribute: sqlite3.Row) -> dict[str, Any]:
        """The attribute as a dict with its config parsed, as the type coercers take it."""
        slug = attribute["api_slug"]
        if slug not in self._described_rows:
            self._described_rows[slug] = dict(attribute) | {"config": json.loads(attribute["config"])}
        return self._described_rows[slug]

    def write(
        self,
        owner_id: str,
        values: dict[str, list[dict[str, Any]]],
        mode: str,
        actor: Actor,
        *,
        new: bool = False,
        unique_checked: str | None = None,
    ) -> None:
        """Apply coerced values. ``mode``: "replace" sets each attribute to exactly the values
        given; "append" adds to multiselect attributes and replaces the others.
        ``unique_checked`` names a unique attribute the caller has just found free."""
        if new:
            missing = [s for s, a in self.attributes.items() if a["is_required"] and not values.get(s)]
            if missing:
                raise bad_request(
                    "missing_required_attribute",
                    f"{self.parent_slug!r} requires {', '.join(repr(m) for m in missing)}.",
                )
        stamp = now()
        keys: list[tuple[Any, ...]] = []  # the lookup keys of the values added, inserted at once
        for slug, stored in values.items():
            attribute = self.attributes[slug]
            current = [] if new else self.store.all(ACTIVE_VALUES, (owner_id, attribute["id"]))
            current_values = [json.loads(row["data"]) for row in current]
            if mode == "append" and attribute["is_multiselect"]:
                to_add = [v for v in stored if v not in current_values]
                to_end: list[int] = []
            else:
                to_add = [v for v in stored if v not in current_values]
                to_end = [
                    row["id"] for row, v in zip(current, current_values, strict=True) if v not in stored
                ]
            if attribute["is_required"] and not new and len(current) - len(to_end) + len(to_add) == 0:
                raise bad_request(
                    "missing_required_attribute", f"{slug!r} is required and cannot be cleared."
                )
            if attribute["is_unique"] and slug != unique_checked:
                self._check_unique(attribute, owner_id, to_add)
            for val_id in to_end:
                self.store.db.execute("UPDATE vals SET active_until = ? WHERE id = ?", (stamp, val_id))
                self.store.db.execute(
                    "DELETE FROM keys WHERE owner_id = ? AND attribute_id = ? AND val_id = ?",
                    (owner_id, attribute["id"], val_id),
                )
            kind = TYPES[attribute["type"]]
            for value in to_add:
                cursor = self.store.db.execute(
                    "INSERT INTO vals (owner_id, attribute_id, active_from, active_until, actor_type, "
                    "actor_id, data) VALUES (?, ?, ?, NULL, ?, ?, ?)",
                    (owner_id, attribute["id"], stamp, actor[0], actor[1], dumps(value)),
                )
                keys.extend(
                    (cursor.lastrowid, owner_id, attribute["id"], prop, sk, sk.lower() if sk else None, nk)
                    for prop, sk, nk in kind.keys(value)
                )
        self.store.db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?)", keys)

    def would_change(self, owner_id: str, values: dict[str, list[dict[str, Any]]], mode: str) -> bool:
        """Whether writing coerced ``values`` (as ``write`` would, in ``mode``) changes anything."""
        for slug, stored in values.items():
            attribute = self.attributes[slug]
            current = [
                json.loads(row["data"]) for row in self.store.all(ACTIVE_VALUES, (owner_id, attribute["id"]))
            ]
            if any(v not in current for v in stored):
                return True
            appending = mode == "append" and attribute["is_multiselect"]
            if not appending and any(v not in stored for v in current):
                return True
        return False

    def _holder(self, attribute: sqlite3.Row, value: dict[str, Any], *, besides: str = "") -> str | None:
        """The owner (other than ``besides``) with an active value whose main key equals ``value``'s."""
        _, sk, nk = TYPES[attribute["type"]].keys(value)[0]
        row = self.store.one(
            "SELECT owner_id FROM keys WHERE attribute_id = ? AND prop = '' AND "
            + ("nk = ?" if sk is None else "sk = ?")
            + " AND owner_id != ? LIMIT 1",
            (attribute["id"], nk if sk is None else sk, besides),
        )
        return str(row[0]) if row else None

    def _check_unique(self, attribute: sqlite3.Row, owner_id: str, values: list[dict[str, Any]]) -> None:
        for value in values:
            holder = self._holder(attribute, value, besides=owner_id)
            if holder:
                _, text, number = TYPES[attribute["type"]].keys(value)[0]
                slug = attribute["api_slug"]
                raise conflict(
                    "uniqueness_conflict", f"Another record ({holder}) already has {slug} {text or number!r}."
                )

    def find_by(self, slug: str, stored: list[dict[str, Any]]) -> str | None:
        """The owner whose active value of a unique attribute equals one of ``stored``."""
        attribute = self.attributes[slug]
        return next((h for v in stored if (h := self._holder(attribute, v))), None)

    # Reading ------------------------------------------------------------------------------

    def render_value(
        self, attribute: sqlite3.Row, row: sqlite3.Row, options: dict[str, Any]
    ) -> dict[str, Any]:
        stored = json.loads(row["data"])
        option = None
        if attribute["type"] in ("select", "status"):
            option = options.get(stored["option_id"]) or {
                "id": stored["option_id"],
                "title": stored["title"],
                "is_archived": True,
            }
            option = self.catalog.render_option(attribute, option)
        return {
            "attribute_type": attribute["type"],
            "active_from": row["active_from"],
            "active_until": row["active_until"],
            "created_by_actor": {"type": row["actor_type"], "id": row["actor_id"]},
            **render(attribute["type"], stored, option),
        }

    def _options(self) -> dict[str, Any]:
        """The select and status options by id, read once (a ``Values`` lives for one request)."""
        if self._option_rows is None:
            ids = [a["id"] for a in self.attributes.values() if a["type"] in ("select", "status")]
            rows = (
                self.store.all(
                    f"SELECT * FROM options WHERE attribute_id IN ({','.join('?' * len(ids))})", ids
                )
                if ids
                else []
            )
            self._option_rows = {row["id"]: row for row in rows}
        return self._option_rows

    def read(self, owner_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The active values of each owner, keyed by attribute slug (every attribute present)."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = {
            owner: {slug: [] for slug in self.attributes} for owner in owner_ids
        }
        options = self._options()
        for start in range(0, len(owner_ids), 500):
            chunk = owner_ids[start : start + 500]
            rows = self.store.all(
                f"SELECT * FROM vals WHERE owner_id IN ({','.join('?' * len(chunk))}) "
                "AND active_until IS NULL "
                "ORDER BY id",
                chunk,
            )
            for row in rows:
                attribute = self.by_id.get(row["attribute_id"])
                if attribute is not None:
                    out[row["owner_id"]][attribute["api_slug"]].append(
                        self.render_value(attribute, row, options)
                    )
        return out

    def history(self, owner_id: str, slug: str, historic: bool) -> list[dict[str, Any]]:
        attribute = self.attribute(slug)
        sql = "SELECT * FROM vals WHERE owner_id = ? AND attribute_id = ?"
        if not historic:
            sql += " AND active_until IS NULL"
        rows = self.store.all(sql + " ORDER BY id", (owner_id, attribute["id"]))
        options = self._options()
        return [self.render_value(attribute, row, options) for row in rows]

    def clear(self, owner_id: str) -> None:
        self.store.db.execute("DELETE FROM keys WHERE owner_id = ?", (owner_id,))
        self.store.db.execute("DELETE FROM vals WHERE owner_id = ?", (owner_id,))


class Records:
    """The records of one object."""

    def __init__(self, store: Store, catalog: Catalog, object_ref: str) -> None:
        self.store = store
        self.catalog = catalog
        self.object = catalog.object_row(object_ref)
        self.values = Values(store, catalog, self.object["id"], self.object["api_slug"])

    def _row(self, record_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM records WHERE id = ? AND object_id = ?", (record_id, self.object["id"])
        )
        if row is None:
            raise APIError(404, "not_found", f"No {self.object['api_slug']} record {record_id!r}.")
        return row

    def render(self, rows: list[sqlite3.Row] | list[dict[str, Any]]) -> list[dict[str, Any]]:
        values = self.values.read([row["id"] for row in rows])
        ws = self.store.workspace_id
        return [
            {
                "id": {"workspace_id": ws, "object_id": self.object["id"], "record_id": row["id"]},
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
                "values": values[row["id"]],
            }
            for row in rows
        ]

    def get(self, record_id: str) -> dict[str, Any]:
        return self.render([self._row(record_id)])[0]

    def create(self, values: Any, actor: Actor) -> dict[str, Any]:
        return self._create(self.values.coerce(values), actor)

    def update(self, record_id: str, values: Any, mode: str, actor: Actor) -> dict[str, Any]:
        self._row(record_id)
        return self._update(record_id, self.values.coerce(values), mode, actor)

    def _create(
        self, coerced: dict[str, list[dict[str, Any]]], actor: Actor, unique_checked: str | None = None
    ) -> dict[str, Any]:
        row = {"id": new_id(), "object_id": self.object["id"], "created_at": now()}
        row["updated_at"] = row["created_at"]
        self.store.db.execute("INSERT INTO records VALUES (:id, :object_id, :created_at, :updated_at)", row)
        self.values.write(row["id"], coerced, "replace", actor, new=True, unique_checked=unique_checked)
        return self.render([row])[0]

    def _update(
        self, record_id: str, coerced: dict[str, list[dict[str, Any]]], mode: str, actor: Actor
    ) -> dict[str, Any]:
        self.values.write(record_id, coerced, mode, actor)
        self.store.db.execute("UPDATE records SET updated_at = ? WHERE id = ?", (now(), record_id))
        return self.get(record_id)

    def upsert(self, matching: str, values: Any, actor: Actor) -> tuple[dict[str, Any], str]:
        """Update the record matching ``values[matching]`` or create one; returns (record, status):
        ``created``, ``updated``, or ``unchanged`` (its values already equal these: nothing written)."""
        attribute = self.values.attribute(matching)
        if not attribute["is_unique"]:
            raise bad_request("not_unique", f"matching_attribute {matching!r} is not a unique attribute.")
        coerced = self.values.coerce(values)
        if not coerced.get(attribute["api_slug"]):
            raise bad_request("missing_matching_value", f"The body has no value for {matching!r}.")
        existing = self.values.find_by(attribute["api_slug"], coerced[attribute["api_slug"]])
        if existing is None:
            return self._create(coerced, actor, unique_checked=attribute["api_slug"]), "created"
        if not self.values.would_change(existing, coerced, "append"):
            return self.get(existing), "unchanged"
        return self._update(existing, coerced, "append", actor), "updated"

    def delete(self, record_id: str) -> list[sqlite3.Row]:
        """Delete a record, its values and the entries that point at it; returns those entries."""
        self._row(record_id)
        self.values.clear(record_id)
        entries = self.store.all("SELECT id, list_id FROM entries WHERE parent_record_id = ?", (record_id,))
        for entry in entries:
            self.values.clear(entry["id"])
        self.store.db.execute("DELETE FROM entries WHERE parent_record_id = ?", (record_id,))
        self.store.db.execute("DELETE FROM records WHERE id = ?", (record_id,))
        return entries

    def query(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        compiler = self.catalog.compiler()
        where, params = compiler.compile(self.object["id"], body.get("filter") or {})
        order, order_params = compiler.order_by(self.object["id"], body.get("sorts"))
        rows = self.store.all(
            f"SELECT r.* FROM records r WHERE r.object_id = ? AND {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [
                self.object["id"],
                *params,
                *order_params,
                *paging.window(body, 500),
            ],
        )
        return self.render(rows)

    def count(self, body: dict[str, Any]) -> int:
        """How many records match the body's filter."""
        where, params = self.catalog.compiler().compile(self.object["id"], body.get("filter") or {})
        found = self.store.one(
            f"SELECT COUNT(*) AS n FROM records r WHERE r.object_id = ? AND {where}",
            [self.object["id"], *params],
        )
        return int(found["n"]) if found else 0
