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
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _redis
from ._errors import ConfigurationError, RateLimitStoreError
from ._ratelimit import MAX_HOLD, RateLimiter, announced, bucket_of, hold_after_429

log = logging.getLogger("overlay")

PEER_WINDOW = 10.0  # seconds a process counts as sharing the limit after its last request

# KEYS: the bucket (a hash: rate, tokens, stamp, blocked; blind, the turns taken before the
# limit was known and not yet answered) and the set of processes using it.
# ARGV: this process's id, how long a process counts as sharing, the longest wait to give.
# Returns the seconds to wait, and how many processes share the bucket.
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
  redis.call('HINCRBY', KEYS[1], 'blind', 1)
  redis.call('EXPIRE', KEYS[1], 3600)
end
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then wait = tonumber(ARGV[3]) end
return {string.format('%.6f', wait), peers}
"""

# KEYS: the bucket. ARGV: the announced limit and remaining (-1: none), and how long a 429
# holds requests back (-1: not a 429; already at most MAX_HOLD).
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, remaining, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'stamp', 'blocked', 'blind')
local rate, tokens, blind = tonumber(s[1]), nil, tonumber(s[5]) or 0
if rate then tokens = math.min(rate, tonumber(s[2]) + (now - tonumber(s[3])) * rate) end
if not rate and limit <= 0 and blind > 0 then
  redis.call('HINCRBY', KEYS[1], 'blind', -1)  -- a blind turn answered without a limit
end
if limit > 0 then
  if not rate then
    -- learnt first: the other blind turns in flight are not in the server's count yet
    rate, tokens = limit, remaining - math.min(math.max(0, blind - 1), limit)
    redis.call('HDEL', KEYS[1], 'blind')
  else
    -- turns taken here are not in the server's count yet; a new limit keeps what is queued
    rate, tokens = limit, math.min(tokens, remaining)
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
        _redis.check_seconds(self.timeout, "RedisRateLimit's timeout")
        _redis.check_seconds(self.retry_every, "RedisRateLimit's retry_every")
        _redis.require_package()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimit({_redis.shown(self.url)!r}, prefix={self.prefix!r}, "
            f"on_unavailable={self.on_unavailable!r})"
        )


def token_key(base_url: str, api_key: str) -> str:
    """What names a token's buckets in Redis: a hash, never the token itself."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:32]


class SharedRateLimiter:
    """The ``Pacer`` of a client whose rate limit is a ``RedisRateLimit``.

    ``local`` is the in-process limiter it falls back to; it learns from every response,
    so it is ready when Redis goes away. A response's news for Redis never fails the
    request it came with: a Redis gone by then is noted, and the next turn decides.
    """

    def __init__(self, config: RedisRateLimit, key: str, local: RateLimiter) -> None:
        self.config = config
        self.local = local
        self._keys = {kind: f"{config.prefix}:{{{key}}}:{kind}" for kind in ("read", "write")}
        self._peers_key = f"{config.prefix}:{{{key}}}:processes"
        self._sync: tuple[Any, Any, Any] | None = None  # the client and its two scripts
        # One redis.asyncio client per event loop: a client is bound to the loop it was made on.
        self._async: weakref.WeakKeyDictionary[Any, tuple[Any, Any, Any]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried again
        self._alone = False  # pacing in this process while Redis is away
        self.peers = 1  # processes seen sharing the limit at the last turn taken in Redis
        self.fallbacks = 0  # outages this limiter has paced through alone

    def __repr__(self) -> str:
        return f"<SharedRateLimiter {_redis.shown(self.config.url)} peers={self.peers}>"

    @property
    def available(self) -> bool:
        """Whether Redis is to be asked: it answered last time, or it is time to try again."""
        return self.config.on_unavailable == "raise" or time.monotonic() >= self._down_until

    def _connection(self, loop: Any = None) -> tuple[Any, Any, Any]:
        """The Redis client (of ``loop``, when async) and its two scripts, made on first use."""
        with self._lock:
            made = self._sync if loop is None else self._async.get(loop)
            if made is None:
                client = _redis.connect(
                    self.config.url, timeout=self.config.timeout, asynchronous=loop is not None
                )
                made = (client, client.register_script(_RESERVE), client.register_script(_OBSERVE))
                if loop is None:
                    self._sync = made
                else:
                    self._async[loop] = made
            return made

    # ------------------------------------------------------------------ sync
    def reserve(self, method: str) -> float:
        if self.available:
            try:
                _, reserve, _ = self._connection()
                return self._turn(reserve(**self._reserve_args(method)))
            except _redis.failures() as exc:
                self._unavailable(exc, raising=True)
        return self.local.reserve(method)

    def observe(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        args = self._learn(method, status, headers)
        if args is not None and self.available:
            try:
                _, _, observe = self._connection()
                observe(**args)
            except _redis.failures() as exc:
                self._unavailable(exc, raising=False)

    # ------------------------------------------------------------------ async
    async def areserve(self, method: str) -> float:
        if self.available:
            try:
                _, reserve, _ = self._connection(_running_loop())
                return self._turn(await reserve(**self._reserve_args(method)))
            except _redis.failures() as exc:
                self._unavailable(exc, raising=True)
        return self.local.reserve(method)

    async def aobserve(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        args = self._learn(method, status, headers)
        if args is not None and self.available:
            try:
                _, _, observe = self._connection(_running_loop())
                await observe(**args)
            except _redis.failures() as exc:
                self._unavailable(exc, raising=False)

    # ------------------------------------------------------------------ shared
    def _reserve_args(self, method: str) -> dict[str, list[str]]:
        keys = [self._keys[bucket_of(method)], self._peers_key]
        return {"keys": keys, "args": [process_name(), str(PEER_WINDOW), str(MAX_HOLD)]}

    def _learn(self, method: str, status: int, headers: Mapping[str, str]) -> dict[str, list[str]] | None:
        """Learn locally; the observe script's arguments, or None when Redis need not hear of it
        (no limit in the response, none known for its kind: not a blind turn either)."""
        known = self.local.knows(method)
        self.local.observe(method, status, headers)
        limit, remaining = announced(headers)
        hold = hold_after_429(headers) if status == 429 else -1.0
        if limit <= 0 and hold < 0 and known:
            return None
        return {"keys": [self._keys[bucket_of(method)]], "args": [repr(limit), repr(remaining), repr(hold)]}

    def _turn(self, answer: Any) -> float:
        self.peers = max(1, int(answer[1]))
        if self._alone:  # only after an outage: the lock stays off the common path
            with self._lock:
                if self._alone:
                    self._alone = False
                    self.local.share = 1.0
                    log.warning(
                        "the shared rate limit's Redis answers again: pacing with the other processes"
                    )
        return float(answer[0])

    def _unavailable(self, exc: BaseException, *, raising: bool) -> None:
        """Redis failed: raise (if asked to, before a request), or pace alone (saying so once
        per outage) until it is tried again."""
        reason = _redis.describe(exc, self.config.url)
        where = _redis.shown(self.config.url)
        if self.config.on_unavailable == "raise":
            if raising:
                raise RateLimitStoreError(
                    f"the shared rate limit's Redis at {where} failed: {reason}"
                ) from exc
            log.warning("the shared rate limit's Redis at %s failed after a response: %s", where, reason)
            return
        with self._lock:
            self._down_until = time.monotonic() + self.config.retry_every
            if self._alone:
                return
            self._alone = True
            self.fallbacks += 1
            self.local.share = 1.0 / self.peers
        message = (
            f"the shared rate limit's Redis at {where} failed ({reason}); this process paces "
            f"itself to 1/{self.peers} of the limit ({self.peers} processes were sharing it), and "
            f"tries Redis again every {self.config.retry_every:g} s"
        )
        log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)

    def close(self) -> None:
        """Leave the set of processes sharing the limit, and close the connections to Redis
        (the buckets stay, for the other processes)."""
        made, self._sync = self._sync, None
        if made is not None:
            try:
                made[0].zrem(self._peers_key, process_name())
            except _redis.failures() as exc:
                log.info("leaving the shared rate limit: %s", _redis.describe(exc, self.config.url))
            finally:
                made[0].close()

    async def aclose(self) -> None:
        """Close this event loop's connections; those of loops already gone were dropped with them."""
        made = self._async.pop(_running_loop(), None)
        if made is not None:
            try:
                await made[0].zrem(self._peers_key, process_name())
            except Exception as exc:  # a Redis gone, or a loop closing: the connections go anyway
                log.info("leaving the shared rate limit: %s", _redis.describe(exc, self.config.url))
            finally:
                await made[0].aclose()


_process: tuple[int, str] = (0, "")
_process_lock = threading.Lock()


def process_name() -> str:
    """This process's name among those sharing a limit: one for every limiter and thread of
    the process, and a new one in a forked child."""
    global _process
    if _process[0] == os.getpid():
        return _process[1]
    with _process_lock:
        if _process[0] != os.getpid():
            _process = (os.getpid(), f"{os.getpid()}:{uuid.uuid4().hex[:8]}")
        return _process[1]


def _running_loop() -> Any:
    import asyncio  # only on the async path: it is not cheap to import

    return asyncio.get_running_loop()
