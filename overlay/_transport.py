"""httpx transports that retry with backoff and give every write one idempotency key.

The attempt loop is written once, as a generator that yields what to do next (send the
request, or sleep) and receives the outcome; the sync and async transports only drive it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

from ._retry import SAFE_METHODS, RetryPolicy

RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Sleep:
    seconds: float


Send = httpx.Request
Outcome = httpx.Response | Exception
Attempts = Generator[Send | Sleep, Outcome | None, httpx.Response]


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def attempts(
    request: httpx.Request,
    policy: RetryPolicy,
    *,
    idempotency_keys: bool = True,
    rand: Callable[[], float] = random.random,
) -> Attempts:
    """Send ``request`` until it succeeds, cannot be retried, or the retries run out.

    A write without an ``Idempotency-Key`` gets one (unless ``idempotency_keys`` is off),
    and keeps it on every retry, so the API applies it at most once.
    """
    if (
        idempotency_keys
        and request.method.upper() not in SAFE_METHODS
        and "idempotency-key" not in request.headers
    ):
        request.headers["Idempotency-Key"] = f"ik_{uuid.uuid4().hex}"
    retryable = policy.may_retry(request.method, request.headers)
    retry = 0
    while True:
        outcome = yield request
        if isinstance(outcome, Exception):
            delay = policy.delay_after_error(retry, rand) if retryable else None
            if delay is None or not isinstance(outcome, RETRYABLE_ERRORS):
                raise outcome
        else:
            assert outcome is not None
            if outcome.status_code < 400 or not retryable:
                return outcome
            delay = policy.delay_after_status(
                retry, outcome.status_code, outcome.headers, _error_code(outcome), rand
            )
            if delay is None:
                return outcome
        yield Sleep(delay)
        retry += 1


def advance(steps: Attempts, outcome: Outcome | None) -> Send | Sleep | httpx.Response:
    """The loop's next step given the last outcome, or its final response."""
    try:
        return steps.send(outcome)
    except StopIteration as done:
        response: httpx.Response = done.value
        return response


class RetryTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        *,
        idempotency_keys: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.idempotency_keys = idempotency_keys
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a body read once can be sent again
        steps = attempts(request, self.policy, idempotency_keys=self.idempotency_keys)
        step: Send | Sleep | httpx.Response = next(steps)
        while not isinstance(step, httpx.Response):
            outcome: Outcome | None = None
            if isinstance(step, Sleep):
                self.sleep(step.seconds)
            else:
                try:
                    outcome = self.inner.handle_request(step)
                    outcome.read()
                except Exception as exc:  # handed to the loop, which re-raises what it cannot retry
                    outcome = exc
            step = advance(steps, outcome)
        return step

    def close(self) -> None:
        self.inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        *,
        idempotency_keys: bool = True,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.idempotency_keys = idempotency_keys
        self.sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        steps = attempts(request, self.policy, idempotency_keys=self.idempotency_keys)
        step: Send | Sleep | httpx.Response = next(steps)
        while not isinstance(step, httpx.Response):
            outcome: Outcome | None = None
            if isinstance(step, Sleep):
                await self.sleep(step.seconds)
            else:
                try:
                    outcome = await self.inner.handle_async_request(step)
                    await outcome.aread()
                except Exception as exc:
                    outcome = exc
            step = advance(steps, outcome)
        return step

    async def aclose(self) -> None:
        await self.inner.aclose()
