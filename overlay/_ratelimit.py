"""A client-side rate limiter that keeps to the limit the API announces.

The API limits reads and writes separately and reports each bucket on every response
(``X-RateLimit-Limit``: requests per second, ``X-RateLimit-Remaining``). The limiter
mirrors each bucket locally: a request reserves a token and waits while the bucket is in
debt, so concurrent callers queue instead of collecting 429s. A 429 empties the bucket
and holds every request of that kind until ``Retry-After`` has passed.

No I/O and no sleeping here: ``reserve`` says how long to wait, the transports wait.
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


@dataclass
class _Bucket:
    rate: float  # tokens per second, and the bucket's size
    tokens: float
    stamp: float
    blocked_until: float = 0.0

    def refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now


class RateLimiter:
    """Token buckets learnt from ``X-RateLimit-*``; unknown buckets do not limit."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock  # seconds that only move forward
        self._wall = wall  # Unix time, for a Retry-After given as an HTTP date
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def reserve(self, method: str) -> float:
        """Take a token for a request; the seconds to wait before sending it."""
        with self._lock:
            bucket = self._buckets.get(bucket_of(method))
            if bucket is None:
                return 0.0
            now = self._clock()
            bucket.refill(now)
            bucket.tokens -= 1
            debt = -bucket.tokens / bucket.rate if bucket.tokens < 0 else 0.0
            return max(debt, bucket.blocked_until - now)

    def observe(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn the bucket's state from a response's headers."""
        try:
            limit = float(headers["x-ratelimit-limit"])
            remaining = float(headers["x-ratelimit-remaining"])
        except (KeyError, ValueError):
            limit = remaining = -1.0
        kind = bucket_of(method)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(kind)
            if limit > 0:
                if bucket is None or bucket.rate != limit:
                    bucket = self._buckets[kind] = _Bucket(limit, remaining, now)
                else:
                    bucket.refill(now)
                    # Requests already reserved locally are not in the server's count yet.
                    bucket.tokens = min(bucket.tokens, remaining)
            if status == 429 and bucket is not None:
                wait = retry_after_seconds(headers, self._wall)
                bucket.tokens = min(bucket.tokens, 0.0)
                bucket.blocked_until = max(bucket.blocked_until, now + (wait if wait is not None else 1.0))

    def limits(self) -> dict[str, float]:
        """The requests per second learnt for each bucket."""
        with self._lock:
            return {kind: bucket.rate for kind, bucket in self._buckets.items()}
