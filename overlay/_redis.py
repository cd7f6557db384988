"""Connections to the Redis that processes sharing one token coordinate through.

Both shared stores (the rate limiter of ``overlay._shared_limit`` and the webhook seen store
of ``overlay.webhooks``) connect here: ``redis-py`` (the ``redis`` extra), short socket
timeouts and no hidden retries, so a Redis that is down or unreachable is known within
``timeout`` seconds instead of hanging a request. Its URL is shown with the password
redacted, and an error of ``redis-py`` or the OS is told apart from one of ours.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._logging import redact_text, redact_url

DEFAULT_TIMEOUT = 0.5  # seconds to connect to, or hear back from, Redis


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ConfigurationError(
            "Sharing state through Redis needs the redis package: pip install 'crm-sdk[redis]'."
        ) from exc
    return redis


def check_url(url: object, what: str) -> str:
    """``url`` if it is a redis://, rediss:// or unix:// URL; a ConfigurationError naming ``what`` if not."""
    if not isinstance(url, str) or urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        shown = redact_url(url) if isinstance(url, str) else type(url).__name__
        raise ConfigurationError(f"{what} is a redis://HOST:PORT/DB URL, got {shown!r}.")
    return url


def password_of(url: str) -> str:
    """The password in ``url``, to keep out of messages ('' when it has none)."""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def connect(url: str, *, timeout: float = DEFAULT_TIMEOUT, asynchronous: bool = False) -> Any:
    """A ``redis.Redis`` (or ``redis.asyncio.Redis``) for ``url`` that fails within ``timeout``."""
    redis = _redis()
    from redis.backoff import NoBackoff

    if asynchronous:
        import redis.asyncio as aredis
        from redis.asyncio.retry import Retry as AsyncRetry

        return aredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=AsyncRetry(NoBackoff(), 0),
        )
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=redis.retry.Retry(NoBackoff(), 0),
    )


def failures() -> tuple[type[BaseException], ...]:
    """What a call to Redis raises when Redis (or the way to it) fails."""
    redis = _redis()
    return (redis.RedisError, OSError, TimeoutError)


def describe(exc: BaseException, url: str) -> str:
    """``exc`` in a sentence without the URL's password."""
    return redact_text(f"{type(exc).__name__}: {exc}", [password_of(url)])
