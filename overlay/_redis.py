"""Connections to the Redis that processes sharing one token coordinate through.

Both shared stores (the rate limiter of ``overlay._shared_limit`` and the webhook seen store
of ``overlay.webhooks``) connect here: ``redis-py`` (the ``redis`` extra), short socket
timeouts and no hidden retries, so a Redis that is down or unreachable is known within
``timeout`` seconds instead of hanging a request. Its URL is shown with the password
redacted, and an error of ``redis-py`` or the OS is told apart from one of ours.
"""

from __future__ import annotations

import importlib.util
from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._logging import REDACTED, redact_exception, redact_text, redact_url

DEFAULT_TIMEOUT = 0.5  # seconds to connect to, or hear back from, Redis


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ConfigurationError(_MISSING) from exc
    return redis


_MISSING = "Sharing state through Redis needs the redis package: pip install 'crm-sdk[redis]'."


def require_package() -> None:
    """Refuse, when the setting is made rather than at the first request, without redis-py."""
    if importlib.util.find_spec("redis") is None:
        raise ConfigurationError(_MISSING)


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """(``scheme://``, userinfo, the rest) of ``url``; the userinfo runs to the last ``@``,
    so a password holding ``/``, ``#`` or ``@`` is found whole."""
    scheme, sep, rest = url.partition("://")
    if not sep:  # no scheme: all of it is the authority and what follows
        scheme, rest = "", url
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        return scheme + sep, userinfo, host
    return scheme + sep, "", rest


def shown(url: str) -> str:
    """``url`` as messages show it: any password replaced by ``[redacted]``."""
    start, userinfo, rest = _split_userinfo(url)
    if not userinfo:
        return redact_url(url)
    user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
    return redact_url(f"{start}{user + ':' if user else ''}{REDACTED}@{rest}")


def password_of(url: str) -> str:
    """The password in ``url``, to keep out of messages ('' when it has none)."""
    userinfo = _split_userinfo(url)[1]
    return userinfo.split(":", 1)[1] if ":" in userinfo else userinfo


def check_url(url: object, what: str) -> str:
    """``url`` if redis-py can connect with it (redis://, rediss:// or unix://, a port that is
    a number, a database that is one); a ConfigurationError naming ``what`` if not."""
    if not isinstance(url, str) or urlsplit(url.strip()).scheme not in ("redis", "rediss", "unix"):
        given = shown(url) if isinstance(url, str) else type(url).__name__
        raise ConfigurationError(f"{what} is a redis://HOST:PORT/DB URL, got {given!r}.")
    userinfo = _split_userinfo(url)[1]
    problem = None
    if any(char in userinfo for char in "/?#@"):
        problem = "its user name or password holds / ? # or @: percent-encode them (%2F %3F %23 %40)"
    else:
        try:
            parts = urlsplit(url)
            port = parts.port
            if parts.scheme != "unix" and not parts.hostname:
                problem = "it names no host"
            elif parts.scheme != "unix" and parts.path.strip("/") and not parts.path.strip("/").isdigit():
                problem = f"its database {parts.path.strip('/')!r} is not a number"
            elif port == 0:
                problem = "its port is 0"
        except ValueError as exc:  # a port that is not a number, a bad IPv6 literal
            problem = redact_text(str(exc), [password_of(url)])
    if problem is not None:
        raise ConfigurationError(f"{what} {shown(url)!r} cannot be used: {problem}.")
    return url


def check_seconds(value: object, what: str) -> float:
    """``value`` if it is a number of seconds > 0 (and finite); a ConfigurationError if not."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ConfigurationError(f"{what} is a number of seconds > 0, got {value!r}.")
    return float(value)


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
    """What a call to Redis raises when Redis (or the way to it) fails, or redis-py cannot
    use what it was given (its ``ValueError``)."""
    redis = _redis()
    return (redis.RedisError, OSError, TimeoutError, ValueError)


def describe(exc: BaseException, url: str) -> str:
    """``exc`` in a sentence without the URL's password; the password is taken out of ``exc``
    (and what it was raised from) too, as the overlay's error will carry it as its cause."""
    redact_exception(exc, [password_of(url)])
    return redact_text(f"{type(exc).__name__}: {exc}", [password_of(url)])
