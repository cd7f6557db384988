"""Bounded concurrency for bulk single calls: never more than the limit in flight, errors handed back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

from overlay._concurrency import amap_bounded, map_bounded


def test_threads_stay_within_the_limit_and_hand_back_errors() -> None:
    lock = threading.Lock()
    running, peak = 0, 0

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.005)
        with lock:
            running -= 1
        if n == 7:
            raise ValueError("seven")
        return n * 2

    pulled: list[int] = []

    def items() -> Iterator[int]:
        for n in range(40):
            pulled.append(n)
            yield n

    outcomes = list(map_bounded(work, items(), 4))
    assert peak <= 4 and len(outcomes) == 40 and len(pulled) == 40
    results = {item: (result, error) for item, result, error in outcomes}
    assert results[3] == (6, None) and isinstance(results[7][1], ValueError)


def test_tasks_stay_within_the_limit_and_read_items_lazily() -> None:
    running, peak = 0, 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        if n == 3:
            raise KeyError(n)
        return n

    async def run() -> list[tuple[int, object, object]]:
        async def items():  # type: ignore[no-untyped-def]
            for n in range(30):
                yield n

        return [outcome async for outcome in amap_bounded(work, items(), 5)]

    outcomes = asyncio.run(run())
    assert peak <= 5 and sorted(item for item, _, _ in outcomes) == list(range(30))
    assert [type(error) for item, _, error in outcomes if error] == [KeyError]
