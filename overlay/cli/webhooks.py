"""``crm webhooks``: a development receiver that verifies deliveries and prints their events."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .._errors import ConfigurationError
from ._common import add_command, add_group, port


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


def add_parser(commands: Any) -> None:
    webhooks = commands.add_parser("webhooks", help="work with webhook deliveries")
    webhook_commands = add_group(webhooks, "webhooks commands")
    listen = add_command(
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
