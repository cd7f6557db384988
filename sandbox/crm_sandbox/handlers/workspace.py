"""self, objects, attributes and select options."""

from __future__ import annotations

from ..context import Ctx, Reply, handler


@handler("get_self")
def get_self(ctx: Ctx) -> Reply:
    sb = ctx.sandbox
    return 200, {
        "data": {
            "active": True,
            "workspace_id": sb.store.workspace_id,
            "workspace_name": sb.config.workspace_name,
            "workspace_slug": sb.config.workspace_name.lower().replace(" ", "-"),
            "token_id": sb.token_id(ctx.token),
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
            "api_version": sb.config.api_version,  # the default of requests without CRM-Version
        }
    }


@handler("list_objects")
def list_objects(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.sandbox.catalog.list_objects()}


@handler("create_object")
def create_object(ctx: Ctx) -> Reply:
    return 201, {"data": ctx.sandbox.catalog.create_object(ctx.data)}


@handler("get_object")
def get_object(ctx: Ctx) -> Reply:
    catalog = ctx.sandbox.catalog
    return 200, {"data": catalog.render_object(catalog.object_row(ctx.path["object"]))}


@handler("update_object")
def update_object(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.sandbox.catalog.update_object(ctx.path["object"], ctx.data)}


def _parent(ctx: Ctx) -> tuple[str, str, str]:
    """(parent id, kind, slug) of the object or list named in the path."""
    catalog = ctx.sandbox.catalog
    if "list" in ctx.path:
        row = catalog.list_row(ctx.path["list"])
        return row["id"], "list", row["api_slug"]
    row = catalog.object_row(ctx.path["object"])
    return row["id"], "object", row["api_slug"]


@handler("list_attributes")
@handler("list_list_attributes")
def list_attributes(ctx: Ctx) -> Reply:
    parent_id, _, _ = _parent(ctx)
    catalog = ctx.sandbox.catalog
    rows = catalog.attributes(parent_id, archived=ctx.query["show_archived"])
    return 200, {"data": [catalog.render_attribute(r) for r in rows]}


@handler("create_attribute")
@handler("create_list_attribute")
def create_attribute(ctx: Ctx) -> Reply:
    parent_id, kind, _ = _parent(ctx)
    catalog = ctx.sandbox.catalog
    return 201, {"data": catalog.render_attribute(catalog.create_attribute(parent_id, kind, ctx.data))}


def _attribute(ctx: Ctx):  # type: ignore[no-untyped-def]
    parent_id, _, slug = _parent(ctx)
    return ctx.sandbox.catalog.attribute_row(parent_id, ctx.path["attribute"], slug)


@handler("get_attribute")
def get_attribute(ctx: Ctx) -> Reply:
    return 200, {"data": ctx.sandbox.catalog.render_attribute(_attribute(ctx))}


@handler("update_attribute")
def update_attribute(ctx: Ctx) -> Reply:
    catalog = ctx.sandbox.catalog
    return 200, {"data": catalog.render_attribute(catalog.update_attribute(_attribute(ctx), ctx.data))}


@handler("list_select_options")
def list_select_options(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.sandbox.catalog, _attribute(ctx)
    rows = catalog.options(attribute, archived=ctx.query["show_archived"])
    return 200, {"data": [catalog.render_option(attribute, r) for r in rows]}


@handler("create_select_option")
def create_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.sandbox.catalog, _attribute(ctx)
    return 201, {
        "data": catalog.render_option(attribute, catalog.create_option(attribute, ctx.data["title"]))
    }


@handler("update_select_option")
def update_select_option(ctx: Ctx) -> Reply:
    catalog, attribute = ctx.sandbox.catalog, _attribute(ctx)
    row = catalog.update_option(attribute, ctx.path["option"], ctx.data)
    return 200, {"data": catalog.render_option(attribute, row)}
