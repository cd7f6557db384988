"""The client's settings: from arguments, else from ``CRM_*`` environment variables.

=================  =================  =========================================
argument           environment        default
=================  =================  =========================================
``api_key``        ``CRM_API_KEY``    required
``base_url``       ``CRM_BASE_URL``   required
``version``        ``CRM_VERSION``    the latest version, ``2026-04-01``
``log``            ``CRM_LOG``        off (``debug``, ``info`` or ``warning``)
``timeout``                           60 s, 5 s to connect
``max_retries``                       2
=================  =================  =========================================
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from crm_client.api_versions import VERSIONS

from . import _logging
from ._errors import ConfigurationError

SUPPORTED_VERSIONS = VERSIONS  # every dated spec, oldest first (make regen lists them)
LATEST_VERSION = VERSIONS[-1]
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
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
    rate_limit: bool
    idempotency_keys: bool
    log: str | None
    metadata_ttl: float
    on_request: tuple[Hook, ...]
    on_response: tuple[Hook, ...]

    def headers(self) -> dict[str, str]:
        from . import __version__

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
        return check(replace(self, **given))


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value, connect=min(5.0, value))


def check(options: Options) -> Options:
    """Refuse settings the client cannot work with, saying which and why."""
    if not options.api_key:
        raise ConfigurationError(_NO_KEY)
    if not options.base_url:
        raise ConfigurationError(_NO_URL)
    if not re.match(r"^https?://", options.base_url):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {options.base_url!r}.")
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
    rate_limit: bool,
    idempotency_keys: bool,
    metadata_ttl: float,
    on_request: Sequence[Hook],
    on_response: Sequence[Hook],
) -> Options:
    """Arguments first, then the environment, then the defaults."""
    env = os.environ
    return check(
        Options(
            api_key=api_key or env.get("CRM_API_KEY", ""),
            base_url=(base_url or env.get("CRM_BASE_URL", "")).rstrip("/"),
            version=version or env.get("CRM_VERSION") or LATEST_VERSION,
            timeout=_timeout(timeout),
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
            rate_limit=rate_limit,
            idempotency_keys=idempotency_keys,
            log=log or env.get("CRM_LOG") or None,
            metadata_ttl=metadata_ttl,
            on_request=tuple(on_request),
            on_response=tuple(on_response),
        )
    )


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
