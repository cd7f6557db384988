"""``RedisSeenStore``: the claims of ``overlay.webhooks._seen`` in Redis, for receivers on many machines.

A key holds ``done`` or ``lease:<owner>``, and expires when its marker or lease does (Redis
deletes it, timed by its own clock: ``PX``), so the lease of a receiver killed mid-handler
frees itself. Taking a lease and telling "in progress" from "done" is one Lua script, giving
back a lease only while one still holds it is another, so two receivers never both act on
one delivery.

Redis that does not answer within ``timeout`` seconds, or answers with an error, raises
``SeenStoreError`` naming its URL (password redacted): ``verify()`` passes it on, and a
``Router`` answers 503 with ``Retry-After``, so the sender delivers again later.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

from .. import _redis
from .._errors import SeenStoreError
from ._seen import ClaimState

_DONE = "done"
_LEASE = "lease:"
_STATES: dict[str, ClaimState] = {"acquired": "acquired", "in_progress": "in_progress", "done": "done"}

# KEYS: the message's key. ARGV: the lease's value and how long it lasts (ms).
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if not held then
  if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
  return 'acquired'
end
if held == 'done' then return 'done' end
return 'in_progress'
"""

# KEYS: the message's key. ARGV: the lease's value. Deletes the key only while it is that lease.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ms(unix_seconds: float) -> int:
    """Milliseconds from now until ``unix_seconds``, for ``PX``: Redis's own clock then ends
    the lease, whatever the skew between the receivers' clocks and Redis's (0 or less: past)."""
    return math.ceil((unix_seconds - time.time()) * 1000)


class RedisSeenStore:
    """Claims in Redis at ``url``, shared by every receiver that uses the same URL and ``prefix``.

    ``RedisSeenStore("redis://localhost:6379/0")`` serves ``verify(seen=...)`` and
    ``Router(dedupe=...)``; ``timeout`` bounds each call, in seconds.
    """

    def __init__(
        self, url: str, *, prefix: str = "crm:webhooks:seen", timeout: float = _redis.DEFAULT_TIMEOUT
    ) -> None:
        self._url = _redis.check_url(url, "RedisSeenStore's url")
        self.prefix = prefix
        self._redis = _redis.connect(url, timeout=_redis.check_seconds(timeout, "RedisSeenStore's timeout"))
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._release = self._redis.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"<RedisSeenStore {_redis.shown(self._url)} prefix={self.prefix!r}>"

    @contextlib.contextmanager
    def _failures(self, doing: str) -> Iterator[None]:
        """A Redis or socket error inside becomes a ``SeenStoreError`` saying what failed."""
        try:
            yield
        except _redis.failures() as exc:
            reason = _redis.describe(exc, self._url)
            raise SeenStoreError(
                f"the webhook seen store in Redis at {_redis.shown(self._url)} could not {doing}: {reason}"
            ) from exc

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def claim(self, key: str, expires_at: float) -> bool:
        ms = _ms(expires_at)
        with self._failures("claim a message id"):
            if ms <= 0:  # a marker already expired holds nothing: only a live key refuses
                return not self._redis.exists(self._key(key))
            return bool(self._redis.set(self._key(key), _DONE, nx=True, px=ms))

    def acquire(self, key: str, owner: str, lease_until: float) -> ClaimState:
        with self._failures("claim a message id"):
            state: Any = self._acquire(keys=[self._key(key)], args=[_LEASE + owner, _ms(lease_until)])
        answer = state.decode() if isinstance(state, bytes) else str(state)
        if answer not in _STATES:
            raise SeenStoreError(f"the webhook seen store in Redis answered {answer!r} to a claim")
        return _STATES[answer]

    def complete(self, key: str, owner: str, expires_at: float) -> None:
        ms = _ms(expires_at)
        with self._failures("mark a message done"):
            if ms <= 0:
                self._redis.delete(self._key(key))
            else:
                self._redis.set(self._key(key), _DONE, px=ms)

    def release(self, key: str, owner: str | None = None) -> None:
        with self._failures("release a claim"):
            if owner is None:
                self._redis.delete(self._key(key))
            else:
                self._release(keys=[self._key(key)], args=[_LEASE + owner])

    def close(self) -> None:
        self._redis.close()
