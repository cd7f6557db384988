"""The ``overlay`` logger, and the redaction that keeps secrets out of it.

``CRM_LOG=debug`` (or ``Client(log="debug")``) logs every attempt with its headers and
body; ``info`` logs one line per attempt. Authorization, cookies, webhook secrets,
anything that looks like a token, the password (or lone user name) of a URL
(``http://user:[redacted]@host``) and secret query parameters (``?token=[redacted]``) are
replaced by ``[redacted]`` before a line is written.
The same redaction filters what httpx and httpcore log (their debug lines can quote a
header), and the text of a foreign exception before the overlay wraps it.
"""

from __future__ import annotations

import contextlib
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
# Webhook secrets and bearer tokens inside free text (error messages, non-JSON bodies),
# also as the escaped text of a bytes repr (``b'Bearer sk_x\\n'``).
SECRET_TEXT = re.compile(r"whsec_[A-Za-z0-9+/=_-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=\\%-]+")
# A secret header in a bytes repr of headers, as httpcore logs them: (b'set-cookie', b'...').
SECRET_HEADER_BYTES = re.compile(
    r"(b'(?i:authorization|cookie|set-cookie|proxy-authorization|webhook-secret)', b')[^']*'"
)
# The userinfo of a URL: the password after "user:", or a lone user name (often a token).
URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)(?:([^\s/?#@:'\"]*):)?[^\s/?#@'\"]+@")
# A query parameter that carries a credential: ?token=..., &api_key=..., ;password=...
QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|signature|credential)[\w.-]*"
    r"|key|sig|pwd|auth|code)=)[^&#\s'\"]*"
)
MAX_BODY = 2000
FOREIGN_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def set_process_level(level: str | None) -> None:
    """Set the level of the process-wide ``overlay`` logger (every client logs to it, so the
    last ``log=`` given wins) and send it to stderr unless the application set up logging."""
    if not level:
        return
    logger.setLevel(LEVELS.get(level.lower(), logging.WARNING))
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)


def _userinfo(match: re.Match[str]) -> str:
    user = match.group(2)
    return f"{match.group(1)}{user}:{REDACTED}@" if user else f"{match.group(1)}{REDACTED}@"


def redact_url(text: str) -> str:
    """``text`` with the userinfo password of each URL and secret query parameters redacted."""
    return QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", URL_USERINFO.sub(_userinfo, text))


def scrub(text: str) -> str:
    """``text`` with bearer tokens, webhook secrets and URL credentials redacted."""
    return redact_url(SECRET_TEXT.sub(REDACTED, text))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` (also as a repr would escape it), bearer tokens,
    webhook secrets and secret headers replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            for form in {secret, repr(secret)[1:-1], repr(secret.encode("utf-8", "backslashreplace"))[2:-1]}:
                text = text.replace(form, REDACTED)
    text = SECRET_HEADER_BYTES.sub(lambda m: f"{m.group(1)}{REDACTED}'", text)
    return scrub(text)


def redact_exception(exc: BaseException, secrets: Iterable[str] = ()) -> None:
    """Redact, in place, the text of ``exc`` and of every exception it was raised from, so a
    traceback of the overlay's error that wraps it cannot show a secret either."""
    secrets = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        with contextlib.suppress(AttributeError, TypeError):  # an exception type with read-only args
            current.args = tuple(redact_text(a, secrets) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__


class RedactingFilter(logging.Filter):
    """Redacts secrets from the lines of loggers the overlay does not write (httpx, httpcore)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactingFilter()


def guard_foreign_loggers() -> None:
    """Put the redacting filter on httpx's and httpcore's loggers (once)."""
    for name in FOREIGN_LOGGERS:
        foreign = logging.getLogger(name)
        if _FILTER not in foreign.filters:
            foreign.addFilter(_FILTER)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Secret headers blanked; in the others, anything that looks like a token or a secret."""
    return {name: REDACTED if name.lower() in SECRET_HEADERS else scrub(value) for name, value in headers}


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k.lower() in SECRET_KEYS else _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def redact_body(content: bytes) -> str:
    """A body fit for a log line: secrets replaced, long bodies cut."""
    if not content:
        return ""
    try:
        text = json.dumps(_redact_json(json.loads(content)), ensure_ascii=False)
    except (ValueError, RecursionError):
        text = scrub(content[: MAX_BODY * 2].decode("utf-8", "replace"))
    return text if len(text) <= MAX_BODY else f"{text[:MAX_BODY]}... ({len(text)} chars)"


def request_line(method: str, url: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return f"{method} {redact_url(url)} headers={redact_headers(items)}"
