"""The ``crm`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any


def rate_limits(spec: str) -> tuple[float | None, float | None]:
    """``"off"``, ``"100/25"`` (reads/writes per second) or ``"50"`` (both)."""
    if spec == "off":
        return None, None
    read, _, write = spec.partition("/")
    try:
        return float(read), float(write or read)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected READS/WRITES per second or 'off', got {spec!r}") from None


def chaos(spec: str) -> Any:
    from crm_sandbox import Chaos

    try:
        return Chaos.parse(spec)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_sandbox(args: argparse.Namespace) -> int:
    from crm_sandbox import Chaos, SandboxConfig
    from crm_sandbox.config import DEFAULT_TOKEN
    from crm_sandbox.server import serve_forever

    read_rate, write_rate = args.rate_limit
    config = SandboxConfig(
        tokens=tuple(args.token or [DEFAULT_TOKEN]),
        db_path=args.db or ":memory:",
        read_rate=read_rate,
        write_rate=write_rate,
        chaos=args.chaos or Chaos(),
        seed_data=args.seed_data,
    )
    serve_forever(config, args.host, args.port)
    return 0


def _cell(value: Any) -> str:
    from ._records import Record

    if isinstance(value, Record):
        return str(value.first("name", value.id))
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if value is None:
        return ""
    return str(getattr(value, "target_record_id", None) or value)


def _print_records(records: Any, columns: list[str] | None, as_json: bool) -> int:
    import json

    shown = 0
    if as_json:
        for record in records:
            print(json.dumps(record.to_dict(), default=str))
            shown += 1
        return shown
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        raise SystemExit(
            "crm query prints tables with rich: pip install 'crm-sdk[cli]' (or use --json)."
        ) from None
    rows = list(records)
    slugs = columns or sorted({slug for record in rows for slug in record.slugs()})
    table = Table("record_id", *slugs)
    for record in rows:
        table.add_row(record.id, *(_cell(record.all(slug)) for slug in slugs))
    Console().print(table)
    return len(rows)


def run_query(args: argparse.Namespace) -> int:
    import contextlib

    from ._errors import CRMError

    with contextlib.ExitStack() as stack:
        try:
            client = _client(stack, args.sandbox)
            query = client.records(args.object).where(*([args.where] if args.where else []))
            keys = [key for given in args.order for key in given.split(",") if key]
            query = query.order_by(*keys).limit(args.limit)
            if args.include:
                query = query.include(*args.include)
            _print_records(query, args.columns.split(",") if args.columns else None, args.json)
        except CRMError as exc:
            print(f"crm query: {exc}", file=sys.stderr)
            return 2
    return 0


def _client(stack: Any, sandbox: bool) -> Any:
    """The client of ``CRM_API_KEY`` and ``CRM_BASE_URL``, or of a fresh seeded sandbox."""
    from ._sandbox import Sandbox
    from ._sync.client import Client

    if sandbox:
        return stack.enter_context(stack.enter_context(Sandbox(seed_data=True)).connect())
    return stack.enter_context(Client())


def run_import(args: argparse.Namespace) -> int:
    import contextlib
    import os

    from ._errors import CRMError
    from .io._plan import parse_map
    from .io._write import tagged

    error_file = args.error_file or str(tagged(args.file, ".errors"))
    with contextlib.ExitStack() as stack:
        try:
            client = _client(stack, args.sandbox)
            report = client.import_file(
                args.file,
                args.object,
                match=args.match,
                mapping=parse_map(args.map or []),
                dry_run=args.dry_run,
                error_file=error_file,
                format=args.format,
                encoding=args.encoding,
                delimiter=args.delimiter,
                sheet=args.sheet,
                ignore=args.ignore or [],
                unmapped="ignore" if args.ignore_unmapped else "error",
                journal=args.journal,
                progress=not args.quiet,
                date_formats=args.date_format or [],
                dayfirst=args.dayfirst,
                phone_region=args.phone_region,
                decimal=args.decimal,
            )
        except CRMError as exc:
            print(f"crm import: {exc}", file=sys.stderr)
            return 2
    if report.rejected == 0 and args.error_file is None:
        os.unlink(error_file)
        report.error_file = None
    print(report)
    if report.mapping and args.dry_run:
        print(
            "mapping: " + ", ".join(f"{column} → {attribute}" for column, attribute in report.mapping.items())
        )
    return 0 if report.rejected == 0 else 1


def run_export(args: argparse.Namespace) -> int:
    import contextlib

    from ._errors import CRMError

    flatten = {"*": args.flatten, **dict(spec.partition("=")[::2] for spec in args.flatten_column or [])}
    with contextlib.ExitStack() as stack:
        try:
            client = _client(stack, args.sandbox)
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
        except CRMError as exc:
            print(f"crm export: {exc}", file=sys.stderr)
            return 2
    print(report)
    return 0


def run_webhooks_listen(args: argparse.Namespace) -> int:
    import json
    import logging
    import os

    from ._errors import ConfigurationError
    from .webhooks import Router, event_type

    try:
        from crm_sandbox.server import LoopbackServer
    except ImportError:
        raise SystemExit("crm webhooks listen serves with uvicorn: pip install 'crm-sdk[sandbox]'.") from None
    secrets = args.secret or [s for s in os.environ.get("CRM_WEBHOOK_SECRET", "").split(",") if s]
    if not secrets:
        print("crm webhooks listen: give --secret or set CRM_WEBHOOK_SECRET", file=sys.stderr)
        return 2
    try:
        router = Router(secrets, tolerance=args.tolerance, legacy=args.legacy)
    except ConfigurationError as exc:
        print(f"crm webhooks listen: {exc}", file=sys.stderr)
        return 2

    @router.on("*")
    def show(event: Any, delivery: Any) -> None:
        if args.json:
            line = json.dumps({"message_id": delivery.message_id, **event.to_dict()})
        else:
            named = event.to_dict().get("id", {})
            ids = " ".join(f"{k}={v}" for k, v in named.items() if k != "workspace_id")
            line = f"{delivery.message_id or delivery.scheme}  {event_type(event):<20} {ids}"
        print(line, flush=True)

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    server = LoopbackServer(router, args.host, args.port)
    print(f"Listening for webhook deliveries on {server.url} (any path); Ctrl-C stops.", flush=True)
    server.serve()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm", description="The CRM SDK's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="run the reference server on loopback")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    sandbox.add_argument("--db", help="SQLite file that survives a restart (default: in memory)")
    sandbox.add_argument("--token", action="append", help="accepted bearer token (repeatable)")
    sandbox.add_argument("--seed-data", action="store_true", help="start with sample records")
    sandbox.add_argument(
        "--rate-limit", type=rate_limits, default=(100.0, 25.0), help="READS/WRITES per second, or 'off'"
    )
    sandbox.add_argument(
        "--chaos",
        type=chaos,
        help="faults, e.g. 'error=0.1,429=0.05,drop=0.02,commit_drop=0.01,latency=0-20,seed=7'",
    )
    sandbox.set_defaults(run=run_sandbox)

    query = commands.add_parser(
        "query",
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
    query.add_argument("--limit", type=int, default=50, help="at most this many records (default 50)")
    query.add_argument("--include", nargs="+", help="reference attributes whose records to fetch too")
    query.add_argument("--columns", help="comma-separated attribute slugs to show (default: all)")
    query.add_argument("--json", action="store_true", help="JSON lines, one record each, instead of a table")
    query.add_argument("--sandbox", action="store_true", help="query a fresh sandbox with the sample data")
    query.set_defaults(run=run_query)

    add_import(commands)
    add_export(commands)
    add_migrate(commands)
    add_migrate_code(commands)

    webhooks = commands.add_parser("webhooks", help="work with webhook deliveries")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listen = webhook_commands.add_parser(
        "listen",
        help="a development receiver that prints each verified event",
        description="Verifies every delivery (refusals go to stderr) and prints its events.",
    )
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    listen.add_argument(
        "--secret",
        action="append",
        help="a whsec_ secret (repeatable, for a rotation); default: CRM_WEBHOOK_SECRET, comma-separated",
    )
    listen.add_argument("--tolerance", type=float, default=300, help="seconds of clock skew allowed")
    listen.add_argument("--legacy", action="store_true", help="also accept the 2025-01-01 CRM-Signature")
    listen.add_argument("--json", action="store_true", help="print each event as a JSON line")
    listen.set_defaults(run=run_webhooks_listen)
    return parser


def add_import(commands: Any) -> None:
    command = commands.add_parser(
        "import",
        help="import a CSV, JSON lines, Excel or Parquet file into records",
        description="Columns map to attributes by header (or --map); rejected rows go to FILE.errors.EXT. "
        "Exits 0 when every row was accepted, 1 when some were rejected, 2 on an error.",
    )
    add = command.add_argument
    add("file", help="the file: .csv, .tsv, .jsonl, .xlsx or .parquet (.csv.gz, .jsonl.gz)")
    add("--object", required=True, help="the object's slug, e.g. people")
    add("--match", help="a unique attribute to upsert on (default: create every row)")
    add("--map", action="append", help="COLUMN=ATTRIBUTE or COLUMN=ATTRIBUTE.PROPERTY (repeatable)")
    add("--ignore", action="append", help="a column to leave out (repeatable)")
    add("--ignore-unmapped", action="store_true", help="leave out every column that maps to nothing")
    add("--dry-run", action="store_true", help="check every row and count what would change")
    add("--error-file", help="where rejected rows go (default: FILE.errors.EXT)")
    add("--journal", help="a file that makes the import resumable")
    add("--format", choices=["csv", "jsonl", "xlsx", "parquet"], help="default: from the extension")
    add("--encoding", help="the CSV's encoding (default: detected)")
    add("--delimiter", help="the CSV's delimiter (default: sniffed)")
    add("--sheet", help="the Excel sheet (default: the first)")
    add("--date-format", action="append", help="a strptime format tried first, e.g. %%d/%%m/%%Y")
    add("--dayfirst", action="store_true", help="read 03/04/2025 as 3 April")
    add("--phone-region", help="the country of numbers without +, e.g. GB")
    add("--decimal", choices=[".", ","], default=".", help="the decimal mark (default .)")
    add("--quiet", action="store_true", help="no progress bar")
    add("--sandbox", action="store_true", help="import into a fresh sandbox with the sample data")
    command.set_defaults(run=run_import)


def add_export(commands: Any) -> None:
    command = commands.add_parser(
        "export",
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
    add("--state", help="a state file: export only what changed since its watermark")
    add("--split-rows", type=int, help="at most N rows per file (out-00001.csv, ...)")
    add("--format", choices=["csv", "jsonl", "xlsx", "parquet"], help="default: from the extension")
    add("--no-escape-formulas", action="store_true", help="write cells starting with = + - @ as they are")
    add("--quiet", action="store_true", help="no progress bar")
    add("--sandbox", action="store_true", help="export from a fresh sandbox with the sample data")
    command.set_defaults(run=run_export)


def add_migrate(commands: Any) -> None:
    command = commands.add_parser(
        "migrate",
        help="move stored payloads (JSON lines) from one API version to another",
        description="Each line is one instance of --schema. Lines that cannot be read or moved go to "
        "FILE.errors.jsonl with their line number and the reason. Exits 0 when every line moved, "
        "1 when some did not, 2 on an error.",
    )
    add = command.add_argument
    add("file", help="a .jsonl file, one payload per line")
    add("--schema", required=True, help="the schema of each line, e.g. Record, Task, WebhookDeliveryBody")
    add("--from", dest="from_version", required=True, help="the version the payloads are in")
    add("--to", dest="to_version", help="the version to move them to (default: the latest)")
    add("-o", "--output", help="where the moved payloads go (default: standard output)")
    command.set_defaults(run=run_migrate)


def add_migrate_code(commands: Any) -> None:
    command = commands.add_parser(
        "migrate-code",
        help="rewrite Python code written for an older API version (renamed fields and event names)",
        description="Renames what the version changes declare: fields (attributes, keyword arguments, "
        "string keys), fields nested into an object, and enum values such as webhook event names. "
        "Lists each change by line, and the places to review by hand: a value whose type or unit "
        "changed, a field that is gone. Needs crm-sdk[codemod]. Exits 0 when every file was read, "
        "1 when some could not be, 2 on an error.",
    )
    add = command.add_argument
    add("paths", nargs="+", help="Python files, or folders to search for them")
    add("--from", dest="from_version", required=True, help="the version the code was written for")
    add("--to", dest="to_version", help="the version to move it to (default: the latest)")
    add("--diff", action="store_true", help="print a unified diff and write nothing")
    command.set_defaults(run=run_migrate_code)


def run_migrate_code(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import migrations
    from ._errors import CRMError

    try:
        from .migrations._codemod import CodeChanges, rewrite_paths
    except ImportError:
        print("crm migrate-code: needs libcst: pip install 'crm-sdk[codemod]'", file=sys.stderr)
        return 2
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    try:
        if missing:
            raise CRMError(f"no such file or folder: {', '.join(missing)}")
        changes = CodeChanges.between(args.from_version, args.to_version or migrations.LATEST)
    except CRMError as exc:
        print(f"crm migrate-code: {exc}", file=sys.stderr)
        return 2
    results = rewrite_paths(paths, changes, write=not args.diff)
    for result in results:
        if result.error:
            print(f"{result.path}: {result.error}", file=sys.stderr)
        for edit in result.edits:
            print(f"{result.path}:{edit.line}: {edit}", file=sys.stderr)
        if args.diff:
            sys.stdout.write(result.diff)
    changed = sum(1 for r in results if r.diff)
    edits = sum(1 for r in results for e in r.edits if e.after is not None)
    review = sum(1 for r in results for e in r.edits if e.note)
    failed = sum(1 for r in results if r.error)
    done = "shown, nothing written" if args.diff else "written"
    files = f"{len(results)} file{'s' * (len(results) != 1)}"
    places = f"{review} place{'s' * (review != 1)}"
    print(f"crm migrate-code: {files} read, {changed} changed ({edits} edits, {done}); {places} to review"
          + (f"; {failed} could not be read" if failed else ""), file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def run_migrate(args: argparse.Namespace) -> int:
    import contextlib
    import json
    from pathlib import Path

    from . import migrations
    from ._errors import CRMError
    from .io._write import tagged

    source = Path(args.file)
    to_version = args.to_version or migrations.LATEST
    try:
        ordered = migrations.VERSIONS.index(args.from_version) <= migrations.VERSIONS.index(to_version)
        moved = migrations.upgrade if ordered else migrations.downgrade
        lines = source.open(encoding="utf-8")
    except (CRMError, OSError) as exc:
        print(f"crm migrate: {exc}", file=sys.stderr)
        return 2
    errors_path = tagged(source, ".errors")
    done = failed = 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(lines)
        out = stack.enter_context(Path(args.output).open("w")) if args.output else sys.stdout
        errors = None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
                result = moved(payload, args.schema, from_version=args.from_version, to_version=to_version,
                               copy_payload=False)  # fmt: skip
            except CRMError as exc:  # a wrong schema or version: every line would fail alike
                print(f"crm migrate: {exc}", file=sys.stderr)
                return 2
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                if errors is None:
                    errors = stack.enter_context(errors_path.open("w"))
                reason = (
                    f"not JSON: {exc.msg} at column {exc.colno}"
                    if isinstance(exc, json.JSONDecodeError)
                    else f"cannot move it: {exc}"
                )
                errors.write(json.dumps({"line": number, "error": reason, "text": line.rstrip("\n")}) + "\n")
                failed += 1
                continue
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            done += 1
    where = f"; {failed} not moved, listed in {errors_path}" if failed else ""
    print(f"{source}: {done} {args.schema} payloads moved from {args.from_version} to {to_version}{where}",
          file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def _attach_values(argv: Sequence[str]) -> list[str]:
    """``--order -created_at`` → ``--order=-created_at``: a descending key is not an option."""
    out: list[str] = []
    pending = False
    for arg in argv:
        if pending:
            out[-1] += f"={arg}"
            pending = False
        else:
            out.append(arg)
            pending = arg == "--order"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_attach_values(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
