"""The ``crm`` command line.

Exit codes, the same for every command: 0 done; 1 the run failed (the API or the network
failed, or some rows or lines were rejected); 2 bad input (a usage error, an argument, a file
or a setting that cannot be used). Errors are one message on stderr, never a traceback, and
never a secret: every message goes through ``redact`` first.

Each command group is a module of this package with an ``add_parser(commands)`` that adds its
commands, each set to run its ``run_*(args)``; ``main`` runs the chosen one and turns what it
raises into the exit code and the message. The modules import what a command needs (the
client, the sandbox, rich, libcst) only when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import APIError, ConfigurationError, CRMError, InvalidArgumentError
from . import export, import_, migrate, mirror, query, sandbox, webhooks
from ._common import add_group

# The command groups, in the order `crm -h` lists them.
GROUPS = (sandbox, query, import_, export, mirror, migrate, webhooks)

SECRET_VARIABLES = ("CRM_API_KEY", "CRM_WEBHOOK_SECRET")


def version_text() -> str:
    """The SDK's version (from the installed package's metadata) and the API version it speaks."""
    from importlib import metadata

    from .._config import LATEST_VERSION, SUPPORTED_VERSIONS

    try:
        sdk = metadata.version("crm-sdk")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        from .._version import __version__ as sdk
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


class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(version_text())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="The CRM SDK's command line. Commands that talk to the API use CRM_API_KEY, "
        "CRM_BASE_URL and CRM_VERSION (or --sandbox where offered).",
        epilog="Exit codes: 0 done, 1 the run failed (or rejected some rows), 2 bad input.",
    )
    parser.add_argument("--version", action=_Version, help="print the SDK's and the API's versions")
    commands = add_group(parser, "commands")
    for group in GROUPS:
        group.add_parser(commands)
    return parser


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


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush into the closed pipe
    does not print an error either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test captures it)
        pass


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
        code = int(args.run(args))
        sys.stdout.flush()  # here, so a reader that left is handled below, not at exit
        return code
    except (InvalidArgumentError, ConfigurationError) as exc:
        return _fail(args, str(exc), 2)
    except APIError as exc:
        text, request_id = str(exc), getattr(exc, "request_id", None)
        if request_id and request_id not in text:
            text += f" (request {request_id})"
        return _fail(args, text, 1)
    except CRMError as exc:
        return _fail(args, str(exc), 1)
    except BrokenPipeError:  # the reader left (crm query | head): stop quietly, as Unix tools do
        _silence_stdout()
        return 128 + 13  # what a shell reports for a process ended by SIGPIPE
    except OSError as exc:  # a file the user named that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(args, f"{where}{exc.strerror or exc}", 2)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except Exception as exc:  # a bug: still one line, with no config value in it
        return _fail(args, f"unexpected {type(exc).__name__}: {exc}", 1)
