"""What stands before a handler: rate limits, chaos, idempotent replay, and hostile input
(bodies too big, too slow or too deep, text that is not Unicode, media that is not JSON)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import threading
import time
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from .config import Chaos
from .errors import APIError, bad_request
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
    def error(fault: str, rate: float | None = None) -> Exception:
        """The fault as an exception; a 429 carries the configured ``rate`` of the request's
        kind as its X-RateLimit-Limit (no X-RateLimit headers when that kind is unlimited)."""
        if fault == "drop":
            return DropConnection()
        if fault == "429":
            headers = {"Retry-After": "1"}
            if rate:
                headers |= {
                    "X-RateLimit-Limit": str(int(rate)),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": "1.000",
                }
            return APIError(429, "rate_limit_exceeded", "Chaos: rate limited.", headers)
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


# ---------------------------------------------------------------------- hostile input

MAX_JSON_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ALL_BUT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_OPEN_CLOSE = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def is_json_media(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_target(request: Request) -> None:
    """400 ``invalid_unicode`` when the path or the query string, percent-decoded, is not UTF-8
    (a lone surrogate such as ``%ED%A0%80`` would otherwise read as U+FFFD)."""
    scope = request.scope
    for what, raw in (("path", scope.get("raw_path") or b""), ("query string", scope["query_string"])):
        if b"%" not in raw and raw.isascii():
            continue
        data = unquote_to_bytes(raw.replace(b"+", b" "))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise bad_request(
                "invalid_unicode",
                f"The {what} is not valid UTF-8 at byte {exc.start} (a lone surrogate or a stray byte).",
            ) from None


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, read as it streams in: 413 as soon as it passes ``limit`` bytes (at once when
    Content-Length says so), 408 when the client sends nothing for ``timeout`` seconds."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"The body is {int(declared):,} bytes", limit)
    if not declared and "transfer-encoding" not in request.headers:
        return b""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(request.receive(), timeout)
        except TimeoutError:
            raise APIError(
                408,
                "request_timeout",
                f"The body did not arrive: nothing for {timeout:g} s.",
                {"Connection": "close"},
            ) from None
        if message["type"] == "http.disconnect":
            raise DropConnection()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(f"The body passed {limit:,} bytes", limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(what: str, limit: int) -> APIError:
    # Closing tells the client to stop sending: nothing past the limit is read.
    return APIError(413, "body_too_large", f"{what}; the limit is {limit:,}.", {"Connection": "close"})


def parse_json(raw: bytes) -> Any:
    """JSON of a request body: UTF-8, at most ``MAX_JSON_DEPTH`` levels (measured on the text
    before parsing, so nothing recurses), with no lone surrogate in any key or string."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(
            "invalid_unicode", f"The body is not valid UTF-8 at byte {exc.start} ({exc.reason})."
        ) from None
    if too_deeply_nested(raw):
        raise bad_request(
            "too_deeply_nested",
            f"The body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep.",
        )
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise bad_request("invalid_json", f"The body is not valid JSON: {exc}.") from None
    if _SURROGATE_ESCAPE.search(text):
        where = lone_surrogate_at(body, "body")
        if where is not None:
            raise bad_request(
                "invalid_unicode",
                f"{where} holds a lone surrogate (\\ud800-\\udfff without its pair): not Unicode text.",
            )
    return body


def too_deeply_nested(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``raw`` nests arrays and objects more than ``limit`` deep (brackets inside
    strings do not count), measured on the bytes: nothing recurses, no Python loop per byte.

    Unclosed brackets (invalid JSON) count as open levels, as a parser would recurse into them."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets: the usual body costs two counts
    # Drop escaped backslashes, then escaped quotes; the quotes left delimit the strings.
    structure = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _ALL_BUT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[::2]).translate(_OPEN_CLOSE)
    if b"\x01" * (limit + 1) in brackets:
        return True  # the usual hostile body: one run of openers
    return max(accumulate(array("b", brackets))) > limit


def lone_surrogate_at(value: Any, where: str) -> str | None:
    """Where in ``value`` (``body.data.values.name[0]``) a string or key holds a lone surrogate."""
    if isinstance(value, str):
        return None if _encodable(value) else where
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodable(key):
                return f"A key of {where}"
            found = lone_surrogate_at(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_at(item, f"{where}[{i}]")
            if found:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
