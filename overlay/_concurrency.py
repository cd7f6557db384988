"""Bounded concurrency, the one place where sync and async differ by more than ``await``.

``map_bounded`` (threads) and ``amap_bounded`` (asyncio tasks) run ``fn`` over items with at
most ``limit`` calls in flight, reading the items lazily, and yield ``(item, result, error)``
in completion order, in the caller's thread or task, so the caller's bookkeeping needs no
lock. ``scripts/sync_from_async.py`` maps the async one to the sync one.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
R = TypeVar("R")
Outcome = tuple[T, Any, BaseException | None]  # (item, result, error)


def map_bounded(fn: Callable[[T], R], items: Iterable[T], limit: int) -> Iterator[Outcome[T]]:
    with ThreadPoolExecutor(max_workers=limit) as pool:
        running: dict[Future[R], T] = {}
        for item in items:
            running[pool.submit(fn, item)] = item
            if len(running) >= limit:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield _outcome(running.pop(future), future)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield _outcome(running.pop(future), future)


def _outcome(item: T, future: Future[R]) -> Outcome[T]:
    error = future.exception()
    return (item, None, error) if error is not None else (item, future.result(), None)


async def amap_bounded(
    fn: Callable[[T], Awaitable[R]], items: Iterable[T] | AsyncIterable[T], limit: int
) -> AsyncIterator[Outcome[T]]:
    import asyncio  # here, not at the top: a sync client never loads asyncio

    running: dict[asyncio.Task[R], T] = {}

    async def drain(until: int) -> AsyncIterator[Outcome[T]]:
        while len(running) > until:
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                item = running.pop(task)
                error = task.exception()
                yield (item, None, error) if error is not None else (item, task.result(), None)

    async def each() -> AsyncIterator[T]:
        source: Any = items
        if hasattr(source, "__aiter__"):
            async for item in source:
                yield item
        else:
            for item in source:
                yield item

    async for item in each():
        running[asyncio.ensure_future(fn(item))] = item
        async for outcome in drain(limit - 1):
            yield outcome
    async for outcome in drain(0):
        yield outcome
