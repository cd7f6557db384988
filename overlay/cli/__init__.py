"""The ``crm`` command line.

Exit codes, the same for every command: 0 done; 1 the run failed (the API or the network
failed, or some rows or lines were rejected); 2 bad input (a usage error, an argument, a file
or a setting that cannot be used). Errors are one message on stderr, never a traceback, and
never a secret: every message goes through ``redact`` first.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .._errors import APIError, ConfigurationError, CRMError, InvalidArgumentError, MappingError

SECRET_VARIABLES = ("CRM_API_KEY", "CRM_WEBHOOK_SECRET")


def version_text() -> str:
    """The SDK's version (from the installed package's metadata) and the API version it speaks."""
    from importlib import metadata

    from .._config import LATEST_VERSION, SUPPORTED_VERSIONS

    try:
        sdk = metadata.version("crm-sdk")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        from .. import __version__ as sdk
    chosen = os.environ.get("CRM_VERSION")
    if chosen and chosen != LATEST_VERSION:
        speaks = f"API version {chosen} (from CRM_VERSION; default {LATEST_VERSION})"
    else:
        speaks = f"API version {LATEST_VERSION} by default (CRM_VERSION picks another)"
    return f"crm-sdk {sdk}\n{speaks}; supported: {', '.join(SUPPORTED_VERSIONS)}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret, and the escaped forms a repr or a bytes repr gives it, as ``***``."""
    forms: set[str] = set()
    for secret in secrets:
        for value in {secret, secret.strip()}:
            if len(value) >= 4:  # shorter is no secret, and would blank ordinary words
                forms |= {value, repr(value)[1:-1], repr(value.encode("utf-8", "surrogatepass"))[2:-1]}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _secrets(args: argparse.Namespace | None) -> list[str]:
    found = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    found += os.environ.get("CRM_WEBHOOK_SECRET", "").split(",")
    found += getattr(args, "secret", None) or []
    return [secret for secret in found if secret]


def port(text: str) -> int:
    """A TCP port, 0 (pick a free one) to 65535."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return number


def positive(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return number


def one_character(text: str) -> str:
    """A CSV delimiter: one character (``\\t`` spells a tab)."""
    text = "\t" if text == "\\t" else text
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character, got {text!r}")
    return text


def _folder_exists(path: str | None, option: str) -> None:
    """Refuse a file to write whose folder is missing, before any work is done."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise InvalidArgumentError(f"{option} {path}: the folder {Path(path).parent} does not exist")


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
    import contextlib
    import sqlite3

    if args.db:
        _folder_exists(args.db, "--db")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(config, args.host, args.port)
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot open the database {args.db or ':memory:'}: {exc}") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


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
        client = _client(stack, args.sandbox)
        query = client.records(args.object).where(*([args.where] if args.where else []))
        keys = [key for given in args.order for key in given.split(",") if key]
        query = query.order_by(*keys).limit(args.limit)
        if args.include:
            query = query.include(*args.include)
        _print_records(query, _columns(client, args.object, args.columns), args.json, args.include or [])
    return 0


def _client(stack: Any, sandbox: bool) -> Any:
    """The client of ``CRM_API_KEY`` and ``CRM_BASE_URL``, or of a fresh seeded sandbox."""
    from .._sandbox import Sandbox
    from .._sync.client import Client

    if sandbox:
        return stack.enter_context(stack.enter_context(Sandbox(seed_data=True)).connect())
    return stack.enter_context(Client())


def run_import(args: argparse.Namespace) -> int:
    import contextlib

    from ..io._plan import parse_map
    from ..io._write import tagged

    error_file = args.error_file or str(tagged(args.file, ".errors"))
    _folder_exists(error_file, "--error-file")
    _folder_exists(args.journal, "--journal")
    with contextlib.ExitStack() as stack:
        client = _client(stack, args.sandbox)
        try:
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
        except MappingError as exc:  # say which file: the message names only its columns
            text = str(exc)
            raise MappingError(exc.column, text if args.file in text else f"{args.file}: {text}") from None
    if report.rejected == 0 and args.error_file is None:
        Path(error_file).unlink(missing_ok=True)
        report.error_file = None
    print(report)
    if report.mapping and args.dry_run:
        print(
            "mapping: " + ", ".join(f"{column} → {attribute}" for column, attribute in report.mapping.items())
        )
    return 0 if report.rejected == 0 else 1


def run_export(args: argparse.Namespace) -> int:
    import contextlib

    for spec in args.flatten_column or []:
        if not spec.partition("=")[2]:
            raise InvalidArgumentError(f"--flatten-column takes SLUG=MODE (first, join, json), got {spec!r}")
    flatten = {"*": args.flatten, **dict(spec.partition("=")[::2] for spec in args.flatten_column or [])}
    _folder_exists(args.output, "--output")
    _folder_exists(args.state, "--state")
    with contextlib.ExitStack() as stack:
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
    print(report)
    return 0


def run_webhooks_listen(args: argparse.Namespace) -> int:
    import contextlib
    import json
    import logging

    from ..webhooks import Router, event_type

    try:
        from crm_sandbox.server import LoopbackServer
    except ImportError:
        raise ConfigurationError("it serves with uvicorn: pip install 'crm-sdk[sandbox]'.") from None
    secrets = args.secret or [s for s in os.environ.get("CRM_WEBHOOK_SECRET", "").split(",") if s]
    if not secrets:
        raise ConfigurationError("give --secret or set CRM_WEBHOOK_SECRET")
    for position, secret in enumerate(secrets, start=1):  # a password would decode as base64
        if not secret.strip().startswith("whsec_"):
            raise ConfigurationError(f"webhook secret #{position} does not start with 'whsec_'")
    router = Router(secrets, tolerance=args.tolerance, legacy=args.legacy)

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
    try:
        server = LoopbackServer(router, args.host, args.port)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"Listening for webhook deliveries on {server.url} (any path); Ctrl-C stops.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()
    return 0


class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(version_text())
        parser.exit(0)


def _group(parser: argparse.ArgumentParser, title: str) -> Any:
    """Subcommands of ``parser``; the group alone prints its help (with them) and exits 0."""
    parser.set_defaults(run=None, group=parser)
    return parser.add_subparsers(
        title=title, metavar="COMMAND", help=f"`{parser.prog} COMMAND -h` shows its options"
    )


def _command(commands: Any, name: str, run: Any, **kwargs: Any) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    command.set_defaults(run=run, group=None, prog=command.prog)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="The CRM SDK's command line. Commands that talk to the API use CRM_API_KEY, "
        "CRM_BASE_URL and CRM_VERSION (or --sandbox where offered).",
        epilog="Exit codes: 0 done, 1 the run failed (or rejected some rows), 2 bad input.",
    )
    parser.add_argument("--version", action=_Version, help="print the SDK's and the API's versions")
    commands = _group(parser, "commands")
    sandbox = _command(commands, "sandbox", run_sandbox, help="run the reference server on loopback")
    sandbox.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=port, default=0, help="0 picks a free port (default)")
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

    query = _command(
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

    add_import(commands)
    add_export(commands)
    add_migrate(commands)
    add_migrate_code(commands)

    webhooks = commands.add_parser("webhooks", help="work with webhook deliveries")
    webhook_commands = _group(webhooks, "webhooks commands")
    listen = _command(
        webhook_commands,
        "listen",
        run_webhooks_listen,
        help="a development receiver that prints each verified event",
        description="Verifies every delivery (refusals go to stderr) and prints its events.",
    )
    listen.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    listen.add_argument("--port", type=port, default=0, help="0 picks a free port (default)")
    listen.add_argument(
        "--secret",
        action="append",
        help="a whsec_ secret (repeatable, for a rotation); default: CRM_WEBHOOK_SECRET, comma-separated",
    )
    listen.add_argument("--tolerance", type=float, default=300, help="seconds of clock skew allowed")
    listen.add_argument("--legacy", action="store_true", help="also accept the 2025-01-01 CRM-Signature")
    listen.add_argument("--json", action="store_true", help="print each event as a JSON line")
    return parser


def add_import(commands: Any) -> None:
    command = _command(
        commands,
        "import",
        run_import,
        help="import a CSV, JSON lines, Excel or Parquet file into records",
        description="Columns map to attributes by header (or --map); rejected rows go to FILE.errors.EXT. "
        "Exits 0 when every row was accepted, 1 when some were rejected or the run failed, "
        "2 on bad input (an option, the file, its mapping, the settings).",
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
    add(
        "--delimiter", type=one_character, help="the CSV's delimiter, one character or \\t (default: sniffed)"
    )
    add("--sheet", help="the Excel sheet (default: the first)")
    add("--date-format", action="append", help="a strptime format tried first, e.g. %%d/%%m/%%Y")
    add("--dayfirst", action="store_true", help="read 03/04/2025 as 3 April")
    add("--phone-region", help="the country of numbers without +, e.g. GB")
    add("--decimal", choices=[".", ","], default=".", help="the decimal mark (default .)")
    add("--quiet", action="store_true", help="no progress bar")
    add("--sandbox", action="store_true", help="import into a fresh sandbox with the sample data")


def add_export(commands: Any) -> None:
    command = _command(
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
    add("--state", help="a state file: export only what changed since its watermark")
    add("--split-rows", type=positive, help="at most N rows per file (out-00001.csv, ...)")
    add("--format", choices=["csv", "jsonl", "xlsx", "parquet"], help="default: from the extension")
    add("--no-escape-formulas", action="store_true", help="write cells starting with = + - @ as they are")
    add("--quiet", action="store_true", help="no progress bar")
    add("--sandbox", action="store_true", help="export from a fresh sandbox with the sample data")


def add_migrate(commands: Any) -> None:
    command = _command(
        commands,
        "migrate",
        run_migrate,
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


def add_migrate_code(commands: Any) -> None:
    command = _command(
        commands,
        "migrate-code",
        run_migrate_code,
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


def run_migrate_code(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import migrations
    from .._errors import CRMError

    try:
        from ..migrations._codemod import CodeChanges, rewrite_paths
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

    from .. import migrations
    from .._errors import CRMError
    from ..io._write import tagged

    source = Path(args.file)
    to_version = args.to_version or migrations.LATEST
    try:
        ordered = migrations.VERSIONS.index(args.from_version) <= migrations.VERSIONS.index(to_version)
        moved = migrations.upgrade if ordered else migrations.downgrade
        lines = source.open(encoding="utf-8")  # an OSError is main's: the file, and why
    except CRMError as exc:
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


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    print(f"{args.prog}: {redact(message, _secrets(args))}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crm`` with ``argv`` (default: the process's arguments); returns the exit code."""
    argv = _attach_values(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.run is None:
        args.group.print_help()
        return 0
    try:
        return int(args.run(args))
    except (InvalidArgumentError, ConfigurationError) as exc:
        return _fail(args, str(exc), 2)
    except APIError as exc:
        text, request_id = str(exc), getattr(exc, "request_id", None)
        if request_id and request_id not in text:
            text += f" (request {request_id})"
        return _fail(args, text, 1)
    except CRMError as exc:
        return _fail(args, str(exc), 1)
    except OSError as exc:  # a file the user named that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(args, f"{where}{exc.strerror or exc}", 2)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except Exception as exc:  # a bug: still one line, with no config value in it
        return _fail(args, f"unexpected {type(exc).__name__}: {exc}", 1)
