"""``crm mirror``: the workspace in SQLite, PostgreSQL or DuckDB, kept fresh from the change feed."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from .._errors import InvalidArgumentError, MirrorError
from ._common import add_command, open_client, positive


def _slugs(text: str | None) -> list[str] | None:
    if text is None:
        return None
    slugs = [s.strip() for s in text.split(",") if s.strip()]
    if not slugs:
        raise InvalidArgumentError(f"expected comma-separated slugs, got {text!r}")
    return slugs


def run_mirror(args: argparse.Namespace) -> int:
    from ..mirror import Mirror

    if args.wait is not None and not args.follow:
        raise InvalidArgumentError("--wait is how long each read of --follow waits; add --follow")
    if args.wait is not None and args.wait > 30:
        raise InvalidArgumentError(f"--wait takes 1 to 30 seconds, got {args.wait}")
    with contextlib.ExitStack() as stack:
        client = open_client(stack, args.sandbox)
        try:
            mirror = Mirror(
                client,
                args.url,
                objects=_slugs(args.objects),
                lists=_slugs(args.lists),
                soft_delete=args.soft_delete,
                progress=not args.quiet,
            )
        except MirrorError as exc:  # the destination or the version cannot be used: bad input
            raise InvalidArgumentError(str(exc)) from None
        stack.callback(mirror.close)
        if args.verify:
            checked = mirror.verify(repair=True)
            print(checked.summary())
            print(mirror.report.summary())
            return 0
        report = mirror.follow(wait=args.wait or 30) if args.follow else mirror.run()
        print(report.summary(), file=sys.stdout)
    return 0


def add_parser(commands: Any) -> None:
    command = add_command(
        commands,
        "mirror",
        run_mirror,
        help="mirror the workspace into SQLite, PostgreSQL or DuckDB, deletes included",
        description="The first run copies everything (from a feed position taken first), every run after "
        "applies the change feed since. Each batch commits with its cursor: a run stopped at any "
        "point resumes where it was. Needs the mirror extra (and postgres or duckdb).",
    )
    add = command.add_argument
    add("url", help="sqlite:///crm.db, postgresql://user@host/db or duckdb:///crm.duckdb")
    add("--objects", help="comma-separated object slugs (default: every object)")
    add("--lists", help="comma-separated list slugs (default: every list)")
    add("--follow", action="store_true", help="then keep following the feed (Ctrl-C stops cleanly)")
    add("--wait", type=positive, default=None, help="seconds each long poll waits in --follow (default 30)")
    add("--verify", action="store_true", help="compare every table with the API and repair what differs")
    add("--soft-delete", action="store_true", default=None, help="keep deleted rows, with _deleted_at set")
    add("--quiet", action="store_true", help="no progress display")
    add("--sandbox", action="store_true", help="mirror a fresh sandbox with the sample data")
