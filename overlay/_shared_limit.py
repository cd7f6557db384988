"""One rate limit for every process that uses a token: the limiter's buckets live in Redis.

``RedisRateLimit(url)`` passed as a client's ``rate_limit`` (or ``CRM_RATE_LIMIT_REDIS`` in
the environment) makes its ``SharedRateLimiter`` keep the read and write buckets of
``overlay._ratelimit`` in Redis, keyed by a hash of the base URL and token: each request
takes its turn there, each response's ``X-RateLimit-*`` corrects the shared count, and a
429 holds back every process until its ``Retry-After`` has passed.

Why two short Lua scripts rather than the ``limits`` library: ``limits`` answers "may I,
now?" against a limit fixed by the caller, so a worker told "no" can only poll. Pacing
needs "when is my turn?", reserved atomically, against a limit the server announces and
may change; a script of a dozen lines does that in one round trip, on Redis's clock.

When Redis cannot be reached the limiter warns once and paces this process alone with its
share of the limit (the limit over the number of processes last seen sharing it), trying
Redis again every ``retry_every`` seconds; with ``on_unavailable="raise"`` the request
fails with ``RateLimitStoreError`` instead. Either way, within ``timeout`` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _redis
from ._errors import ConfigurationError, RateLimitStoreError
from ._logging import redact_exception, redact_url
from ._ratelimit import RateLimiter, announced, bucket_of, hold_after_429

log = logging.getLogger("overlay")

ENVIRONMENT = "CRM_RATE_LIMIT_REDIS"
PEER_WINDOW = 30.0  # seconds a process counts as sharing the limit after its last request

# KEYS: the bucket (a hash: rate, tokens, stamp, blocked; blind, the turns taken before the
# limit was known) and the set of processes using it.
# ARGV: this process's id. Returns the seconds to wait, and how many processes share it.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], math.floor(tonumber(ARGV[2]) * 2000))
local peers = redis.call('ZCARD', KEYS[2])
local s = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'stamp', 'blocked')
local rate = tonumber(s[1])
local wait = (tonumber(s[4]) or 0) - now
if rate then
  local tokens = math.min(rate, tonumber(s[2]) + (now - tonumber(s[3])) * rate) - 1
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'stamp', string.format('%.6f', now))
  if tokens < 0 and -tokens / rate > wait then wait = -tokens / rate end
else
  redis.call('HINCRBY', KEYS[1], 'blind', 1)  -- a turn taken before the limit is known
  redis.call('EXPIRE', KEYS[1], 3600)
end
if wait < 0 then wait = 0 end
return {string.format('%.6f', wait), peers}
"""

# KEYS: the bucket. ARGV: the announced limit and remaining (-1: none), and how long a 429
# holds requests back (-1: not a 429).
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, remaining, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'stamp', 'blocked', 'blind')
local rate, tokens = tonumber(s[1]), nil
if rate then tokens = math.min(rate, tonumber(s[2]) + (now - tonumber(s[3])) * rate) end
if limit > 0 then
  if not rate then
    -- learnt first: the other turns taken blind may not be in the server's count yet
    rate, tokens = limit, remaining - math.max(0, (tonumber(s[5]) or 1) - 1)
    redis.call('HDEL', KEYS[1], 'blind')
  elseif rate ~= limit then
    rate, tokens = limit, remaining
  else
    tokens = math.min(tokens, remaining)  -- turns taken here are not in the server's count yet
  end
end
if hold >= 0 then
  if tokens then tokens = math.min(tokens, 0) end
  if now + hold > (tonumber(s[4]) or 0) then
    redis.call('HSET', KEYS[1], 'blocked', string.format('%.6f', now + hold))
  end
end
if rate then
  redis.call('HSET', KEYS[1], 'rate', rate, 'tokens', string.format('%.6f', tokens),
             'stamp', string.format('%.6f', now))
end
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


@dataclass(frozen=True)
class RedisRateLimit:
    """Share a token's rate limits with every process pacing through Redis at ``url``.

    ``Client(rate_limit=overlay.RedisRateLimit("redis://localhost:6379/0"))``. ``prefix``
    starts every key. ``on_unavailable``: ``"fallback"`` (pace in this process, with a
    warning) or ``"raise"`` (``RateLimitStoreError``) when Redis does not answer within
    ``timeout`` seconds; it is tried again every ``retry_every`` seconds.
    """

    url: str = field(repr=False)
    prefix: str = "crm:ratelimit"
    on_unavailable: Literal["fallback", "raise"] = "fallback"
    timeout: float = _redis.DEFAULT_TIMEOUT
    retry_every: float = 5.0

    def __post_init__(self) -> None:
        _redis.check_url(self.url, "RedisRateLimit's url")
        if self.on_unavailable not in ("fallback", "raise"):
            raise ConfigurationError(f"on_unavailable is 'fallback' or 'raise', got {self.on_unavailable!r}.")
        for name in ("timeout", "retry_every"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigurationError(
                    f"RedisRateLimit's {name} is a number of seconds > 0, got {value!r}."
                )

    def __repr__(self) -> str:
        return (
            f"RedisRateLimit({redact_url(self.url)!r}, prefix={self.prefix!r}, "
            f"on_unavailable={self.on_unavailable!r})"
        )

    @classmethod
    def from_environment(cls) -> RedisRateLimit | None:
        """The limit ``CRM_RATE_LIMIT_REDIS`` names, if it is set."""
        url = os.environ.get(ENVIRONMENT, "").strip()
        if not url:
            return None
        _redis.check_url(url, ENVIRONMENT)
        return cls(url)


def token_key(base_url: str, api_key: str) -> str:
    """What names a token's buckets in Redis: a hash, never the token itself."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:32]


class SharedRateLimiter:
    """The ``Pacer`` of a client whose rate limit is a ``RedisRateLimit``.

    ``local`` is the in-process limiter it falls back to; it learns from every response,
    so it is ready when Redis goes away.
    """

    def __init__(self, config: RedisRateLimit, key: str, local: RateLimiter) -> None:
        self.config = config
        self.local = local
        self._keys = {kind: f"{config.prefix}:{{{key}}}:{kind}" for kind in ("read", "write")}
        self._peers_key = f"{config.prefix}:{{{key}}}:processes"
        self._member = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._sync: tuple[Any, Any, Any] | None = None  # the client and its two scripts
        self._async: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried again
        self._alone = False  # pacing in this process while Redis is away
        self.peers = 1  # processes seen sharing the limit at the last turn taken in Redis
        self.fallbacks = 0  # outages this limiter has paced through alone

    def __repr__(self) -> str:
        return f"<SharedRateLimiter {redact_url(self.config.url)} peers={self.peers}>"

    @property
    def available(self) -> bool:
        """Whether the last call to Redis worked (or is yet to be tried)."""
        return time.monotonic() >= self._down_until

    def _connection(self, asynchronous: bool) -> tuple[Any, Any, Any]:
        """The Redis client of this side (sync or async) and its two scripts, made on first use."""
        made = self._async if asynchronous else self._sync
        if made is None:
            client = _redis.connect(self.config.url, timeout=self.config.timeout, asynchronous=asynchronous)
            made = (client, client.register_script(_RESERVE), client.register_script(_OBSERVE))
            if asynchronous:
                self._async = made
            else:
                self._sync = made
        return made

    # ------------------------------------------------------------------ sync
    def reserve(self, method: str) -> float:
        if self.available:
            try:
                _, reserve, _ = self._connection(asynchronous=False)
                return self._turn(reserve(**self._reserve_args(method)))
            except _redis.failures() as exc:
                self._unavailable(exc)
        return self.local.reserve(method)

    def observe(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        self.local.observe(method, status, headers)
        args = self._observe_args(method, status, headers)
        if args is not None and self.available:
            try:
                _, _, observe = self._connection(asynchronous=False)
                observe(**args)
            except _redis.failures() as exc:
                self._unavailable(exc)

    # ------------------------------------------------------------------ async
    async def areserve(self, method: str) -> float:
        if self.available:
            try:
                _, reserve, _ = self._connection(asynchronous=True)
                return self._turn(await reserve(**self._reserve_args(method)))
            except _redis.failures() as exc:
                self._unavailable(exc)
        return self.local.reserve(method)

    async def aobserve(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        self.local.observe(method, status, headers)
        args = self._observe_args(method, status, headers)
        if args is not None and self.available:
            try:
                _, _, observe = self._connection(asynchronous=True)
                await observe(**args)
            except _redis.failures() as exc:
                self._unavailable(exc)

    # ------------------------------------------------------------------ shared
    def _reserve_args(self, method: str) -> dict[str, list[str]]:
        keys = [self._keys[bucket_of(method)], self._peers_key]
        return {"keys": keys, "args": [self._member, str(PEER_WINDOW)]}

    def _observe_args(
        self, method: str, status: int, headers: Mapping[str, str]
    ) -> dict[str, list[str]] | None:
        """The observe script's arguments; None when the response says nothing of the limit."""
        limit, remaining = announced(headers)
        hold = hold_after_429(headers) if status == 429 else -1.0
        if limit <= 0 and hold < 0:
            return None
        return {"keys": [self._keys[bucket_of(method)]], "args": [repr(limit), repr(remaining), repr(hold)]}

    def _turn(self, answer: Any) -> float:
        wait, peers = float(answer[0]), max(1, int(answer[1]))
        with self._lock:
            self.peers = peers
            if self._alone:
                self._alone = False
                self.local.share = 1.0
                log.warning("the shared rate limit's Redis answers again: pacing with the other processes")
        return wait

    def _unavailable(self, exc: BaseException) -> None:
        """Redis failed: raise, or pace alone (saying so once per outage) until it is tried again."""
        reason = _redis.describe(exc, self.config.url)
        where = redact_url(self.config.url)
        if self.config.on_unavailable == "raise":
            redact_exception(exc, [_redis.password_of(self.config.url)])
            raise RateLimitStoreError(f"the shared rate limit's Redis at {where} failed: {reason}") from exc
        with self._lock:
            self._down_until = time.monotonic() + self.config.retry_every
            if not self._alone:
                self._alone = True
                self.fallbacks += 1
                self.local.share = 1.0 / self.peers
                message = (
                    f"the shared rate limit's Redis at {where} failed ({reason}); this process paces "
                    f"itself to 1/{self.peers} of the limit, and tries Redis again every "
                    f"{self.config.retry_every:g} s"
                )
                log.warning(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)

    def close(self) -> None:
        """Close the connections to Redis (the buckets stay, for the other processes)."""
        if self._sync is not None:
            self._sync[0].close()
            self._sync = None

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async[0].aclose()
            self._async = None
