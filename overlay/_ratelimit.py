"""A client-side rate limiter that keeps to the limit the API announces.

The API limits reads and writes separately and reports each bucket on every response
(``X-RateLimit-Limit``: requests per second, ``X-RateLimit-Remaining``). The limiter
mirrors each bucket locally: a request reserves a token and waits while the bucket is in
debt, so concurrent callers queue instead of collecting 429s. A 429 empties the bucket
and holds every request of that kind until ``Retry-After`` has passed.

No I/O and no sleeping here: ``reserve`` says how long to wait, the transports wait.
Processes that share one token share one limiter through Redis instead
(``overlay._shared_limit``), which falls back to this one while Redis is away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._retry import SAFE_METHODS, retry_after_seconds


def bucket_of(method: str) -> str:
    """Which of the API's two limits a request counts against."""
    return "read" if method.upper() in SAFE_METHODS else "write"


def announced(headers: Mapping[str, str]) -> tuple[float, float]:
    """The ``X-RateLimit-Limit`` and ``-Remaining`` of a response; (-1, -1) when it has none."""
    try:
        return float(headers["x-ratelimit-limit"]), float(headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return -1.0, -1.0


MAX_HOLD = 120.0  # seconds: a longer Retry-After holds requests back no longer than this


def hold_after_429(headers: Mapping[str, str], wall: Callable[[], float] = time.time) -> float:
    """How long a 429 holds its kind of request back: its ``Retry-After`` (at most
    ``MAX_HOLD``), else 1 s."""
    wait = retry_after_seconds(headers, wall)
    return min(wait, MAX_HOLD) if wait is not None else 1.0


@dataclass
class _Bucket:
    rate: float  # the announced limit: requests per second, and the bucket's size
    tokens: float
    stamp: float

    def refill(self, now: float, rate: float) -> None:
        self.tokens = min(rate, self.tokens + (now - self.stamp) * rate)
        self.stamp = now


class RateLimiter:
    """Token buckets learnt from ``X-RateLimit-*``; unknown buckets do not limit.

    ``share`` is the part of each limit this limiter may use (1: all of it); the shared
    limiter sets it to 1/N while it stands in for N processes that lost their Redis.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock  # seconds that only move forward
        self._wall = wall  # Unix time, for a Retry-After given as an HTTP date
        self._buckets: dict[str, _Bucket] = {}
        self._blocked_until: dict[str, float] = {}  # per bucket kind, on the clock
        self._lock = threading.Lock()
        self.share = 1.0

    def reserve(self, method: str) -> float:
        """Take a token for a request; the seconds to wait before sending it."""
        kind = bucket_of(method)
        with self._lock:
            now = self._clock()
            blocked = self._blocked_until.get(kind, 0.0) - now
            bucket = self._buckets.get(kind)
            if bucket is None:
                return max(0.0, blocked)
            rate = bucket.rate * self.share
            bucket.refill(now, rate)
            bucket.tokens -= 1
            debt = -bucket.tokens / rate if bucket.tokens < 0 else 0.0
            return max(debt, blocked)

    async def areserve(self, method: str) -> float:
        """``reserve``, for the async transport."""
        return self.reserve(method)

    async def aobserve(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        """``observe``, for the async transport."""
        self.observe(method, status, headers)

    def observe(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn the bucket's state from a response's headers."""
        limit, remaining = announced(headers)
        kind = bucket_of(method)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(kind)
            if limit > 0:
                if bucket is None:
                    bucket = self._buckets[kind] = _Bucket(limit, remaining, now)
                else:
                    bucket.refill(now, bucket.rate * self.share)
                    # Requests already reserved locally are not in the server's count yet, and
                    # a new limit keeps what is queued.
                    bucket.rate, bucket.tokens = limit, min(bucket.tokens, remaining)
            if status == 429:
                if bucket is not None:
                    bucket.tokens = min(bucket.tokens, 0.0)
                until = now + hold_after_429(headers, self._wall)
                self._blocked_until[kind] = max(self._blocked_until.get(kind, 0.0), until)

    def knows(self, method: str) -> bool:
        """Whether a limit has been learnt for the kind of ``method``."""
        return bucket_of(method) in self._buckets

    def limits(self) -> dict[str, float]:
        """The requests per second learnt for each bucket."""
        with self._lock:
            return {kind: bucket.rate for kind, bucket in self._buckets.items()}
