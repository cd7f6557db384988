"""Path parameters take the id as text or the identifier object the SDK returned; anything
else is refused by name before a request is sent (over httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from crm_client.models import (
    AttributeIdentifier,
    EntryIdentifier,
    ListIdentifier,
    NoteIdentifier,
    ObjectIdentifier,
    RecordIdentifier,
    SelectOptionIdentifier,
    TaskIdentifier,
    WebhookIdentifier,
)

import overlay

from .test_client import Script, clock, make, no_environment

__all__ = ["clock", "make", "no_environment"]  # the fixtures, shared with test_client

Make = Callable[..., overlay.Client]
W = "w1"
OBJECT = ObjectIdentifier(workspace_id=W, object_id="obj_1")
ATTRIBUTE = AttributeIdentifier(workspace_id=W, attribute_id="att_1", object_id="obj_1")
OPTION = SelectOptionIdentifier(workspace_id=W, attribute_id="att_1", option_id="opt_1")
RECORD = RecordIdentifier(workspace_id=W, object_id="obj_1", record_id="rec_1")
LIST = ListIdentifier(workspace_id=W, list_id="lst_1")
ENTRY = EntryIdentifier(workspace_id=W, list_id="lst_1", entry_id="ent_1")
NOTE = NoteIdentifier(workspace_id=W, note_id="not_1")
TASK = TaskIdentifier(workspace_id=W, task_id="tsk_1")
WEBHOOK = WebhookIdentifier(workspace_id=W, webhook_id="wh_1")


def not_found(request: httpx.Request) -> httpx.Response:
    body = {"status_code": 404, "type": "invalid_request_error", "code": "not_found", "message": "m"}
    return httpx.Response(404, json=body, headers={"x-request-id": "req_404"})


CALLS: list[tuple[str, Callable[[overlay.Client], Any], str]] = [
    ("objects.get", lambda c: c.objects.get(OBJECT), "/v2/objects/obj_1"),
    ("attributes.get", lambda c: c.attributes.get(OBJECT, ATTRIBUTE), "/v2/objects/obj_1/attributes/att_1"),
    (
        "attributes.update_option",
        lambda c: c.attributes.update_option(OBJECT, ATTRIBUTE, OPTION, title="x"),
        "/v2/objects/obj_1/attributes/att_1/options/opt_1",
    ),
    ("records.get", lambda c: c.records(OBJECT).get(RECORD), "/v2/objects/obj_1/records/rec_1"),
    ("records.delete", lambda c: c.records("people").delete(RECORD), "/v2/objects/people/records/rec_1"),
    (
        "records.attribute_values",
        lambda c: c.records("people").attribute_values(RECORD, ATTRIBUTE),
        "/v2/objects/people/records/rec_1/attributes/att_1/values",
    ),
    ("lists.get", lambda c: c.lists.get(LIST), "/v2/lists/lst_1"),
    ("entries.get", lambda c: c.entries(LIST).get(ENTRY), "/v2/lists/lst_1/entries/ent_1"),
    ("notes.get", lambda c: c.notes.get(NOTE), "/v2/notes/not_1"),
    ("tasks.delete", lambda c: c.tasks.delete(TASK), "/v2/tasks/tsk_1"),
    ("webhooks.get", lambda c: c.webhooks.get(WEBHOOK), "/v2/webhooks/wh_1"),
    ("webhooks.test", lambda c: c.webhooks.test(WEBHOOK), "/v2/webhooks/wh_1/test"),
    (
        "webhooks.deliveries",
        lambda c: c.webhooks.deliveries(WEBHOOK).to_list(),
        "/v2/webhooks/wh_1/deliveries",
    ),
    (
        "webhooks.rotate_secret",
        lambda c: c.webhooks.rotate_secret(WEBHOOK),
        "/v2/webhooks/wh_1/rotate-secret",
    ),
]


@pytest.mark.parametrize(("name", "call", "path"), CALLS, ids=[c[0] for c in CALLS])
def test_identifier_objects_go_into_the_path_as_their_id(
    make: Make, name: str, call: Callable[[overlay.Client], Any], path: str
) -> None:
    script = Script(not_found)
    with pytest.raises(overlay.NotFoundError):
        call(make(script))
    assert script.seen[0].url.path == path  # (a 404 may then list the objects, for a suggestion)


REFUSED: list[tuple[str, Callable[[overlay.Client], Any], str]] = [
    (
        "an int webhook id",
        lambda c: c.webhooks.test(42),
        "webhook_id takes the id as text or a WebhookIdentifier, got int",
    ),
    ("None", lambda c: c.webhooks.get(None), "webhook_id .* got NoneType"),
    ("a dict", lambda c: c.webhooks.delete({"webhook_id": "wh_1"}), "webhook_id .* got dict"),
    ("another identifier", lambda c: c.webhooks.rotate_secret(RECORD), "webhook_id .* got RecordIdentifier"),
    ("an empty id", lambda c: c.records("people").get(""), "record_id is empty"),
    ("a record identifier as a note", lambda c: c.notes.get(RECORD), "note_id .* got RecordIdentifier"),
    ("an int object", lambda c: c.records(7), "object .* ObjectIdentifier, got int"),
    (
        "a list identifier as an entry",
        lambda c: c.entries("pipeline").get(LIST),
        "entry_id .* got ListIdentifier",
    ),
    ("an int task", lambda c: c.tasks.update(3, content="x"), "task_id .* got int"),
    ("an option as attribute", lambda c: c.attributes.get("people", OPTION), "attribute .* got SelectOption"),
    ("a whole webhook", lambda c: c.webhooks.test(Hook()), r"got Hook \(pass its \.id\)"),
]


class Hook:
    """Something with an identifier, but not one itself."""

    id = WEBHOOK


@pytest.mark.parametrize(("case", "call", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_path_parameter_that_is_not_an_id_is_refused_by_name_before_a_request(
    make: Make, case: str, call: Callable[[overlay.Client], Any], message: str
) -> None:
    script = Script(not_found)
    with pytest.raises(overlay.InvalidArgumentError, match=message):
        call(make(script))
    assert script.seen == []


def test_the_async_client_takes_identifiers_and_refuses_the_rest() -> None:
    import asyncio

    script = Script(not_found)

    async def run() -> None:
        async with overlay.AsyncClient(
            api_key="k", base_url="http://api.test", transport=httpx.MockTransport(script)
        ) as crm:
            with pytest.raises(overlay.NotFoundError):
                await crm.webhooks.test(WEBHOOK)
            with pytest.raises(overlay.InvalidArgumentError, match="webhook_id"):
                await crm.webhooks.test(1.5)  # type: ignore[arg-type]

    asyncio.run(run())
    assert [r.url.path for r in script.seen] == ["/v2/webhooks/wh_1/test"]
