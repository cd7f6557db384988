"""Webhooks: verify deliveries, read their typed events, and receive them.

    delivery = overlay.webhooks.verify(body, headers, secrets=["whsec_..."])
    for event in delivery.events: ...

    router = overlay.webhooks.Router(secrets=["whsec_..."])

    @router.on("record.created")
    def created(event): ...

``router.handle(body, headers)`` suits any framework; ``router`` itself is an ASGI app, and
``router.routes("/path")`` gives the Starlette routes that serve it.
Every failure to verify is a ``WebhookVerificationError`` subclass saying why; a seen store
that fails (its file read-only, locked or corrupt; its Redis unreachable) raises
``SeenStoreError``. ``SQLiteSeenStore`` shares claims between the processes of one machine,
``RedisSeenStore`` between machines.
"""

from .._errors import (
    InvalidTimestampError,
    MalformedHeaderError,
    MissingHeaderError,
    ReplayedMessageError,
    SeenStoreError,
    SignatureMismatchError,
    TimestampOutsideWindowError,
    WebhookVerificationError,
)
from ._delivery import Delivery, Event, event_type, is_test
from ._redis_seen import RedisSeenStore
from ._router import Reply, Router
from ._seen import ClaimState, MemorySeenStore, SeenStore, SQLiteSeenStore
from ._signing import Verifier, decode_secret, sign, verify

__all__ = [
    "ClaimState",
    "Delivery",
    "Event",
    "InvalidTimestampError",
    "MalformedHeaderError",
    "MemorySeenStore",
    "MissingHeaderError",
    "RedisSeenStore",
    "ReplayedMessageError",
    "Reply",
    "Router",
    "SQLiteSeenStore",
    "SeenStore",
    "SeenStoreError",
    "SignatureMismatchError",
    "TimestampOutsideWindowError",
    "Verifier",
    "WebhookVerificationError",
    "decode_secret",
    "event_type",
    "is_test",
    "sign",
    "verify",
]
