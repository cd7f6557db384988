"""The transport stack under every request the overlay sends.

One attempt loop, written once as a generator that yields what to do next (send the
request, or sleep) and receives the outcome, does all of it:

- retries with backoff and ``Retry-After`` (``RetryPolicy`` decides);
- one ``Idempotency-Key`` per logical write, kept on every retry of it;
- pacing to the API's announced rate limit (a ``Pacer`` decides: in process, or shared in Redis);
- a log line per attempt, secrets redacted.

The sync and async transports only drive the loop: they send, they sleep.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ._clock import SYSTEM_CLOCK, Clock
from ._logging import logger, redact_body, redact_headers, request_line
from ._parse import loads
from ._retry import SAFE_METHODS, RetryPolicy

OPERATION = "crm_operation"
"""The ``request.extensions`` key naming the operation a request carries (``create_record``)."""


class Migration(Protocol):
    """How a client pinned to an older API version rewrites its traffic
    (``overlay.migrations._http.VersionMigration``)."""

    def lookup(self, request: httpx.Request) -> httpx.Request | None:
        """A request to send first, to learn what rewriting ``request`` needs; or None."""
        ...

    def learn(self, lookup: httpx.Request, answer: httpx.Response) -> bool:
        """Keep what ``answer`` to ``lookup`` says; False if it failed (``answer`` is then the reply)."""
        ...

    def request(self, request: httpx.Request) -> tuple[httpx.Request, str | None]:
        """The request as the older version takes it, and its operation."""
        ...

    def response(self, response: httpx.Response, op_id: str | None) -> httpx.Response:
        """The answer as the latest version would have given it."""
        ...


RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Pacer(Protocol):
    """What paces requests to the API's limits: the in-process ``RateLimiter``, or the
    Redis-backed one that processes sharing a token share (``overlay._shared_limit``)."""

    def reserve(self, method: str) -> float:
        """Take a turn for a request; the seconds to wait before sending it."""
        ...

    def observe(self, method: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn the limit's state from a response."""
        ...

    async def areserve(self, method: str) -> float: ...

    async def aobserve(self, method: str, status: int, headers: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Reserve:
    """Ask the pacer for a turn; the loop is sent back the seconds to wait."""

    method: str


@dataclass(frozen=True)
class Observe:
    """Tell the pacer what a response said of the limit."""

    method: str
    response: httpx.Response


Send = httpx.Request
Step = Send | Sleep | Reserve | Observe
Outcome = httpx.Response | Exception | float
Attempts = Generator[Step, Outcome | None, httpx.Response]


def _error_code(response: httpx.Response) -> str | None:
    """The error body's ``code`` when it is a string; whatever else the body holds, None."""
    try:
        body = loads(response.content)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


@dataclass
class AttemptSettings:
    """How each request is attempted: the retry policy, the rate limiter, whether writes
    get idempotency keys, and the clock the transports sleep on."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: Pacer | None = None
    idempotency_keys: bool = True
    rand: Callable[[], float] = random.random
    clock: Clock = SYSTEM_CLOCK


def _log_response(request: httpx.Request, response: httpx.Response, started: float, attempt: int) -> None:
    ms = (time.perf_counter() - started) * 1000
    rid = response.headers.get("x-request-id", "-")
    logger.info(
        "%s %s -> %d in %.1f ms (attempt %d, request %s)",
        request.method, request.url.path, response.status_code, ms, attempt, rid,
    )  # fmt: skip
    if logger.isEnabledFor(logging.DEBUG):
        headers = redact_headers(response.headers.multi_items())
        logger.debug("response headers=%s body=%s", headers, redact_body(response.content))


def attempts(request: httpx.Request, settings: AttemptSettings) -> Attempts:
    """Send ``request`` until it succeeds, cannot be retried, or the retries run out.

    A write without an ``Idempotency-Key`` gets one (unless ``idempotency_keys`` is off),
    and keeps it on every retry, so the API applies it at most once.
    """
    policy, limiter = settings.policy, settings.limiter
    if (
        settings.idempotency_keys
        and request.method.upper() not in SAFE_METHODS
        and "idempotency-key" not in request.headers
    ):
        request.headers["Idempotency-Key"] = f"ik_{uuid.uuid4().hex}"
    retryable = policy.may_retry(request.method, request.headers)
    retry = 0
    while True:
        wait = (yield Reserve(request.method)) if limiter is not None else 0.0
        assert isinstance(wait, float | int)
        if wait > 0:
            logger.debug("waiting %.3f s for the rate limit", wait)
            yield Sleep(wait)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "request %s body=%s",
                request_line(request.method, str(request.url), request.headers.multi_items()),
                redact_body(request.content),
            )
        started = time.perf_counter()
        outcome = yield request
        assert not isinstance(outcome, float | int)
        if isinstance(outcome, Exception):
            logger.info(
                "%s %s failed: %s (attempt %d)",
                request.method,
                request.url.path,
                type(outcome).__name__,
                retry + 1,
            )
            delay = policy.delay_after_error(retry, settings.rand) if retryable else None
            if delay is None or not isinstance(outcome, RETRYABLE_ERRORS):
                raise outcome
        else:
            assert outcome is not None
            if limiter is not None:
                yield Observe(request.method, outcome)
            if logger.isEnabledFor(logging.INFO):
                _log_response(request, outcome, started, retry + 1)
            if outcome.status_code < 400 or not retryable:
                return outcome
            delay = policy.delay_after_status(
                retry,
                outcome.status_code,
                outcome.headers,
                _error_code(outcome),
                settings.rand,
                settings.clock.time,
            )
            if delay is None:
                return outcome
        yield Sleep(delay)
        retry += 1


def advance(steps: Attempts, outcome: Outcome | None) -> Step | httpx.Response:
    """The loop's next step given the last outcome, or its final response."""
    try:
        return steps.send(outcome)
    except StopIteration as done:
        response: httpx.Response = done.value
        return response


class APITransport(httpx.BaseTransport):
    """Sends each request through the attempt loop, over ``inner``; waits on ``settings.clock``."""

    def __init__(
        self, inner: httpx.BaseTransport, settings: AttemptSettings | None = None, *, owns_inner: bool = True
    ) -> None:
        self.inner = inner
        self.settings = settings or AttemptSettings()
        self.owns_inner = owns_inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a body read once can be sent again
        steps = attempts(request, self.settings)
        limiter = self.settings.limiter
        step: Step | httpx.Response = next(steps)
        while not isinstance(step, httpx.Response):
            outcome: Outcome | None = None
            if isinstance(step, Sleep):
                self.settings.clock.sleep(step.seconds)
            elif isinstance(step, Reserve):
                assert limiter is not None
                outcome = limiter.reserve(step.method)
            elif isinstance(step, Observe):
                assert limiter is not None
                limiter.observe(step.method, step.response.status_code, step.response.headers)
            else:
                try:
                    outcome = self.inner.handle_request(step)
                    outcome.read()
                except Exception as exc:  # handed to the loop, which re-raises what it cannot retry
                    outcome = exc
            step = advance(steps, outcome)
        return step

    def close(self) -> None:
        if self.owns_inner:
            self.inner.close()


class AsyncAPITransport(httpx.AsyncBaseTransport):
    """Sends each request through the attempt loop, over ``inner``; waits on ``settings.clock``."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        settings: AttemptSettings | None = None,
        *,
        owns_inner: bool = True,
    ) -> None:
        self.inner = inner
        self.settings = settings or AttemptSettings()
        self.owns_inner = owns_inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        steps = attempts(request, self.settings)
        limiter = self.settings.limiter
        step: Step | httpx.Response = next(steps)
        while not isinstance(step, httpx.Response):
            outcome: Outcome | None = None
            if isinstance(step, Sleep):
                await self.settings.clock.asleep(step.seconds)
            elif isinstance(step, Reserve):
                assert limiter is not None
                outcome = await limiter.areserve(step.method)
            elif isinstance(step, Observe):
                assert limiter is not None
                await limiter.aobserve(step.method, step.response.status_code, step.response.headers)
            else:
                try:
                    outcome = await self.inner.handle_async_request(step)
                    await outcome.aread()
                except Exception as exc:
                    outcome = exc
            step = advance(steps, outcome)
        return step

    async def aclose(self) -> None:
        if self.owns_inner:
            await self.inner.aclose()


class MigratingTransport(httpx.BaseTransport):
    """The outermost layer of a client pinned to an older API version: each request is
    rewritten for that version, and each answer brought up to the latest. Before a write of
    values it reads the object's currency attributes, unless the metadata cache has them."""

    def __init__(self, inner: httpx.BaseTransport, migration: Migration) -> None:
        self.inner = inner
        self.migration = migration

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        lookup = self.migration.lookup(request)
        if lookup is not None:
            answer = self.inner.handle_request(lookup)
            answer.read()
            if not self.migration.learn(lookup, answer):
                return self.migration.response(answer, None)
        sent, operation = self.migration.request(request)
        response = self.inner.handle_request(sent)
        response.read()
        return self.migration.response(response, operation)

    def close(self) -> None:
        self.inner.close()


class AsyncMigratingTransport(httpx.AsyncBaseTransport):
    """``MigratingTransport`` for ``AsyncClient``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, migration: Migration) -> None:
        self.inner = inner
        self.migration = migration

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        lookup = self.migration.lookup(request)
        if lookup is not None:
            answer = await self.inner.handle_async_request(lookup)
            await answer.aread()
            if not self.migration.learn(lookup, answer):
                return self.migration.response(answer, None)
        sent, operation = self.migration.request(request)
        response = await self.inner.handle_async_request(sent)
        await response.aread()
        return self.migration.response(response, operation)

    async def aclose(self) -> None:
        await self.inner.aclose()


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for every client of the process: building one (loading the
    CA bundle) takes some 30 ms, and a context serves any number of connections and threads."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


class LazyHTTPTransport(httpx.BaseTransport):
    """``httpx.HTTPTransport`` over the shared SSL context, made on the first request, so a
    client costs next to nothing to make until it is used."""

    def __init__(self) -> None:
        self._inner: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def _transport(self) -> httpx.HTTPTransport:
        with self._lock:
            if self._inner is None:
                self._inner = httpx.HTTPTransport(verify=shared_ssl_context())
            return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return (self._inner or self._transport()).handle_request(request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


class AsyncLazyHTTPTransport(httpx.AsyncBaseTransport):
    """``LazyHTTPTransport`` for ``AsyncClient``."""

    def __init__(self) -> None:
        self._inner: httpx.AsyncHTTPTransport | None = None
        self._lock = threading.Lock()

    def _transport(self) -> httpx.AsyncHTTPTransport:
        with self._lock:
            if self._inner is None:
                self._inner = httpx.AsyncHTTPTransport(verify=shared_ssl_context())
            return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await (self._inner or self._transport()).handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


class ClientTransport(httpx.BaseTransport):
    """Sends through a caller's own ``httpx.Client`` (its proxies, certificates, pool).

    The caller owns that client: closing the overlay's client leaves it open.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.client.send(request)


class AsyncClientTransport(httpx.AsyncBaseTransport):
    """Sends through a caller's own ``httpx.AsyncClient``; the caller closes it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request)
