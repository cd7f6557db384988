"""A verified delivery and its typed events."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .._parse import parse

if TYPE_CHECKING:
    from crm_client.models import (
        ListEntryCreatedEvent,
        ListEntryDeletedEvent,
        ListEntryUpdatedEvent,
        NoteCreatedEvent,
        NoteDeletedEvent,
        RecordCreatedEvent,
        RecordDeletedEvent,
        RecordUpdatedEvent,
        TaskCreatedEvent,
        TaskDeletedEvent,
        TaskUpdatedEvent,
        WebhookDeliveryBody,
    )
    from crm_client.types import UnknownVariant

Event: TypeAlias = (
    "RecordCreatedEvent | RecordUpdatedEvent | RecordDeletedEvent | ListEntryCreatedEvent"
    " | ListEntryUpdatedEvent | ListEntryDeletedEvent | NoteCreatedEvent | NoteDeletedEvent"
    " | TaskCreatedEvent | TaskUpdatedEvent | TaskDeletedEvent | UnknownVariant"
)
"""One change event. An event type this SDK does not know arrives as ``UnknownVariant``,
with its JSON whole (``.data``) and its type as ``.type``."""


def event_type(event: Event) -> str:
    """The event's type, such as ``"record.created"``, known to this SDK or not."""
    known = getattr(event, "event_type", None)
    return str(known if known is not None else event.type)  # type: ignore[union-attr]


def is_test(event: Event) -> bool:
    """Whether ``event`` is the event of a test delivery (``client.webhooks.test()``), whose
    ids name no real object or record, rather than a real change. An event shaped by a
    version before 2026-12-01 (which has no ``is_test``) is a test when its ids start with
    ``test_``: ``Delivery.events`` brings it up so."""
    from crm_client.types import UnknownVariant

    flag = event.data.get("is_test") if isinstance(event, UnknownVariant) else event.is_test
    return flag is True


class Delivery:
    """One verified delivery: the body as sent, who signed it, and its events.

    ``message_id`` is the ``webhook-id`` (the same on every retry; None under the legacy
    scheme, which has none), ``signed_at`` the signature's time, ``scheme`` ``"v1"`` or
    ``"crm-signature"``, ``api_version`` the version that shaped the events (the
    ``crm-version`` header) when the sender said. ``events`` parses the body on first use,
    brought up to the latest version first when an older one shaped it (``json()`` stays
    the body as sent), and raises ``ResponseParseError`` when it does not have the
    delivery shape.
    """

    __slots__ = ("_parsed", "api_version", "body", "message_id", "scheme", "timestamp")

    def __init__(
        self,
        body: bytes,
        message_id: str | None,
        timestamp: int | None,
        scheme: Literal["v1", "crm-signature"],
        api_version: str | None,
    ) -> None:
        self.body = body
        self.message_id = message_id
        self.timestamp = timestamp
        self.scheme = scheme
        self.api_version = api_version
        self._parsed: WebhookDeliveryBody | None = None

    def __repr__(self) -> str:
        return f"<Delivery {self.message_id or self.scheme} {len(self.body)} bytes>"

    @property
    def signed_at(self) -> dt.datetime | None:
        if self.timestamp is None:
            return None
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC)

    def json(self) -> Any:
        """The body as JSON, untyped."""
        return json.loads(self.body)

    @property
    def payload(self) -> WebhookDeliveryBody:
        """The body as the spec's ``WebhookDeliveryBody`` (of the latest version)."""
        if self._parsed is None:
            from crm_client.models import WebhookDeliveryBody

            self._parsed = parse(WebhookDeliveryBody, self._latest_body())
        return self._parsed

    def _latest_body(self) -> bytes:
        from crm_client.api_versions import VERSIONS

        if self.api_version not in VERSIONS[:-1]:  # the latest, or a version this SDK does not know
            return self.body
        from .. import migrations

        try:
            body = json.loads(self.body)
        except ValueError:
            return self.body  # not JSON: parse() says so
        upgraded = migrations.upgrade(
            body, "WebhookDeliveryBody", from_version=self.api_version, copy_payload=False
        )
        return json.dumps(upgraded).encode()

    @property
    def webhook_id(self) -> str:
        return self.payload.webhook_id

    @property
    def events(self) -> list[Event]:
        return self.payload.events

    @property
    def is_test(self) -> bool:
        """True for a test delivery (``client.webhooks.test()``): each of its events is a test."""
        return bool(self.events) and all(is_test(event) for event in self.events)
