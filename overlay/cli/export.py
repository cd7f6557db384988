"""``crm export``: an object's records to CSV, JSON lines, Excel or Parquet."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import InvalidArgumentError
from ._common import add_command, folder_exists, open_client, positive


def run_export(args: argparse.Namespace) -> int:
    import contextlib

    for spec in args.flatten_column or []:
        if not spec.partition("=")[2]:
            raise InvalidArgumentError(f"--flatten-column takes SLUG=MODE (first, join, json), got {spec!r}")
    flatten = {"*": args.flatten, **dict(spec.partition("=")[::2] for spec in args.flatten_column or [])}
    folder_exists(args.output, "--output")
    folder_exists(args.state, "--state")
    with contextlib.ExitStack() as stack:
        client = open_client(stack, args.sandbox)
        query = client.records(args.object).where(*([args.where] if args.where else []))
        report = query.export(
            args.output,
            format=args.format,
            columns=args.columns.split(",") if args.columns else None,
            flatten=flatten,
            state=args.state,
            split_rows=args.split_rows,
            escape_formulas=not args.no_escape_formulas,
            progress=not args.quiet,
        )
    print(report)
    return 0


def add_parser(commands: Any) -> None:
    command = add_command(
        commands,
        "export",
        run_export,
        help="export an object's records to CSV, JSON lines, Excel or Parquet",
        description="Streams page by page. With --state, only records changed since the last run.",
    )
    add = command.add_argument
    add("object", help="the object's slug, e.g. people")
    add("-o", "--output", required=True, help="the file: .csv, .jsonl(.gz), .xlsx or .parquet")
    add("--where", help='a text query, e.g. "rating >= 3"')
    add("--columns", help="comma-separated: record_id and attribute slugs (default: all)")
    add("--flatten", choices=["first", "join", "json"], default="join", help="multiple values (default join)")
    add("--flatten-column", action="append", help="SLUG=MODE for one column (repeatable)")
    add(
        "--state",
        help="a state file: export only what changed (and what was deleted) since its last run",
    )
    add("--split-rows", type=positive, help="at most N rows per file (out-00001.csv, ...)")
    add("--format", choices=["csv", "jsonl", "xlsx", "parquet"], help="default: from the extension")
    add("--no-escape-formulas", action="store_true", help="write cells starting with = + - @ as they are")
    add("--quiet", action="store_true", help="no progress bar")
    add("--sandbox", action="store_true", help="export from a fresh sandbox with the sample data")
