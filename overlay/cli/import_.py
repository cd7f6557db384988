"""``crm import``: a CSV, JSON lines, Excel or Parquet file into records."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._errors import MappingError
from ._common import add_command, folder_exists, one_character, open_client


def run_import(args: argparse.Namespace) -> int:
    import contextlib

    from ..io._plan import parse_map
    from ..io._write import tagged

    error_file = args.error_file or str(tagged(args.file, ".errors"))
    folder_exists(error_file, "--error-file")
    folder_exists(args.journal, "--journal")
    with contextlib.ExitStack() as stack:
        client = open_client(stack, args.sandbox)
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


def add_parser(commands: Any) -> None:
    command = add_command(
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
