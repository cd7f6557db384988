"""What a client and the copies ``with_options`` makes share: the connection pool, and,
while they talk to the same account, the rate limiter and the metadata cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from .._clock import Clock
from .._config import Options
from .._errors import ConfigurationError
from .._metadata_core import TTLCache
from .._ratelimit import RateLimiter
from .._transport import AsyncClientTransport, Pacer

if TYPE_CHECKING:
    from .._shared_limit import RedisRateLimit, SharedRateLimiter


class SharedPool:
    """The connections under a client and its copies; closed when the last of them is."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self.users = 0


class Shared:
    """What copies made by ``with_options`` share: the pool, and, while they talk to the same
    account with the same clock, the rate limiter and the metadata cache."""

    def __init__(self, pool: SharedPool, metadata_ttl: float, clock: Clock) -> None:
        if not all(hasattr(clock, name) for name in ("monotonic", "time", "sleep", "asleep")):
            raise ConfigurationError(
                f"clock is an overlay clock (monotonic, time, sleep), got {type(clock).__name__}."
            )
        self.pool = pool
        self.clock = clock
        self.limiter = RateLimiter(clock.monotonic, clock.time)
        self.cache = TTLCache(metadata_ttl, clock.monotonic)
        self._shared_limiters: dict[RedisRateLimit, SharedRateLimiter] = {}
        self.users = 0  # open clients on this account; the last to close closes the limiters

    def pacer(self, options: Options) -> Pacer | None:
        """What paces this account's requests under ``options.rate_limit``: nothing, the
        in-process limiter, or a limiter shared through Redis (one per setting, falling
        back to the in-process one)."""
        setting = options.rate_limit
        if isinstance(setting, bool):
            return self.limiter if setting else None
        from .._shared_limit import SharedRateLimiter, token_key

        if setting not in self._shared_limiters:
            key = token_key(options.base_url, options.api_key)
            self._shared_limiters[setting] = SharedRateLimiter(setting, key, self.limiter)
        return self._shared_limiters[setting]

    async def aclose(self) -> None:
        """Close what the last client of this account leaves: its connections to Redis."""
        for limiter in self._shared_limiters.values():
            await limiter.aclose()


def inner_transport(
    http_client: httpx.AsyncClient | None, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncBaseTransport | None:
    """The innermost transport a caller gave, if any."""
    if http_client is not None and transport is not None:
        raise ConfigurationError("Pass http_client or transport, not both.")
    for name, given, kind in (
        ("http_client", http_client, httpx.AsyncClient),
        ("transport", transport, httpx.AsyncBaseTransport),
    ):
        if given is not None and not isinstance(given, kind):
            raise ConfigurationError(f"{name} is an httpx.{kind.__name__}, got {type(given).__name__}.")
    if http_client is not None:
        return AsyncClientTransport(http_client)
    return transport
