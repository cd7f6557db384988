"""``crm migrate`` (stored payloads) and ``crm migrate-code`` (Python code) between API versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._errors import CRMError
from ._common import add_command


def run_migrate(args: argparse.Namespace) -> int:
    import contextlib
    import json

    from .. import migrations
    from ..io._read import refuse_overwriting
    from ..io._write import tagged

    source = Path(args.file)
    to_version = args.to_version or migrations.LATEST
    try:
        ordered = migrations.VERSIONS.index(args.from_version) <= migrations.VERSIONS.index(to_version)
        moved = migrations.upgrade if ordered else migrations.downgrade
        moved(None, args.schema, from_version=args.from_version, to_version=to_version)  # the schema exists
        refuse_overwriting(source, output=args.output)
        lines = source.open("rb")  # an OSError is main's: the file, and why
    except CRMError as exc:
        print(f"crm migrate: {exc}", file=sys.stderr)
        return 2
    errors_path = tagged(source, ".errors")
    done = failed = 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(lines)
        out = stack.enter_context(Path(args.output).open("w")) if args.output else sys.stdout
        errors = None
        for number, raw in enumerate(lines, 1):
            line = raw.decode("utf-8", errors="backslashreplace")
            if not line.strip():
                continue
            try:
                raw.decode("utf-8")  # a line that is not UTF-8 is listed, and the rest still move
                payload = json.loads(line)
                if not isinstance(payload, dict):
                    raise ValueError(f"a JSON {type(payload).__name__}, not a {args.schema} object")
                result = moved(payload, args.schema, from_version=args.from_version, to_version=to_version,
                               copy_payload=False)  # fmt: skip
            except (CRMError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
                if errors is None:
                    errors = stack.enter_context(errors_path.open("w"))
                if isinstance(exc, json.JSONDecodeError):
                    reason = f"not JSON: {exc.msg} at column {exc.colno}"
                elif isinstance(exc, RecursionError):
                    reason = "not JSON this reads: nested too deeply"
                elif isinstance(exc, UnicodeDecodeError):
                    reason = f"not UTF-8 text: byte {exc.start + 1} is {raw[exc.start : exc.start + 1]!r}"
                else:  # the migration's own words when it wraps them
                    cause = exc.__cause__ if isinstance(exc, CRMError) and exc.__cause__ else exc
                    reason = f"cannot move it: {cause}"
                errors.write(json.dumps({"line": number, "error": reason, "text": line.rstrip("\n")}) + "\n")
                failed += 1
                continue
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            done += 1
    where = f"; {failed} not moved, listed in {errors_path}" if failed else ""
    print(f"{source}: {done} {args.schema} payloads moved from {args.from_version} to {to_version}{where}",
          file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def run_migrate_code(args: argparse.Namespace) -> int:
    from .. import migrations

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


def add_parser(commands: Any) -> None:
    command = add_command(
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

    command = add_command(
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
