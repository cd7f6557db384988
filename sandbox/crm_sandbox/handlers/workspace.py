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
    return 201, {"data": ctx.catalog.create_object(ctx.data)}


def get_object(ctx: Ctx) -> Reply:
    catalog = ctx.catalog
    return 200, {"data": catalog.render_object(catalog.object_row(ctx.path["object"]))}


def update_object(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.catalog.update_object(ctx.path["object"], ctx.data)}


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
    parent_id, kind, _ = _parent(ctx)
    catalog = ctx.catalog
    return 201, {"data": catalog.render_attribute(catalog.create_attribute(parent_id, kind, ctx.data))}


def _attribute(ctx: Ctx) -> sqlite3.Row:
    parent_id, _, slug = _parent(ctx)
    return ctx.catalog.attribute_row(parent_id, ctx.path["attribute"], slug)


def get_attribute(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.catalog.render_attribute(_attribute(ctx))}


def update_attribute(ctx: Ctx) -> Reply:
    catalog = ctx.catalog
    return 200, {"data": catalog.render_attribute(catalog.update_attribute(_attribute(ctx), ctx.data))}


def list_select_options(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    rows = catalog.options(attribute, archived=ctx.query["show_archived"])
    return 200, {"data": [catalog.render_option(attribute, r) for r in rows]}


def create_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    return 201, {
        "data": catalog.render_option(attribute, catalog.create_option(attribute, ctx.data["title"]))
    }


def update_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.catalog, _attribute(ctx)
    row = catalog.update_option(attribute, ctx.path["option"], ctx.data)
    return 200, {"data": catalog.render_option(attribute, row)}
