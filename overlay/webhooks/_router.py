"""Receiving deliveries: verify, dedupe by ``webhook-id``, dispatch events to handlers.

``Router`` is framework-neutral (``handle(body, headers)`` gives a ``Reply``) and is itself
an ASGI app. A delivery is acknowledged (2xx) only when every handler of every event in it
returned; otherwise the sender retries it, and the retry is dispatched again. A retry of a
delivery already handled is acknowledged without calling anything.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConfigurationError, ResponseParseError, WebhookVerificationError
from .._metadata import hint
from ._delivery import Delivery, Event, event_type
from ._seen import MemorySeenStore, SeenStore
from ._signing import DEFAULT, Secrets, Verifier

log = logging.getLogger("overlay.webhooks")

Handler = Callable[..., Any]


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


def _known_event_types() -> list[str]:
    from crm_client.models import WebhookEventType

    return [member.value for member in WebhookEventType]


class Router:
    """Verifies deliveries and calls the handlers registered with ``on``.

    ``secrets`` (or a ready ``verifier``, or ``set_secrets`` later) check each delivery.
    ``dedupe`` remembers the ``webhook-id`` of every handled delivery for ``dedupe_ttl``
    seconds (in memory by default; a ``SQLiteSeenStore`` shares it between workers; ``None``
    turns it off). It also answers replays: a byte-identical copy of a handled delivery
    (which a sender retrying within the same second also sends) is acknowledged and
    dispatches nothing, so the router's own verifier keeps no seen store.
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
        max_body_size: int = 5 * 1024 * 1024,
    ) -> None:
        if verifier is None and secrets is not None:
            verifier = Verifier(secrets, tolerance=tolerance, legacy=legacy, seen=None)
        self.verifier = verifier
        self._tolerance, self._legacy = tolerance, legacy
        self.dedupe = MemorySeenStore() if dedupe is DEFAULT else dedupe
        self.dedupe_ttl = dedupe_ttl
        self.max_body_size = max_body_size
        self._routes: list[_Route] = []
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

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
        try:
            wants_delivery = "delivery" in inspect.signature(handler).parameters
        except (TypeError, ValueError):
            wants_delivery = False
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
        delivery, calls = started
        try:
            for route, event in calls:
                route.handler(event, **route.arguments(delivery))
        except Exception as exc:
            return self._failed(delivery, exc)
        return self._done(delivery, len(calls))

    async def handle_async(self, body: bytes, headers: Mapping[str, Any]) -> Reply:
        """``handle`` for async code: async handlers are awaited, others run in a thread."""
        started = self._begin(body, headers)
        if isinstance(started, Reply):
            return started
        delivery, calls = started
        try:
            for route, event in calls:
                if route.is_async:
                    await route.handler(event, **route.arguments(delivery))
                else:
                    await asyncio.to_thread(route.handler, event, **route.arguments(delivery))
        except Exception as exc:
            return self._failed(delivery, exc)
        return self._done(delivery, len(calls))

    def _begin(self, body: bytes, headers: Mapping[str, Any]) -> Reply | tuple[Delivery, list[_Call]]:
        if self.verifier is None:
            log.warning("webhook delivery refused: the router has no secrets yet")
            return Reply.of(503, error="no_secrets")
        try:
            delivery = self.verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            log.warning("webhook delivery refused: %s", exc)
            return Reply.of(400, error=exc.code)
        key = delivery.message_id
        if key is not None:  # a duplicate is answered before its body is parsed
            with self._lock:
                if key in self._in_flight:
                    return Reply.of(409, status="in_progress")
                if self.dedupe is not None and not self.dedupe.claim(key, time.time() + self.dedupe_ttl):
                    log.info("webhook delivery %s already handled", key)
                    return Reply.of(200, status="duplicate")
                self._in_flight.add(key)
        try:
            events = delivery.events
        except ResponseParseError as exc:
            log.error("webhook delivery %s is not a delivery body: %s", key, exc)
            self._release(key)
            return Reply.of(400, error="malformed_body")
        routes = self._routes
        calls = [(route, event) for event in events for route in routes if route.matches(event_type(event))]
        return delivery, calls

    def _failed(self, delivery: Delivery, exc: Exception) -> Reply:
        log.error("webhook handler failed on delivery %s", delivery.message_id, exc_info=exc)
        self._release(delivery.message_id)
        return Reply.of(500, error="handler_failed")

    def _release(self, key: str | None) -> None:
        """Give the claim back, so the sender's retry is handled again."""
        if key is not None:
            with self._lock:
                self._in_flight.discard(key)
                if self.dedupe is not None:
                    self.dedupe.release(key)

    def _done(self, delivery: Delivery, calls: int) -> Reply:
        if delivery.message_id is not None:
            with self._lock:
                self._in_flight.discard(delivery.message_id)
        return Reply.of(200, status="ok", handled=calls)

    # ------------------------------------------------------------------ ASGI
    async def __call__(
        self,
        scope: Mapping[str, Any],
        receive: Callable[[], Awaitable[Mapping[str, Any]]],
        send: Callable[[Mapping[str, Any]], Awaitable[None]],
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
