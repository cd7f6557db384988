"""What a handler receives, and the registry that maps operation ids to handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Sandbox

Reply = tuple[int, Any]  # (status, JSON body or None for 204)
Handler = Callable[["Ctx"], Reply]
HANDLERS: dict[str, Handler] = {}


def handler(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation_id] = fn
        return fn

    return register


@dataclass
class Ctx:
    sandbox: Sandbox
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    token: str
    version: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def actor(self) -> tuple[str, str | None]:
        return ("api-token", self.sandbox.token_id(self.token))

    @property
    def data(self) -> Any:
        return (self.body or {}).get("data") if isinstance(self.body, dict) else None

    def emit(self, event_type: str, **fields: Any) -> None:
        """Record a change event; delivered to matching webhooks once the request commits."""
        actor_type, actor_id = self.actor
        self.events.append(
            {"event_type": event_type, **fields, "actor": {"type": actor_type, "id": actor_id}}
        )
