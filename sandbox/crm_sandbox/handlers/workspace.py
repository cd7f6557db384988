"""self, objects, attributes and select options."""

from __future__ import annotations

import sqlite3

from ..context import Ctx, Reply, token_id


def get_self(ctx: Ctx) -> Reply:
    workspace = ctx.workspace
    return 200, {
        "data": {
            "active": True,
            "workspace_id": ctx.store.workspace_id,
            "workspace_name": workspace.name,
            "workspace_slug": workspace.name.lower().replace(" ", "-"),
            "token_id": token_id(ctx.token),
            "scopes": [
                "object:read",
                "object:write",
                "record:read",
                "record:write",
                "list:read",
                "list:write",
                "note:read",
                "note:write",
                "task:read",
                "task:write",
                "webhook:read",
                "webhook:write",
            ],
            "api_version": workspace.default_version,
        }
    }


def list_objects(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.catalog.list_objects()}


def create_object(ctx: Ctx) -> Reply:
    made = ctx.catalog.create_object(ctx.data)
    ctx.emit_schema("object.created", made, object=made["api_slug"])
    return 201, {"data": made}


def get_object(ctx: Ctx) -> Reply:
    catalog = ctx.catalog
    return 200, {"data": catalog.render_object(catalog.object_row(ctx.path["object"]))}


def update_object(ctx: Ctx) -> Reply:
    changed = ctx.catalog.update_object(ctx.path["object"], ctx.data)
    ctx.emit_schema("object.updated", changed, object=changed["api_slug"])
    return 200, {"data": changed}


def _parent(ctx: Ctx) -> tuple[str, str, str]:
    """(parent id, kind, slug) of the object or list named in the path."""
    catalog = ctx.catalog
    if "list" in ctx.path:
        row = catalog.list_row(ctx.path["list"])
        return row["id"], "list", row["api_slug"]
    row = catalog.object_row(ctx.path["object"])
    return row["id"], "object", row["api_slug"]


def list_attributes(ctx: Ctx) -> Reply:
    parent_id, _, _ = _parent(ctx)
    catalog = ctx.catalog
    rows = catalog.attributes(parent_id, archived=ctx.query["show_archived"])
    return 200, {"data": [catalog.render_attribute(r) for r in rows]}


def create_attribute(ctx: Ctx) -> Reply:
    parent_id, kind, slug = _parent(ctx)
    catalog = ctx.catalog
    made = catalog.render_attribute(catalog.create_attribute(parent_id, kind, ctx.data))
    ctx.emit_schema("attribute.created", made, **{kind: slug})
    return 201, {"data": made}


def _attribute(ctx: Ctx) -> sqlite3.Row:
    parent_id, _, slug = _parent(ctx)
    return ctx.catalog.attribute_row(parent_id, ctx.path["attribute"], slug)


def get_attribute(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.catalog.render_attribute(_attribute(ctx))}


def update_attribute(ctx: Ctx) -> Reply:
    catalog, before = ctx.catalog, _attribute(ctx)
    changed = catalog.render_attribute(catalog.update_attribute(before, ctx.data))
    archived = changed["is_archived"] and not before["is_archived"]
    ctx.emit_schema(f"attribute.{'archived' if archived else 'updated'}", changed, **_owner_slug(ctx))
    return 200, {"data": changed}


def _owner_slug(ctx: Ctx) -> dict[str, str]:
    """``{"object": slug}`` or ``{"list": slug}``: what the path's attribute belongs to."""
    _, kind, slug = _parent(ctx)
    return {kind: slug}


def list_select_options(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    rows = catalog.options(attribute, archived=ctx.query["show_archived"])
    return 200, {"data": [catalog.render_option(attribute, r) for r in rows]}


def create_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    made = catalog.render_option(attribute, catalog.create_option(attribute, ctx.data["title"]))
    ctx.emit_schema("select-option.created", made, **_owner_slug(ctx), attribute=attribute["api_slug"])
    return 201, {"data": made}


def update_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    before = catalog.option_row(attribute, ctx.path["option"])
    changed = catalog.render_option(attribute, catalog.update_option(attribute, ctx.path["option"], ctx.data))
    archived = changed["is_archived"] and before is not None and not before["is_archived"]
    kind = f"select-option.{'archived' if archived else 'updated'}"
    ctx.emit_schema(kind, changed, **_owner_slug(ctx), attribute=attribute["api_slug"])
    return 200, {"data": changed}
