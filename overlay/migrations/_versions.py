"""The API's history: every version change since 2025-01-01, declared once.

The transport, ``upgrade``/``downgrade``, ``crm migrate``, specdiff and the changelog
all read these declarations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crm_client.api_versions import VERSIONS as SPEC_VERSIONS

from .._money import minor_digits
from ._bundle import VersionBundle, VersionChange
from ._instructions import (
    EndpointAdded,
    EndpointMoved,
    EnumValuesAdded,
    EnumValuesRenamed,
    ErrorShapeChanged,
    FieldAdded,
    FieldRemoved,
    FieldRenamed,
    FieldsNested,
    FieldTypeChanged,
    ItemsExpanded,
    Obj,
    PaginationChanged,
    SigningChanged,
)
from .cursors import cursor_of, offset_of

# -- 2025-08-01 ------------------------------------------------------------------------------


def _day_to_instant(day: str, _: Obj) -> str:
    try:
        return f"{dt.date.fromisoformat(day).isoformat()}T00:00:00+00:00"
    except (TypeError, ValueError):
        raise ValueError(f"due_date must be a date (YYYY-MM-DD), got {day!r}") from None


def _instant_to_day(instant: str, _: Obj) -> str:
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date().isoformat()


class TaskDeadlineIsAnInstant(VersionChange):
    """Tasks: `due_date` (a date) is now `deadline_at` (a date-time); a date becomes midnight UTC."""

    instructions = tuple(
        instruction
        for schema in ("Task", "TaskWrite", "TaskPatch")
        for instruction in (
            FieldRenamed(schema, "due_date", "deadline_at"),
            FieldTypeChanged(schema, "deadline_at", _day_to_instant, _instant_to_day, exact=True),
        )
    )


EVENT_NAMES = {
    old.replace("list-entry", "list_entry").replace(".", "_"): old
    for old in (
        *(f"record.{e}" for e in ("created", "updated", "deleted")),
        *(f"list-entry.{e}" for e in ("created", "updated", "deleted")),
        *(f"note.{e}" for e in ("created", "deleted")),
        *(f"task.{e}" for e in ("created", "updated", "deleted")),
    )
}


class DottedEventNames(VersionChange):
    """Webhooks: event types are dotted: `record_created` is `record.created`, `list_entry_created`
    is `list-entry.created`."""

    instructions = (
        EnumValuesRenamed("WebhookEventType", EVENT_NAMES),
        EnumValuesRenamed("WebhookEvent", EVENT_NAMES, field="event_type"),
    )


ERROR_TYPES = {400: "invalid_request_error", 401: "auth_error", 403: "auth_error", 429: "rate_limit_error"}
# The status of an error inside a payload (a batch item's), which carries none, by its code.
STATUS_OF_CODE = {
    "not_found": 404,
    "uniqueness_conflict": 409,
    "idempotency_conflict": 409,
    "rate_limited": 429,
}


def _error_up(body: Obj, status: int | None) -> Obj:
    inner: Obj = body["error"] if isinstance(body.get("error"), dict) else {}
    code = str(inner.get("code", "unknown_error"))
    status = status or STATUS_OF_CODE.get(code, 400)
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"status_code": status, "type": kind, "code": code, "message": str(inner.get("message", ""))}


def _error_down(body: Obj) -> Obj:
    return {"error": {"code": body.get("code"), "message": body.get("message")}}


class FlatErrorBody(VersionChange):
    """Errors: the body is `{status_code, type, code, message}` instead of `{error: {code, message}}`."""

    instructions = (ErrorShapeChanged("Error", _error_up, _error_down),)


class StandardWebhookSignatures(VersionChange):
    """Webhooks: deliveries are signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`) instead of with `CRM-Signature`."""

    instructions = (SigningChanged(),)


class UpsertIsAPut(VersionChange):
    """Records: upsert is `PUT /v2/objects/{object}/records?matching_attribute=` instead of
    `POST .../records/assert`."""

    instructions = (
        EndpointMoved(
            "upsert_record",
            old=("POST", "/v2/objects/{object}/records/assert"),
            new=("PUT", "/v2/objects/{object}/records"),
        ),
    )


# -- 2026-04-01 ------------------------------------------------------------------------------


def _to_minor(value: Any, money: Obj) -> int:
    digits = minor_digits(str(money.get("currency_code") or ""))
    try:
        return int((Decimal(str(value)) * 10**digits).to_integral_value())
    except ArithmeticError:
        raise ValueError(f"currency_value must be a finite number, got {value!r}") from None


def _to_major(value: Any, money: Obj) -> float:
    digits = minor_digits(str(money.get("currency_code") or ""))
    return float(Decimal(int(value)) / 10**digits)


class CurrencyInMinorUnits(VersionChange):
    """Currency values: `currency_value` (12.5) is now `amount_minor` (1250), in the currency's minor unit."""

    instructions = tuple(
        instruction
        for schema in ("CurrencyValue", "CurrencyInput")
        for instruction in (
            FieldRenamed(schema, "currency_value", "amount_minor"),
            FieldTypeChanged(schema, "amount_minor", _to_minor, _to_major),
        )
    )


class NoteParentIsNested(VersionChange):
    """Notes: `parent_object` and `parent_record_id` are now `parent: {object, record_id}`."""

    instructions = tuple(
        FieldsNested(schema, {"parent_object": "object", "parent_record_id": "record_id"}, into="parent")
        for schema in ("Note", "NoteWrite")
    )


def _page_up(pagination: Obj, page: Obj) -> Obj:
    more = pagination.get("has_more")
    after = int(pagination.get("offset", 0)) + len(page.get("data") or [])
    return {"next_cursor": cursor_of(after) if more else None}


def _page_down(pagination: Obj, page: Obj) -> Obj:
    if "offset" in pagination:  # already paged by offset (a server of the older version)
        return pagination
    size = len(page.get("data") or [])
    after = pagination.get("next_cursor")
    offset = offset_of(after) - size if after else 0
    return {"offset": max(offset, 0), "limit": max(size, 1), "has_more": after is not None}


class CursorPaging(VersionChange):
    """Notes, tasks and webhooks lists: page with `cursor` and `next_cursor` instead of `offset`."""

    instructions = (
        PaginationChanged(("list_notes", "list_tasks", "list_webhooks")),
        *(
            FieldTypeChanged(page, "pagination", _page_up, _page_down)
            for page in ("NotePage", "TaskPage", "WebhookPage")
        ),
    )


def web_url(record: Obj) -> str:
    """The app link older versions send with each record, from the record's id."""
    ids = record.get("id") or {}
    return f"https://app.crm.example/records/{ids.get('object_id')}/{ids.get('record_id')}"


class RecordWebUrlRemoved(VersionChange):
    """Records: `web_url` is gone; build links from the record's id."""

    instructions = (FieldRemoved("Record", "web_url", reconstruct=web_url),)


class RecordUpdatedAt(VersionChange):
    """Records: `updated_at` says when the record or a value last changed (older payloads get
    `created_at`)."""

    instructions = (FieldAdded("Record", "updated_at", default=lambda record: record.get("created_at")),)


class WebhookSecretRotation(VersionChange):
    """Webhooks: `POST /v2/webhooks/{webhook_id}/rotate-secret` replaces the secret, with an overlap."""

    instructions = (EndpointAdded("rotate_webhook_secret"),)


# -- 2026-12-01 ------------------------------------------------------------------------------


class BatchItemUnchanged(VersionChange):
    """Batch results: an upsert whose values equal what is stored has `status` `unchanged`
    (nothing written, no event); older versions read it as `updated`."""

    instructions = (EnumValuesAdded("BatchItemStatus", {"unchanged": "updated"}),)


EVENT_FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(name for name in EVENT_NAMES.values() if name.startswith(family[:-1]))
    for family in ("record.*", "list-entry.*", "note.*", "task.*")
}


def expand_family(subscription: Any) -> list[Any]:
    """A subscription to a family (``record.*``) as one subscription per event type in it,
    each with the same filter; any other subscription as itself."""
    kind = subscription.get("event_type") if isinstance(subscription, dict) else None
    members = EVENT_FAMILIES.get(kind) if isinstance(kind, str) else None
    if members is None:
        return [subscription]
    return [{**subscription, "event_type": member} for member in members]


class WebhookEventFamilies(VersionChange):
    """Webhooks: a subscription's `event_type` may be a family, `record.*`, `list-entry.*`,
    `note.*` or `task.*`; older versions see a family as one subscription per event type in it."""

    instructions = tuple(
        ItemsExpanded(schema, "subscriptions", expand_family, changes=("WebhookSubscription.event_type",))
        for schema in ("Webhook", "WebhookWithSecret", "WebhookWrite", "WebhookPatch")
    )


TEST_ID_PREFIX = "test_"
EVENT_SCHEMAS = tuple(
    f"{kind}{what}Event"
    for kind, whats in (
        ("Record", ("Created", "Updated", "Deleted")),
        ("ListEntry", ("Created", "Updated", "Deleted")),
        ("Note", ("Created", "Deleted")),
        ("Task", ("Created", "Updated", "Deleted")),
    )
    for what in whats
)


def is_test_event(event: Obj) -> bool:
    """Whether ``event`` is the event of a test delivery: its ids (other than the
    workspace's) start with ``test_``."""
    ids = event.get("id")
    return isinstance(ids, dict) and any(
        isinstance(value, str) and value.startswith(TEST_ID_PREFIX)
        for key, value in ids.items()
        if key != "workspace_id"
    )


class WebhookTestEventsMarked(VersionChange):
    """Webhook events: `is_test` is true on the event of a test delivery (whose ids start with
    `test_`) and false on a real change; older versions leave it out."""

    instructions = tuple(FieldAdded(schema, "is_test", default=is_test_event) for schema in EVENT_SCHEMAS)


class EventFeed(VersionChange):
    """Events: `GET /v2/events` is the change feed, every change in commit order (records, entries,
    notes, tasks and the schema), paged by cursor, long-polled with `wait`, kept for 30 days."""

    instructions = (EndpointAdded("list_events"),)


class ServerCounts(VersionChange):
    """Counts: `POST /v2/objects/{object}/records/count` and `POST /v2/lists/{list}/entries/count`
    count what matches a filter in the server; older versions count by reading every page."""

    instructions = (EndpointAdded("count_records"), EndpointAdded("count_entries"))


# What 2026-12-01 adds to each webhook event; older deliveries carry ids only.
FAT_EVENT_FIELDS = (
    "event_id", "sequence", "occurred_at", "object", "list",
    "record", "entry", "note", "task", "changed_attributes",
)  # fmt: skip
UPDATE_EVENTS = frozenset({"record.updated", "list-entry.updated"})


def thin_event(event: Any) -> list[Any]:
    """A 2026-12-01 event as older versions deliver it: ids only, and one ``*.updated`` event
    per attribute the write changed."""
    if not isinstance(event, dict):
        return [event]
    thin = {key: value for key, value in event.items() if key not in FAT_EVENT_FIELDS}
    changed = event.get("changed_attributes")
    if event.get("event_type") not in UPDATE_EVENTS or not isinstance(changed, list) or not changed:
        return [thin]
    return [
        {**thin, "attribute_id": item["attribute_id"]} if isinstance(item, dict) else thin for item in changed
    ]


class WebhookEventsCarryChanges(VersionChange):
    """Webhook events: each carries `event_id`, `sequence`, `occurred_at`, its object or list, a
    snapshot of the record, entry, note or task, and `changed_attributes`, the same objects the
    feed serves; a write is one `*.updated` event. Older versions get ids only, one `*.updated`
    event per changed attribute."""

    instructions = (ItemsExpanded("WebhookDeliveryBody", "events", thin_event),)


# The changes each dated version brings; the dates themselves come from the specs
# (crm_client.api_versions.VERSIONS, which make regen writes), the oldest being the base.
CHANGES_BY_VERSION: dict[str, tuple[type[VersionChange], ...]] = {
    "2025-08-01": (
        TaskDeadlineIsAnInstant,
        DottedEventNames,
        FlatErrorBody,
        StandardWebhookSignatures,
        UpsertIsAPut,
    ),
    "2026-04-01": (
        CurrencyInMinorUnits,
        NoteParentIsNested,
        CursorPaging,
        RecordWebUrlRemoved,
        RecordUpdatedAt,
        WebhookSecretRotation,
    ),
    "2026-12-01": (
        BatchItemUnchanged,
        WebhookEventFamilies,
        WebhookTestEventsMarked,
        EventFeed,
        WebhookEventsCarryChanges,
        ServerCounts,
    ),
}

VERSIONS = VersionBundle.of_dates(SPEC_VERSIONS, CHANGES_BY_VERSION)
