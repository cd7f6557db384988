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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
