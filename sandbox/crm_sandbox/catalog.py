"""Objects, lists' and objects' attributes, and select options: the workspace's schema.

The objects every workspace starts with are in ``standard_objects``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .errors import APIError, bad_request, conflict, not_found
from .filters import Compiler
from .store import Columns, Store, dumps, new_id, now
from .values import TYPES


class Catalog:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ objects

    def object_row(self, ref: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM objects WHERE api_slug = ? OR id = ?", (ref, ref))
        if row is None:
            known = [r[0] for r in self.store.all("SELECT api_slug FROM objects ORDER BY api_slug")]
            raise APIError(404, "not_found", f"No object {ref!r}. Objects: {', '.join(known)}.")
        return row

    def render_object(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": {"workspace_id": self.store.workspace_id, "object_id": row["id"]},
            "api_slug": row["api_slug"],
            "singular_noun": row["singular_noun"],
            "plural_noun": row["plural_noun"],
            "created_at": row["created_at"],
        }

    def list_objects(self) -> list[dict[str, Any]]:
        return [
            self.render_object(r)
            for r in self.store.all("SELECT * FROM objects ORDER BY created_at, api_slug")
        ]

    def create_object(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.store.one("SELECT 1 FROM objects WHERE api_slug = ?", (data["api_slug"],)):
            raise conflict("slug_taken", f"An object with api_slug {data['api_slug']!r} exists.")
        object_id = new_id()
        self.store.db.execute(
            "INSERT INTO objects VALUES (?, ?, ?, ?, ?)",
            (object_id, data["api_slug"], data["singular_noun"], data["plural_noun"], now()),
        )
        return self.render_object(self.object_row(object_id))

    def update_object(self, ref: str, data: dict[str, Any]) -> dict[str, Any]:
        row = self.object_row(ref)
        slug = data.get("api_slug", row["api_slug"])
        if slug != row["api_slug"] and self.store.one("SELECT 1 FROM objects WHERE api_slug = ?", (slug,)):
            raise conflict("slug_taken", f"An object with api_slug {slug!r} exists.")
        self.store.db.execute(
            "UPDATE objects SET api_slug = ?, singular_noun = ?, plural_noun = ? WHERE id = ?",
            (
                slug,
                data.get("singular_noun", row["singular_noun"]),
                data.get("plural_noun", row["plural_noun"]),
                row["id"],
            ),
        )
        return self.render_object(self.object_row(row["id"]))

    def record_exists(self, object_ref: str, record_id: str) -> bool:
        """Whether ``record_id`` is a record of the object named by slug or id."""
        row = self.store.one(
            "SELECT 1 FROM records r JOIN objects o ON o.id = r.object_id "
            "WHERE r.id = ? AND (o.api_slug = ? OR o.id = ?)",
            (record_id, object_ref, object_ref),
        )
        return row is not None

    def compiler(self) -> Compiler:
        """A filter and sort compiler over this workspace's attributes and objects."""

        def object_id(ref: str) -> str | None:
            row = self.store.one("SELECT id FROM objects WHERE api_slug = ? OR id = ?", (ref, ref))
            return row[0] if row else None

        return Compiler(self.attributes, object_id)

    # ------------------------------------------------------------------ lists

    def list_row(self, ref: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM lists WHERE api_slug = ? OR id = ?", (ref, ref))
        if row is None:
            known = [r[0] for r in self.store.all("SELECT api_slug FROM lists ORDER BY api_slug")]
            raise APIError(404, "not_found", f"No list {ref!r}. Lists: {', '.join(known) or 'none'}.")
        return row

    def render_list(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": {"workspace_id": self.store.workspace_id, "list_id": row["id"]},
            "api_slug": row["api_slug"],
            "name": row["name"],
            "parent_objects": json.loads(row["parent_objects"]),
            "created_at": row["created_at"],
        }

    def create_list(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.store.one("SELECT 1 FROM lists WHERE api_slug = ?", (data["api_slug"],)):
            raise conflict("slug_taken", f"A list with api_slug {data['api_slug']!r} exists.")
        parents = [self.object_row(ref)["api_slug"] for ref in data["parent_objects"]]
        list_id = new_id()
        self.store.db.execute(
            "INSERT INTO lists VALUES (?, ?, ?, ?, ?)",
            (list_id, data["api_slug"], data["name"], dumps(parents), now()),
        )
        return self.render_list(self.list_row(list_id))

    def update_list(self, ref: str, data: dict[str, Any]) -> dict[str, Any]:
        row = self.list_row(ref)
        slug = data.get("api_slug", row["api_slug"])
        if slug != row["api_slug"] and self.store.one("SELECT 1 FROM lists WHERE api_slug = ?", (slug,)):
            raise conflict("slug_taken", f"A list with api_slug {slug!r} exists.")
        self.store.db.execute(
            "UPDATE lists SET api_slug = ?, name = ? WHERE id = ?",
            (slug, data.get("name", row["name"]), row["id"]),
        )
        return self.render_list(self.list_row(row["id"]))

    # ------------------------------------------------------------------ attributes

    def attributes(self, parent_id: str, *, archived: bool = False) -> list[sqlite3.Row]:
        sql = "SELECT * FROM attributes WHERE parent_id = ?" + ("" if archived else " AND is_archived = 0")
        return self.store.all(sql + " ORDER BY created_at, rowid", (parent_id,))

    def attribute_row(self, parent_id: str, ref: str, parent_slug: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM attributes WHERE parent_id = ? AND (api_slug = ? OR id = ?)",
            (parent_id, ref, ref),
        )
        if row is None:
            known = [r["api_slug"] for r in self.attributes(parent_id)]
            raise APIError(
                404,
                "not_found",
                f"No attribute {ref!r} on {parent_slug!r}. Attributes: {', '.join(known)}.",
            )
        return row

    def currencies(self, path: dict[str, Any]) -> dict[str, str | None]:
        """The currency attributes of the object or list that ``path`` names: slug → default code."""
        if "object" in path:
            parent = self.object_row(path["object"])
        elif "list" in path:
            parent = self.list_row(path["list"])
        else:
            return {}
        return {
            row["api_slug"]: (json.loads(row["config"]).get("currency") or {}).get("default_currency_code")
            for row in self.attributes(parent["id"])
            if row["type"] == "currency"
        }

    def render_attribute(self, row: sqlite3.Row) -> dict[str, Any]:
        owner = "object_id" if row["parent_kind"] == "object" else "list_id"
        config = json.loads(row["config"])
        return {
            "id": {
                "workspace_id": self.store.workspace_id,
                owner: row["parent_id"],
                "attribute_id": row["id"],
            },
            "title": row["title"],
            "description": row["description"],
            "api_slug": row["api_slug"],
            "type": row["type"],
            "is_system_attribute": bool(row["is_system"]),
            "is_writable": bool(row["is_writable"]),
            "is_required": bool(row["is_required"]),
            "is_unique": bool(row["is_unique"]),
            "is_multiselect": bool(row["is_multiselect"]),
            "is_archived": bool(row["is_archived"]),
            "config": {
                "currency": config.get("currency"),
                "record_reference": config.get("record_reference"),
            },
            "created_at": row["created_at"],
        }

    def create_attribute(
        self, parent_id: str, parent_kind: str, data: dict[str, Any], *, system: bool = False
    ) -> sqlite3.Row:
        if self.store.one(
            "SELECT 1 FROM attributes WHERE parent_id = ? AND api_slug = ?",
            (parent_id, data["api_slug"]),
        ):
            raise conflict("slug_taken", f"An attribute with api_slug {data['api_slug']!r} exists here.")
        if data["type"] not in TYPES:
            raise bad_request("invalid_attribute_type", f"Unknown attribute type {data['type']!r}.")
        config = self._config_for(data["type"], data.get("config"))
        if data.get("is_unique") and data["type"] in ("checkbox", "select", "status", "rating"):
            raise bad_request("invalid_attribute", f"A {data['type']} attribute cannot be unique.")
        attribute_id = new_id()
        self.store.db.execute(
            "INSERT INTO attributes VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 0, ?, ?)",
            (
                attribute_id,
                parent_id,
                parent_kind,
                data["api_slug"],
                data["title"],
                data.get("description"),
                data["type"],
                int(system),
                int(data.get("is_required", False)),
                int(data.get("is_unique", False)),
                int(data.get("is_multiselect", False)),
                dumps(config),
                now(),
            ),
        )
        for title in data.get("options", []):
            self.store.db.execute("INSERT INTO options VALUES (?, ?, ?, 0)", (new_id(), attribute_id, title))
        row = self.store.one("SELECT * FROM attributes WHERE id = ?", (attribute_id,))
        assert row is not None
        return row

    def _config_for(self, attribute_type: str, given: dict[str, Any] | None) -> dict[str, Any]:
        """The config sections the type uses (others are ignored), with referenced objects checked."""
        section = {"currency": "currency", "record-reference": "record_reference"}.get(attribute_type)
        config = {section: given[section]} if section and given and given.get(section) else {}
        for slug in config.get("record_reference", {}).get("allowed_objects", []):
            self.object_row(slug)
        return config

    def update_attribute(self, row: sqlite3.Row, data: dict[str, Any]) -> sqlite3.Row:
        slug = data.get("api_slug", row["api_slug"])
        if slug != row["api_slug"] and self.store.one(
            "SELECT 1 FROM attributes WHERE parent_id = ? AND api_slug = ?",
            (row["parent_id"], slug),
        ):
            raise conflict("slug_taken", f"An attribute with api_slug {slug!r} exists here.")
        if row["is_system"] and "api_slug" in data and slug != row["api_slug"]:
            raise bad_request(
                "system_attribute", f"The slug of system attribute {row['api_slug']!r} is fixed."
            )
        config = json.loads(row["config"])
        if "config" in data:
            config = self._config_for(row["type"], data["config"])
        if data.get("is_unique") and not row["is_unique"]:
            duplicate = self.store.one(
                "SELECT sk FROM keys WHERE attribute_id = ? AND prop = '' "
                "GROUP BY sk HAVING COUNT(*) > 1 LIMIT 1",
                (row["id"],),
            )
            if duplicate:
                raise conflict(
                    "uniqueness_conflict",
                    f"Values of {row['api_slug']!r} repeat ({duplicate[0]!r}).",
                )
        self.store.db.execute(
            "UPDATE attributes SET api_slug = ?, title = ?, description = ?, is_required = ?, is_unique = ?, "
            "is_archived = ?, config = ? WHERE id = ?",
            (
                slug,
                data.get("title", row["title"]),
                data.get("description", row["description"]),
                int(data.get("is_required", row["is_required"])),
                int(data.get("is_unique", row["is_unique"])),
                int(data.get("is_archived", row["is_archived"])),
                dumps(config),
                row["id"],
            ),
        )
        updated = self.store.one("SELECT * FROM attributes WHERE id = ?", (row["id"],))
        assert updated is not None
        return updated

    # ------------------------------------------------------------------ select options

    def render_option(self, attribute: Columns, row: Columns) -> dict[str, Any]:
        owner = "object_id" if attribute["parent_kind"] == "object" else "list_id"
        return {
            "id": {
                "workspace_id": self.store.workspace_id,
                owner: attribute["parent_id"],
                "attribute_id": attribute["id"],
                "option_id": row["id"],
            },
            "title": row["title"],
            "is_archived": bool(row["is_archived"]),
        }

    def options(self, attribute: Columns, *, archived: bool = False) -> list[sqlite3.Row]:
        self._require_options(attribute)
        sql = "SELECT * FROM options WHERE attribute_id = ?" + ("" if archived else " AND is_archived = 0")
        return self.store.all(sql + " ORDER BY rowid", (attribute["id"],))

    def _require_options(self, attribute: Columns) -> None:
        if attribute["type"] not in ("select", "status"):
            raise bad_request(
                "not_a_select",
                f"Attribute {attribute['api_slug']!r} is a {attribute['type']}, which has no options.",
            )

    def option_row(self, attribute: Columns, ref: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT * FROM options WHERE attribute_id = ? AND (id = ? OR title = ?)",
            (attribute["id"], ref, ref),
        )

    def create_option(self, attribute: sqlite3.Row, title: str) -> sqlite3.Row:
        self._require_options(attribute)
        if self.option_row(attribute, title):
            raise conflict(
                "option_exists",
                f"Attribute {attribute['api_slug']!r} already has option {title!r}.",
            )
        option_id = new_id()
        self.store.db.execute("INSERT INTO options VALUES (?, ?, ?, 0)", (option_id, attribute["id"], title))
        row = self.option_row(attribute, option_id)
        assert row is not None
        return row

    def update_option(self, attribute: sqlite3.Row, ref: str, data: dict[str, Any]) -> sqlite3.Row:
        self._require_options(attribute)
        row = self.option_row(attribute, ref)
        if row is None:
            raise not_found("option", ref)
        title = data.get("title", row["title"])
        if title != row["title"] and self.option_row(attribute, title):
            raise conflict(
                "option_exists",
                f"Attribute {attribute['api_slug']!r} already has option {title!r}.",
            )
        self.store.db.execute(
            "UPDATE options SET title = ?, is_archived = ? WHERE id = ?",
            (title, int(data.get("is_archived", row["is_archived"])), row["id"]),
        )
        # Keep the filter index in step with the new title.
        self.store.db.execute(
            "UPDATE keys SET sk = ?, lk = ? WHERE attribute_id = ? AND prop IN ('', 'title') AND val_id IN "
            "(SELECT val_id FROM keys WHERE attribute_id = ? AND prop = 'option_id' AND sk = ?)",
            (title, title.lower(), attribute["id"], attribute["id"], row["id"]),
        )
        updated = self.option_row(attribute, row["id"])
        assert updated is not None
        return updated
