"""Time as the client sees it: the one seam for measuring and waiting.

The transports sleep through ``Clock.sleep`` / ``Clock.asleep``; the rate limiter and the
metadata cache read ``Clock.monotonic``; an HTTP-date ``Retry-After`` is read against
``Clock.time``. ``Client(clock=ManualClock())`` runs retries and pacing without waiting, so
tests never patch ``time.sleep``.
"""

from __future__ import annotations

import time


class Clock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # here, not at the top: a sync client never loads asyncio

        await asyncio.sleep(seconds)


class ManualClock(Clock):
    """A clock that moves only when slept on (or ``advance``d): sleeping returns at once and
    adds to ``now``. ``slept`` lists every wait, in order."""

    def __init__(self, now: float = 1000.0, wall: float = 1_800_000_000.0) -> None:
        self.now = now
        self._wall_offset = wall - now
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now + self._wall_offset

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio

        self.sleep(seconds)
        await asyncio.sleep(0)  # still a point where other tasks run


SYSTEM_CLOCK = Clock()
