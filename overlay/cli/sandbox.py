"""``crm sandbox``: the reference server on loopback."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import ConfigurationError
from ._common import add_command, folder_exists, port


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
        folder_exists(args.db, "--db")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(config, args.host, args.port)
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot open the database {args.db or ':memory:'}: {exc}") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


def add_parser(commands: Any) -> None:
    sandbox = add_command(commands, "sandbox", run_sandbox, help="run the reference server on loopback")
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
