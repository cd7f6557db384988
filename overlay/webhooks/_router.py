"""Receiving deliveries: verify, dedupe by ``webhook-id``, dispatch events to handlers.

``Router`` is framework-neutral (``handle(body, headers)`` gives a ``Reply``) and is itself
an ASGI app. A delivery is acknowledged (2xx) only when every handler of every event in it
returned; otherwise the sender retries it, and the retry is dispatched again. A retry of a
delivery already handled is acknowledged without calling anything; one of a delivery still
being handled (here or in another worker sharing the store) gets a retryable 409.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import logging
import math
import os
import secrets as _secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .._errors import ConfigurationError, ResponseParseError, WebhookVerificationError
from .._metadata_core import hint
from ._delivery import Delivery, Event, event_type
from ._seen import MemorySeenStore, SeenStore
from ._signing import DEFAULT, Secrets, Verifier

log = logging.getLogger("overlay.webhooks")

Handler = Callable[..., Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What to answer the sender: ``status``, a small JSON ``body`` and its ``headers``."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    @classmethod
    def of(cls, status: int, /, **data: Any) -> Reply:
        return cls(status, json.dumps(data).encode())


@dataclass(frozen=True)
class _Route:
    pattern: str
    handler: Handler
    is_async: bool
    wants_delivery: bool

    def arguments(self, delivery: Delivery) -> dict[str, Delivery]:
        return {"delivery": delivery} if self.wants_delivery else {}

    def matches(self, name: str) -> bool:
        if self.pattern == "*" or self.pattern == name:
            return True
        return self.pattern.endswith(".*") and name.startswith(self.pattern[:-1])


_Call = tuple[_Route, Event]
_RETRY_AFTER_MAX = 5  # seconds: a handler in progress usually ends sooner than its lease


@dataclass
class _Started:
    """A verified delivery being handled: its calls, and the owner of its claim (if any)."""

    delivery: Delivery
    calls: list[_Call]
    owner: str | None


def _known_event_types() -> list[str]:
    from crm_client.models import WebhookEventType

    return [member.value for member in WebhookEventType]


class Router:
    """Verifies deliveries and calls the handlers registered with ``on``.

    ``secrets`` (or a ready ``verifier``, or ``set_secrets`` later) check each delivery.
    ``dedupe`` claims each ``webhook-id`` (in memory by default; a ``SQLiteSeenStore``
    shares claims between the processes of one machine, a ``RedisSeenStore`` between
    machines; ``None`` turns it off): a lease of
    ``lease`` seconds while its handlers run, then a done marker for ``dedupe_ttl`` seconds.
    A copy arriving while the lease is live gets 409 ``in_progress`` with ``Retry-After``
    (retryable: the first attempt may still fail); one arriving after gets 200
    ``duplicate``, dispatching nothing. A handler that raises, or is cancelled, gives the
    claim back; one whose process died holds it until the lease expires, so ``lease``
    should outlast the slowest handler. Byte-identical replays are answered the same way,
    so the router's own verifier keeps no seen store.
    Bodies over ``max_body_size`` bytes are refused by the ASGI app with 413.
    """

    def __init__(
        self,
        secrets: Secrets | None = None,
        *,
        verifier: Verifier | None = None,
        tolerance: float = 300,
        legacy: bool = False,
        dedupe: SeenStore | None = DEFAULT,
        dedupe_ttl: float = 3 * 86400,
        lease: float = 60,
        max_body_size: int = 5 * 1024 * 1024,
    ) -> None:
        if verifier is None and secrets is not None:
            verifier = Verifier(secrets, tolerance=tolerance, legacy=legacy, seen=None)
        self.verifier = verifier
        self._tolerance, self._legacy = tolerance, legacy
        self.dedupe = MemorySeenStore() if dedupe is DEFAULT else dedupe
        if self.dedupe is not None:
            store = self.dedupe
            missing = [
                f"{m}()" for m in ("acquire", "complete", "release") if not callable(getattr(store, m, None))
            ]
            if missing:
                raise ConfigurationError(f"dedupe store {type(store).__name__} has no {', '.join(missing)}")
        if not isinstance(lease, int | float) or lease <= 0:
            raise ConfigurationError(f"lease must be a number of seconds > 0, got {lease!r}")
        self.dedupe_ttl = dedupe_ttl
        self.lease = lease
        self.max_body_size = max_body_size
        self._routes: list[_Route] = []

    def __repr__(self) -> str:
        return f"<Router {len(self._routes)} handler(s), {self.verifier or 'no secrets'}>"

    def set_secrets(self, secrets: Secrets) -> None:
        """Verify with these secrets from now on: after creating the webhook, or rotating it.

        Until a router has secrets it answers every delivery 503, which the sender retries.
        """
        seen = self.verifier.seen if self.verifier is not None else None
        self.verifier = Verifier(secrets, tolerance=self._tolerance, legacy=self._legacy, seen=seen)

    # ------------------------------------------------------------------ registration
    def on(self, *event_types: str, strict: bool = True) -> Callable[[Handler], Handler]:
        """Register the decorated function for these event types.

        A type is exact (``"record.created"``), a family (``"record.*"``) or ``"*"``. The
        handler gets the event, and the ``Delivery`` too when it has a parameter named
        ``delivery``; it may be ``async``. A type this SDK does not know is refused with a
        suggestion unless ``strict=False``.
        """
        if not event_types:
            raise ConfigurationError("on() needs at least one event type, or '*'")

        def register(handler: Handler) -> Handler:
            for pattern in event_types:
                self.add(pattern, handler, strict=strict)
            return handler

        return register

    def add(self, event_type: str, handler: Handler, *, strict: bool = True) -> None:
        """Register ``handler`` for ``event_type``, as ``on`` does."""
        if strict and event_type != "*":
            known = _known_event_types()
            families = {name.split(".")[0] + ".*" for name in known}
            if event_type not in known and event_type not in families:
                raise ConfigurationError(f"Unknown event type {event_type!r}.{hint(event_type, known)}")
        if not callable(handler):
            raise ConfigurationError(f"A webhook handler is a function, got {type(handler).__name__}.")
        try:
            signature = inspect.signature(handler)
        except (TypeError, ValueError):  # a builtin without a signature: called with the event
            wants_delivery = False
        else:
            wants_delivery = "delivery" in signature.parameters
            try:
                signature.bind(None, **({"delivery": None} if wants_delivery else {}))
            except TypeError as exc:
                name = getattr(handler, "__qualname__", repr(handler))
                shown = signature.replace(return_annotation=inspect.Signature.empty)
                raise ConfigurationError(
                    f"The webhook handler {name}{shown} cannot be called with the event"
                    f"{' and delivery=' if wants_delivery else ''}: {exc}."
                ) from None
        is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004 - an async callable object
        )
        self._routes.append(_Route(event_type, handler, is_async, wants_delivery))

    # ------------------------------------------------------------------ handling
    def handle(self, body: bytes, headers: Mapping[str, Any]) -> Reply:
        """Verify, dedupe and dispatch one delivery; the ``Reply`` to send back."""
        if any(route.is_async for route in self._routes):
            raise ConfigurationError("this router has async handlers: use handle_async() or serve it as ASGI")
        started = self._begin(body, headers)
        if isinstance(started, Reply):
            return started
        try:
            for route, event in started.calls:
                route.handler(event, **route.arguments(started.delivery))
        except Exception as exc:
            return self._failed(started, exc)
        except BaseException:  # KeyboardInterrupt, SystemExit: give the claim back, then go
            self._release(started)
            raise
        return self._done(started)

    async def handle_async(self, body: bytes, headers: Mapping[str, Any]) -> Reply:
        """``handle`` for async code: async handlers are awaited, others run in a thread.

        Cancelled (a timeout around it, a server shutting down), it gives the claim back,
        so the sender's retry is handled: at once, or when the handler's thread returns (a
        thread cannot be stopped, and a retry must not run beside it). A seen store that does
        I/O (a file, Redis) is called from a thread, so a slow one never stalls the loop.
        """
        in_thread = self.dedupe is not None and not isinstance(self.dedupe, MemorySeenStore)

        async def with_store(fn: Callable[..., T], *args: Any) -> T:
            return await asyncio.to_thread(fn, *args) if in_thread else fn(*args)

        started = await with_store(self._begin, body, headers)
        if isinstance(started, Reply):
            return started
        thread: asyncio.Future[Any] | None = None
        try:
            for route, event in started.calls:
                if route.is_async:
                    await route.handler(event, **route.arguments(started.delivery))
                else:
                    arguments = route.arguments(started.delivery)
                    call = functools.partial(
                        contextvars.copy_context().run, route.handler, event, **arguments
                    )
                    thread = asyncio.get_running_loop().run_in_executor(None, call)
                    await asyncio.shield(thread)
                    thread = None
        except Exception as exc:
            return await with_store(self._failed, started, exc)
        except BaseException:  # cancelled
            if thread is None or thread.done():
                self._release(started)
            else:
                thread.add_done_callback(lambda ended: self._release_after(started, ended))
            raise
        return await with_store(self._done, started)

    def _release_after(self, started: _Started, thread: asyncio.Future[Any]) -> None:
        error = None if thread.cancelled() else thread.exception()
        if error is not None:
            log.error("webhook handler failed on delivery %s", started.delivery.message_id, exc_info=error)
        self._release(started)

    def _begin(self, body: bytes, headers: Mapping[str, Any]) -> Reply | _Started:
        if self.verifier is None:
            log.warning("webhook delivery refused: the router has no secrets yet")
            return Reply.of(503, error="no_secrets")
        try:
            delivery = self.verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            log.warning("webhook delivery refused: %s", exc)
            return Reply.of(400, error=exc.code)
        started = _Started(delivery, [], None)
        key = delivery.message_id
        if key is not None and self.dedupe is not None:  # a duplicate is answered before parsing
            owner = f"{os.getpid()}:{_secrets.token_hex(6)}"
            try:
                state = self.dedupe.acquire(key, owner, time.time() + self.lease)
            except Exception as exc:
                log.error("webhook delivery %s: the seen store failed: %s", key, exc)
                return self._retry_later(503, error="seen_store_unavailable")
            if state == "done":
                log.info("webhook delivery %s already handled", key)
                return Reply.of(200, status="duplicate")
            if state != "acquired":
                log.info("webhook delivery %s is being handled elsewhere", key)
                return self._retry_later(409, status="in_progress")
            started.owner = owner
        try:
            events = delivery.events
        except ResponseParseError as exc:
            log.error("webhook delivery %s is not a delivery body: %s", key, exc)
            self._release(started)
            return Reply.of(400, error="malformed_body")
        routes = self._routes
        started.calls = [(r, e) for e in events for r in routes if r.matches(event_type(e))]
        return started

    def _retry_later(self, status: int, /, **data: Any) -> Reply:
        reply = Reply.of(status, **data)
        reply.headers["retry-after"] = str(max(1, math.ceil(min(self.lease, _RETRY_AFTER_MAX))))
        return reply

    def _failed(self, started: _Started, exc: Exception) -> Reply:
        log.error("webhook handler failed on delivery %s", started.delivery.message_id, exc_info=exc)
        self._release(started)
        return Reply.of(500, error="handler_failed")

    def _release(self, started: _Started) -> None:
        """Give the claim back, so the sender's retry is handled again."""
        key = started.delivery.message_id
        if key is not None and started.owner is not None and self.dedupe is not None:
            try:
                self.dedupe.release(key, started.owner)
            except Exception as exc:  # the lease expires on its own
                log.error("webhook delivery %s: could not release its claim: %s", key, exc)

    def _done(self, started: _Started) -> Reply:
        key = started.delivery.message_id
        if key is not None and started.owner is not None and self.dedupe is not None:
            try:
                self.dedupe.complete(key, started.owner, time.time() + self.dedupe_ttl)
            except Exception as exc:  # handled all the same: the sender must not retry it
                log.error("webhook delivery %s: could not mark it done: %s", key, exc)
        return Reply.of(200, status="ok", handled=len(started.calls))

    # ------------------------------------------------------------------ mounting
    def routes(self, path: str) -> list[Any]:
        """Starlette routes serving this router at ``path``, with and without a trailing slash.

        ``Starlette(routes=router.routes("/crm-hooks"))``, or ``app.router.routes.extend(...)``
        in FastAPI. ``Mount("/crm-hooks", app=router)`` would answer ``/crm-hooks`` with a
        307 to ``/crm-hooks/``, and senders do not follow redirects.
        """
        try:
            from starlette.routing import Route
        except ImportError:
            raise ConfigurationError("Router.routes() builds Starlette routes: install starlette") from None
        bare = "/" + path.strip("/")
        if bare == "/":
            return [Route("/", self)]
        return [Route(bare, self), Route(bare + "/", self)]

    # ------------------------------------------------------------------ ASGI
    async def __call__(
        self,
        scope: Mapping[str, Any],
        receive: Callable[[], Awaitable[Mapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        """The router as an ASGI app: POST a delivery to any path it is mounted at."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            reply = Reply.of(405, error="method_not_allowed")
            reply.headers["allow"] = "POST"
        else:
            body = await self._read_body(receive)
            if body is None:
                reply = Reply.of(413, error="body_too_large")
            else:
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
                reply = await self.handle_async(body, headers)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    async def _read_body(self, receive: Callable[[], Awaitable[Mapping[str, Any]]]) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_size:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
