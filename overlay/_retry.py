"""When to retry a request and how long to wait: decided without doing any I/O.

The sync and async transports only sleep and resend; every decision is made here, once.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# 409s that no retry can fix: retrying them would only repeat the same answer.
PERMANENT_CONFLICTS = frozenset(
    {"uniqueness_conflict", "idempotency_conflict", "slug_taken", "option_exists"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _number(text: str | None) -> float | None:
    """``text`` as a number (inf and nan included), or None when it is not one."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The server's requested wait: ``retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date."""
    ms = _number(headers.get("retry-after-ms"))
    if ms is not None and math.isfinite(ms):
        return max(0.0, ms / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:  # inf or nan is no time to wait for
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now())


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on connection errors, timeouts, 408, 409, 429 and 5xx.

    Waits ``min(base * 2**n, cap)`` seconds less up to ``jitter`` of it, or what the server
    asks for in ``Retry-After`` when that is at most ``max_retry_after`` (beyond it, no retry).
    Writes are retried only when they carry an ``Idempotency-Key``.
    """

    max_retries: int = 2
    base: float = 0.5
    cap: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 120.0

    def backoff(self, retry: int, rand: float) -> float:
        """The wait before retry number ``retry`` (0-based); ``rand`` is uniform in [0, 1)."""
        delay: float = min(self.base * 2.0**retry, self.cap)
        return delay * (1 - self.jitter * rand)

    def may_retry(self, method: str, headers: Mapping[str, str]) -> bool:
        """Whether the request is safe to send again."""
        return method.upper() in SAFE_METHODS or "idempotency-key" in {k.lower() for k in headers}

    def delay_after_status(
        self,
        retry: int,
        status: int,
        headers: Mapping[str, str],
        error_code: str | None = None,
        rand: Callable[[], float] = random.random,
        now: Callable[[], float] = time.time,
    ) -> float | None:
        """Seconds to wait before retrying after an error status, or None to give up.
        ``now`` is the wall clock an HTTP-date ``Retry-After`` is read against."""
        if retry >= self.max_retries or (status not in RETRY_STATUSES and status < 500):
            return None
        if status == 409 and error_code in PERMANENT_CONFLICTS:
            return None
        asked = retry_after_seconds(headers, now)
        if asked is not None:
            return asked if asked <= self.max_retry_after else None
        return self.backoff(retry, rand())

    def delay_after_error(self, retry: int, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait before retrying after a connection error or timeout, or None."""
        if retry >= self.max_retries:
            return None
        return self.backoff(retry, rand())
