"""What a handler receives: the request's parts, and the services of the sandbox it may touch.

A handler sees the store, the catalog, the webhook deliveries, the change feed, the idempotency records and
what ``GET /v2/self`` tells of the workspace; never the app's config, rate limiter or chaos.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .feed import Feed
from .guards import Idempotency
from .store import Store
from .webhooks import Deliveries

Reply = tuple[int, Any]  # (status, JSON body or None for 204)
Handler = Callable[["Ctx"], Reply]


@functools.cache
def token_id(token: str) -> str:
    """The id the API gives a token: stable, and not the token."""
    return str(uuid.UUID(hashlib.sha256(token.encode()).hexdigest()[:32]))


@dataclass(frozen=True)
class Workspace:
    """The workspace a sandbox serves, as ``GET /v2/self`` tells it."""

    name: str
    default_version: str  # the version of requests without CRM-Version


@dataclass
class Ctx:
    store: Store
    catalog: Catalog
    deliveries: Deliveries
    feed: Feed
    idempotency: Idempotency
    workspace: Workspace
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    token: str
    version: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def actor(self) -> tuple[str, str | None]:
        return ("api-token", token_id(self.token))

    @property
    def data(self) -> Any:
        return (self.body or {}).get("data") if isinstance(self.body, dict) else None

    def emit(self, event_type: str, **fields: Any) -> None:
        """Record a change event: the feed keeps it, and matching webhooks get it, in the
        request's transaction."""
        actor_type, actor_id = self.actor
        self.events.append(
            {"event_type": event_type, **fields, "actor": {"type": actor_type, "id": actor_id}}
        )

    def emit_schema(self, event_type: str, definition: dict[str, Any], **slugs: str) -> None:
        """Record a change of the schema: ``definition`` is the object, list, attribute or
        option as it is now; ``slugs`` name what it belongs to."""
        self.emit(event_type, id=definition["id"], **slugs, definition=definition)
