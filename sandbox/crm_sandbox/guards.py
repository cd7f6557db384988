"""What stands before a handler: rate limits, chaos, and idempotent replay."""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from .config import Chaos
from .errors import APIError
from .store import Store

IDEMPOTENCY_TTL = 24 * 3600.0
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


class RateLimiter:
    """A token bucket per (token, kind): ``rate`` requests per second, bursting up to ``rate``."""

    def __init__(self, rates: dict[str, float | None]) -> None:
        self.rates = rates
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, token: str, kind: str) -> dict[str, str]:
        """Spend one request; the X-RateLimit headers, or a 429 carrying them and Retry-After."""
        rate = self.rates.get(kind)
        if not rate:
            return {}
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get((token, kind), (rate, now))
            tokens = min(rate, tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[(token, kind)] = (tokens, now)
        headers = {
            "X-RateLimit-Limit": str(int(rate)),
            "X-RateLimit-Remaining": str(max(0, int(tokens))),
            "X-RateLimit-Reset": f"{(rate - tokens) / rate:.3f}",
        }
        if not allowed:
            wait = (1.0 - tokens) / rate
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
            raise APIError(
                429,
                "rate_limit_exceeded",
                f"The {kind} rate limit of {rate:g}/s is spent; retry in {wait:.3f}s.",
                headers,
            )
        return headers


class DropConnection(Exception):
    """Chaos: close the connection without a (complete) response."""


@dataclass(frozen=True)
class Fate:
    """What chaos decided for one request."""

    latency: float = 0.0
    fault: str | None = None  # "error" | "429" | "drop"
    drop_after_commit: bool = False


class ChaosMonkey:
    """Draws faults from a seeded generator, so a run with the same requests is reproducible."""

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.rng = random.Random(chaos.seed)
        self._lock = threading.Lock()

    def decide(self) -> Fate:
        c = self.chaos
        if not c.active:
            return Fate()
        with self._lock:
            low, high = c.latency_ms
            latency = self.rng.uniform(low, high) / 1000 if high else 0.0
            draw, commit_draw, status_draw = self.rng.random(), self.rng.random(), self.rng.random()
        fault = None
        for name, rate in (
            ("error", c.error_rate),
            ("429", c.rate_limit_rate),
            ("drop", c.drop_rate),
        ):
            if draw < rate:
                fault = "503" if name == "error" and status_draw < 0.5 else name
                break
            draw -= rate
        return Fate(latency, fault, commit_draw < c.commit_drop_rate)

    @staticmethod
    def error(fault: str) -> Exception:
        if fault == "drop":
            return DropConnection()
        if fault == "429":
            return APIError(
                429,
                "rate_limit_exceeded",
                "Chaos: rate limited.",
                {
                    "Retry-After": "1",
                    "X-RateLimit-Limit": "0",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": "1.000",
                },
            )
        if fault == "503":
            return APIError(503, "unavailable", "Chaos: the service is briefly unavailable.")
        return APIError(500, "internal_error", "Chaos: injected failure.")


class Idempotency:
    """Stored responses of writes that carried an Idempotency-Key, per token, for 24 hours."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def fingerprint(method: str, path: str, body: Any) -> str:
        canonical = _CANONICAL.encode([method, path, body])
        return hashlib.sha256(canonical.encode()).hexdigest()

    def replay(self, token: str, key: str, fingerprint: str) -> tuple[int, bytes] | None:
        """The stored (status, body) for this key, or None; 409 if the key was used for another request."""
        row = self.store.one("SELECT * FROM idempotency WHERE token = ? AND key = ?", (token, key))
        if row is None:
            return None
        if row["created_at"] < time.time() - IDEMPOTENCY_TTL:
            self.store.db.execute("DELETE FROM idempotency WHERE token = ? AND key = ?", (token, key))
            return None
        if row["fingerprint"] != fingerprint:
            raise APIError(
                409,
                "idempotency_conflict",
                f"Idempotency-Key {key!r} was already used with a different request.",
            )
        return int(row["status"]), bytes(row["body"])

    def save(self, token: str, key: str, fingerprint: str, status: int, body: bytes) -> None:
        self.store.db.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
            (token, key, fingerprint, status, body, time.time()),
        )
