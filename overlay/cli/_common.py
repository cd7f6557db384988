"""What the command groups share: argument types, how a command is added, the client to use."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._errors import InvalidArgumentError


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


def folder_exists(path: str | None, option: str) -> None:
    """Refuse a file to write whose folder is missing, before any work is done."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise InvalidArgumentError(f"{option} {path}: the folder {Path(path).parent} does not exist")


def add_group(parser: argparse.ArgumentParser, title: str) -> Any:
    """Subcommands of ``parser``; the group alone prints its help (with them) and exits 0."""
    parser.set_defaults(run=None, group=parser)
    return parser.add_subparsers(
        title=title, metavar="COMMAND", help=f"`{parser.prog} COMMAND -h` shows its options"
    )


def add_command(commands: Any, name: str, run: Any, **kwargs: Any) -> argparse.ArgumentParser:
    """The parser of command ``name``, which ``main`` runs by calling ``run(args)``."""
    command: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    command.set_defaults(run=run, group=None, prog=command.prog)
    return command


def open_client(stack: Any, sandbox: bool) -> Any:
    """The client of ``CRM_API_KEY`` and ``CRM_BASE_URL``, or of a fresh seeded sandbox."""
    from .._sandbox import Sandbox
    from .._sync.client import Client

    if sandbox:
        return stack.enter_context(stack.enter_context(Sandbox(seed_data=True)).connect())
    return stack.enter_context(Client())
