"""The client's settings: from arguments, else from ``CRM_*`` environment variables.

===============  ========================  ====================================================
argument         environment               default
===============  ========================  ====================================================
``api_key``      ``CRM_API_KEY``           required
``base_url``     ``CRM_BASE_URL``          required
``version``      ``CRM_VERSION``           the latest version, ``2026-12-01``
``log``          ``CRM_LOG``               off (``debug``, ``info`` or ``warning``)
``timeout``                                60 s, 5 s to connect
``max_retries``                            2
``rate_limit``   ``CRM_RATE_LIMIT_REDIS``  in process; a Redis URL: shared (``RedisRateLimit``)
===============  ========================  ====================================================

The API key is stripped of surrounding whitespace (a key read from a file ends in a
newline); a key that still holds a character HTTP cannot carry in a header is refused with
``ConfigurationError`` naming the character's kind and position, never the key. A base URL
that is not an http(s) URL with a host (a port from 1 to 65535, if any; no query) is refused the
same way, when the client is made, as is one with a user name or password (httpx would send
them as Basic auth in place of the key); the password never shows in the message.
"""

from __future__ import annotations

import inspect
import math
import os
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import httpx
from crm_client.api_versions import VERSIONS

from . import _logging
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._shared_limit import RedisRateLimit

SUPPORTED_VERSIONS = VERSIONS  # every dated spec, oldest first (make regen lists them)
LATEST_VERSION = VERSIONS[-1]
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
MAX_RETRIES = 100  # past this, the backoff alone outlasts any useful wait
METADATA_TTL = 300.0

Hook = Callable[[Any], Any]

_NO_KEY = (
    "No API key: pass api_key= or set CRM_API_KEY. To try the SDK without an account, "
    "start the sandbox: `with overlay.Sandbox() as sb: client = sb.client`."
)
_NO_URL = (
    "No base URL: pass base_url= or set CRM_BASE_URL. To try the SDK without an account, "
    "start the sandbox: `with overlay.Sandbox() as sb: client = sb.client`."
)


@dataclass(frozen=True)
class Options:
    """Resolved settings; ``api_key`` never shows in the repr."""

    api_key: str = field(repr=False)
    base_url: str
    version: str
    timeout: httpx.Timeout
    max_retries: int
    rate_limit: bool | RedisRateLimit
    idempotency_keys: bool
    log: str | None
    metadata_ttl: float
    on_request: tuple[Hook, ...]
    on_response: tuple[Hook, ...]

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
        shown["base_url"] = _logging.redact_url(self.base_url)
        return f"Options({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def headers(self) -> dict[str, str]:
        from ._version import __version__

        return {
            "Authorization": f"Bearer {self.api_key}",
            "CRM-Version": self.version,
            "User-Agent": f"crm-sdk-python/{__version__}",
        }

    def updated(self, **changes: Any) -> Options:
        """A copy with the given settings changed (``None``: unchanged)."""
        given = {k: v for k, v in changes.items() if v is not None}
        if "timeout" in given:
            given["timeout"] = _timeout(given["timeout"])
        if "rate_limit" in given:
            given["rate_limit"] = _rate_limit(given["rate_limit"])
        for name in ("on_request", "on_response"):
            if name in given:
                given[name] = hooks(name, given[name])
        return check(replace(self, **given))


def hooks(name: str, value: Hook | Sequence[Hook]) -> tuple[Hook, ...]:
    """One callable or a sequence of them, as a tuple; anything else is refused by name."""
    if callable(value):
        given: tuple[Any, ...] = (value,)
    elif isinstance(value, list | tuple):
        given = tuple(value)
    else:
        raise ConfigurationError(f"{name} is a callable or a list of them, got {type(value).__name__}.")
    for i, hook in enumerate(given):
        if not callable(hook):
            raise ConfigurationError(f"{name}[{i}] is not callable: {type(hook).__name__}.")
    return given


def header_value_problem(value: str) -> str | None:
    """What keeps ``value`` out of an HTTP header, as "a non-ASCII character at position 7"
    (counted from 0), or None. Never quotes the value: it may be a secret."""
    for position, char in enumerate(value):
        if char == "\x00":
            kind = "a NUL character"
        elif char in "\r\n":
            kind = "a line break"
        elif (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F:
            kind = "a control character"
        elif ord(char) > 0x7E:
            kind = "a non-ASCII character"
        else:
            continue
        return f"{kind} at position {position}"
    return None


def url_problem(url: str) -> str | None:
    """What keeps ``url`` from being a base URL the client can send to, or None."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return "it has no scheme; start it with https:// (or http://)"
    if scheme.lower() not in ("http", "https"):
        return f"its scheme {scheme[:20]!r} is not http or https"
    for position, char in enumerate(url):
        if char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F:
            return f"it contains a space or control character at position {position}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # a ValueError when out of range or not a number
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"it is not a valid URL ({_logging.redact_text(str(exc))})"
    if not parts.hostname:
        return "it has no host"
    if parts.username is not None or parts.password is not None:
        return (
            "it carries a user name or password, which would replace the API key in the "
            "Authorization header; authenticate with api_key (CRM_API_KEY)"
        )
    if port == 0:
        return "port 0 cannot be connected to"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "it has a query string or fragment, but request paths are appended to it"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if not isinstance(value, httpx.Timeout) and not (_number(value) and 0 < value < math.inf):
        shown = value if _number(value) else type(value).__name__
        raise ConfigurationError(f"timeout is a number of seconds above 0 or an httpx.Timeout, got {shown}.")
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value, connect=min(5.0, value))


def check(options: Options) -> Options:
    """Refuse settings the client cannot work with, saying which and why; the API key and
    the base URL lose surrounding whitespace (and the URL a trailing slash) first."""
    for name in ("api_key", "base_url", "version"):  # never shown: the key is a secret
        kind = type(getattr(options, name)).__name__
        if kind != "str":
            raise ConfigurationError(f"{name} is text (str), got {kind}.")
    if isinstance(options.max_retries, bool) or not isinstance(options.max_retries, int):
        raise ConfigurationError(f"max_retries is a whole number, got {type(options.max_retries).__name__}.")
    if options.max_retries > MAX_RETRIES:
        raise ConfigurationError(f"max_retries is at most {MAX_RETRIES}, got {options.max_retries}.")
    if not _number(options.metadata_ttl) or not 0 <= options.metadata_ttl < math.inf:
        shown = options.metadata_ttl if _number(options.metadata_ttl) else type(options.metadata_ttl).__name__
        raise ConfigurationError(f"metadata_ttl is a number of seconds, 0 or more, got {shown}.")
    if options.log is not None and not isinstance(options.log, str):
        raise ConfigurationError(f"log is a level name, got {type(options.log).__name__}.")
    options = replace(options, api_key=options.api_key.strip(), base_url=options.base_url.strip())
    if not options.api_key:
        raise ConfigurationError(_NO_KEY)
    problem = header_value_problem(options.api_key)
    if problem is not None:
        raise ConfigurationError(f"The API key contains {problem}; an HTTP header cannot carry it.")
    if not options.base_url:
        raise ConfigurationError(_NO_URL)
    problem = url_problem(options.base_url)
    if problem is not None:
        shown = _logging.redact_url(options.base_url)
        raise ConfigurationError(f"base_url (CRM_BASE_URL) {shown!r} cannot be used: {problem}.")
    options = replace(options, base_url=options.base_url.rstrip("/"))
    if options.version not in SUPPORTED_VERSIONS:
        raise ConfigurationError(
            f"API version {options.version!r} is not supported; use one of {', '.join(SUPPORTED_VERSIONS)}."
        )
    if options.max_retries < 0:
        raise ConfigurationError(f"max_retries must be 0 or more, got {options.max_retries}.")
    if options.log is not None and options.log.lower() not in _logging.LEVELS:
        raise ConfigurationError(f"log must be one of {', '.join(_logging.LEVELS)}, got {options.log!r}.")
    return options


def resolve(
    *,
    api_key: str | None,
    base_url: str | None,
    version: str | None,
    log: str | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    rate_limit: bool | RedisRateLimit,
    idempotency_keys: bool,
    metadata_ttl: float,
    on_request: Hook | Sequence[Hook],
    on_response: Hook | Sequence[Hook],
) -> Options:
    """Arguments first, then the environment, then the defaults."""
    env = os.environ
    return check(
        Options(
            api_key=api_key or env.get("CRM_API_KEY", ""),
            base_url=base_url or env.get("CRM_BASE_URL", ""),
            version=version or env.get("CRM_VERSION") or LATEST_VERSION,
            timeout=_timeout(timeout),
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
            rate_limit=_rate_limit(rate_limit),
            idempotency_keys=idempotency_keys,
            log=log or env.get("CRM_LOG") or None,
            metadata_ttl=metadata_ttl,
            on_request=hooks("on_request", on_request),
            on_response=hooks("on_response", on_response),
        )
    )


def _rate_limit(value: object) -> bool | RedisRateLimit:
    """``rate_limit`` as given; True means the Redis limit ``CRM_RATE_LIMIT_REDIS`` names, if
    it is set. (The shared limiter's module loads only when one is asked for.)"""
    url = os.environ.get("CRM_RATE_LIMIT_REDIS", "").strip() if value is True else ""
    if isinstance(value, bool) and not url:
        return value
    from . import _redis
    from ._shared_limit import RedisRateLimit

    if isinstance(value, RedisRateLimit):
        return value
    if value is not True:
        raise ConfigurationError(
            f"rate_limit is True, False or an overlay.RedisRateLimit, got {type(value).__name__}."
        )
    return RedisRateLimit(_redis.check_url(url, "CRM_RATE_LIMIT_REDIS"))


def sync_event_hooks(options: Options) -> dict[str, list[Hook]]:
    """httpx event hooks for a sync client; coroutine functions cannot run there."""
    for hook in options.on_request + options.on_response:
        if inspect.iscoroutinefunction(hook):
            raise ConfigurationError(f"Hook {hook!r} is async; use it with overlay.AsyncClient.")
    return {"request": list(options.on_request), "response": list(options.on_response)}


def _awaitable(hook: Hook) -> Hook:
    if inspect.iscoroutinefunction(hook):
        return hook

    async def call(message: Any) -> None:
        hook(message)

    return call


def async_event_hooks(options: Options) -> dict[str, list[Hook]]:
    """httpx event hooks for an async client; plain functions are accepted too."""
    return {
        "request": [_awaitable(h) for h in options.on_request],
        "response": [_awaitable(h) for h in options.on_response],
    }
