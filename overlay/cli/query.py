"""``crm query``: the records of an object that match a text query, as a table or JSON lines."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import ConfigurationError, InvalidArgumentError
from ._common import add_command, open_client, positive


def _cell(value: Any) -> str:
    from .._records import Record

    if isinstance(value, Record):
        return str(value.first("name", value.id))
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if value is None:
        return ""
    return str(getattr(value, "target_record_id", None) or value)


def _dict_or_none(record: Any) -> Any:
    return None if record is None else record.to_dict()


def _json_line(record: Any, columns: list[str] | None, included: list[str]) -> str:
    """A record as the API sends it, its values cut to ``columns`` and each included
    reference's records (``null`` for one deleted) under ``included``."""
    import json

    data = record.to_dict()
    if columns is not None:
        data["values"] = {slug: v for slug, v in (data.get("values") or {}).items() if slug in columns}
    if included:
        data["included"] = {slug: [_dict_or_none(found) for found in record.all(slug)] for slug in included}
    return json.dumps(data, default=str)


def _print_records(records: Any, columns: list[str] | None, as_json: bool, included: list[str]) -> int:
    shown = 0
    if as_json:
        for record in records:
            print(_json_line(record, columns, included))
            shown += 1
        return shown
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        raise ConfigurationError(
            "crm query prints tables with rich: pip install 'crm-sdk[cli]' (or use --json)."
        ) from None
    rows = list(records)
    slugs = columns or sorted({slug for record in rows for slug in record.slugs()})
    table = Table("record_id", *slugs)
    for record in rows:
        table.add_row(record.id, *(_cell(record.all(slug)) for slug in slugs))
    Console().print(table)
    return len(rows)


def _columns(client: Any, object: str, given: str | None) -> list[str] | None:
    """The ``--columns`` slugs, each checked against the object's attributes."""
    import difflib

    columns = [slug.strip() for slug in (given or "").split(",") if slug.strip()]
    if not columns:
        return None
    known = [*client.metadata.attributes(object), "record_id", "created_at", "updated_at"]
    for slug in columns:
        if slug not in known:
            near = difflib.get_close_matches(slug, known, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else f" Attributes: {', '.join(sorted(known))}."
            raise InvalidArgumentError(f"--columns: {object} has no attribute {slug!r}.{hint}")
    return columns


def run_query(args: argparse.Namespace) -> int:
    import contextlib

    with contextlib.ExitStack() as stack:
        client = open_client(stack, args.sandbox)
        query = client.records(args.object).where(*([args.where] if args.where else []))
        keys = [key for given in args.order for key in given.split(",") if key]
        query = query.order_by(*keys).limit(args.limit)
        if args.include:
            query = query.include(*args.include)
        _print_records(query, _columns(client, args.object, args.columns), args.json, args.include or [])
    return 0


def add_parser(commands: Any) -> None:
    query = add_command(
        commands,
        "query",
        run_query,
        help="print the records of an object that match a text query",
        description="Uses CRM_API_KEY and CRM_BASE_URL, or --sandbox for a seeded sandbox.",
    )
    query.add_argument("object", help="the object's slug, e.g. people")
    query.add_argument("--where", help="a text query, e.g. \"name ~ 'ada' and rating >= 3\"")
    query.add_argument(
        "--order",
        action="append",
        default=[],
        help="a sort key (repeatable), e.g. -created_at or name.last_name",
    )
    query.add_argument("--limit", type=positive, default=50, help="at most this many records (default 50)")
    query.add_argument("--include", nargs="+", help="reference attributes whose records to fetch too")
    query.add_argument("--columns", help="comma-separated attribute slugs to show (default: all)")
    query.add_argument("--json", action="store_true", help="JSON lines, one record each, instead of a table")
    query.add_argument("--sandbox", action="store_true", help="query a fresh sandbox with the sample data")
