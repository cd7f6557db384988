"""The ``overlay`` logger, and the redaction that keeps secrets out of it.

``CRM_LOG=debug`` (or ``Client(log="debug")``) logs every attempt with its headers and
body; ``info`` logs one line per attempt. Authorization, cookies, webhook secrets and
anything that looks like a token are replaced by ``[redacted]`` before a line is written.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

logger = logging.getLogger("overlay")

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization", "webhook-secret"})
SECRET_KEYS = frozenset({"secret", "token", "api_key", "password", "authorization"})
# Webhook secrets and bearer tokens inside free text (error messages, non-JSON bodies).
SECRET_TEXT = re.compile(r"whsec_[A-Za-z0-9+/=_-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+")
MAX_BODY = 2000


def setup(level: str | None) -> None:
    """Send the overlay's log to stderr at ``level`` unless the application set up logging."""
    if not level:
        return
    logger.setLevel(LEVELS.get(level.lower(), logging.WARNING))
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: REDACTED if name.lower() in SECRET_HEADERS else value for name, value in headers}


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k.lower() in SECRET_KEYS else _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, str):
        return SECRET_TEXT.sub(REDACTED, value)
    return value


def redact_body(content: bytes) -> str:
    """A body fit for a log line: secrets replaced, long bodies cut."""
    if not content:
        return ""
    try:
        text = json.dumps(_redact_json(json.loads(content)), ensure_ascii=False)
    except ValueError:
        text = SECRET_TEXT.sub(REDACTED, content[: MAX_BODY * 2].decode("utf-8", "replace"))
    return text if len(text) <= MAX_BODY else f"{text[:MAX_BODY]}... ({len(text)} chars)"


def request_line(method: str, url: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return f"{method} {url} headers={redact_headers(items)}"
