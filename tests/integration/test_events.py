"""The change feed (GET /v2/events) against the sandbox over HTTP: order, snapshots,
tombstones, filters, long polling, retention, and webhook deliveries of the same events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from crm_sandbox.server import LoopbackServer

import overlay


@pytest.fixture
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(read_rate=None, write_rate=None, webhook_retry_delays=(0.05,)) as sb:
        yield sb


def test_each_write_is_one_event_in_commit_order_with_what_it_left(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    start = crm.events.head()
    people = crm.records("people")
    ada = people.create({"name": "Ada Lovelace", "email_addresses": ["ada@example.com"]})
    people.update(ada.id, {"job_title": "Analyst", "name": "Ada King"})
    people.delete(ada.id)

    batch = crm.events.read(cursor=start)
    created, updated, deleted = batch.events
    assert [e["event_type"] for e in batch.events] == ["record.created", "record.updated", "record.deleted"]
    assert [e["sequence"] for e in batch.events] == sorted(e["sequence"] for e in batch.events)
    assert len({e["event_id"] for e in batch.events}) == 3
    assert (
        created["object"] == "people"
        and created["record"]["values"]["email_addresses"][0]["email_address"] == "ada@example.com"
    )
    assert [c["api_slug"] for c in updated["changed_attributes"]] == ["job_title", "name"]
    assert updated["record"]["values"]["name"][0]["full_name"] == "Ada King", (
        "the snapshot is what the write left"
    )
    assert deleted["id"]["record_id"] == ada.id and "record" not in deleted, "a delete is a tombstone"
    assert not batch.has_more
    assert crm.events.read(cursor=batch.cursor).events == [], "the cursor is after the last event"


def test_a_cursor_pages_without_skipping_or_repeating(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    start = crm.events.head()
    crm.records("companies").batch(
        [{"operation": "create", "values": {"name": f"Co {i}"}} for i in range(25)]
    )
    seen, cursor = [], start
    while True:
        batch = crm.events.read(cursor=cursor, limit=7)
        seen += [e["sequence"] for e in batch.events]
        cursor = batch.cursor
        if not batch.has_more:
            break
    assert len(seen) == 25 and seen == sorted(set(seen))
    assert [e["sequence"] for e in crm.events.list(cursor=start, page_size=10)] == seen


def test_filters_by_type_family_and_object(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    start = crm.events.head()
    person = crm.records("people").create({"name": "Grace Hopper"})
    crm.records("companies").create({"name": "Acme"})
    crm.notes.create(parent_object="people", parent_record_id=person.id, title="Hi", content="x")
    kinds = lambda **f: [e["event_type"] for e in crm.events.list(cursor=start, **f)]  # noqa: E731
    assert kinds(types="record.*") == ["record.created", "record.created"]
    assert kinds(types=["note.created", "record.created"], object="companies") == ["record.created"]
    assert kinds(object="people") == ["record.created", "note.created"]
    with pytest.raises(overlay.BadRequestError, match=r"Did you mean 'record\.created'"):
        crm.events.read(types="record.create")


def test_schema_changes_are_events(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    start = crm.events.head()
    crm.attributes.create("companies", title="Tier", api_slug="tier", type="select")
    option = crm.attributes.create_option("companies", "tier", title="Gold")
    crm.attributes.update_option("companies", "tier", option.id.option_id, title="Platinum")
    events = crm.events.list(cursor=start).to_list()
    assert [e["event_type"] for e in events] == [
        "attribute.created",
        "select-option.created",
        "select-option.updated",
    ]
    assert events[0]["definition"]["api_slug"] == "tier" and events[0]["object"] == "companies"
    assert events[2]["definition"]["title"] == "Platinum" and events[2]["attribute"] == "tier"


def test_a_long_poll_returns_when_an_event_commits_and_empty_when_none_does(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    head = crm.events.head()
    writer = threading.Timer(0.3, lambda: crm.records("companies").create({"name": "Later"}))
    writer.start()
    started = time.monotonic()
    batch = crm.events.read(cursor=head, wait=10)
    assert [e["event_type"] for e in batch.events] == ["record.created"]
    assert time.monotonic() - started < 5, "woken by the commit, not by the timeout"
    started = time.monotonic()
    empty = crm.events.read(cursor=batch.cursor, wait=1)
    assert empty.events == [] and empty.cursor == batch.cursor and 0.9 < time.monotonic() - started < 5


def test_a_cursor_past_retention_or_from_another_workspace_is_410() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None, event_retention=0.5) as sb:
        crm = sb.client
        old = crm.events.head()
        crm.records("companies").create({"name": "Soon gone"})
        time.sleep(1.2)
        crm.records("companies").create({"name": "Sweeps the old one"})  # the feed drops what expired
        with pytest.raises(overlay.CursorExpiredError, match="older than"):
            crm.events.read(cursor=old)
        fresh = crm.events.list().to_list()
        assert [e["record"]["values"]["name"][0]["value"] for e in fresh] == ["Sweeps the old one"]
        with overlay.Sandbox() as other, pytest.raises(overlay.CursorExpiredError, match="another workspace"):
            other.client.events.read(cursor=crm.events.head())


def test_an_older_version_has_no_feed(sandbox: overlay.Sandbox) -> None:
    with (
        sandbox.connect(api_version="2026-04-01") as old,
        pytest.raises(overlay.CRMError, match="2026-12-01"),
    ):
        old.events.read()


class Capture:
    """An ASGI receiver that keeps each delivery's JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(json.loads(b"".join(chunks)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_webhooks_get_the_feed_events_and_older_versions_ids_per_attribute(sandbox: overlay.Sandbox) -> None:
    capture = Capture()
    server = LoopbackServer(capture, quiet=True).start()
    try:
        crm = sandbox.client
        crm.webhooks.create(target_url=f"{server.url}/new", subscriptions=["record.updated"])
        with sandbox.connect(api_version="2026-04-01") as old:
            old.webhooks.create(target_url=f"{server.url}/old", subscriptions=["record.updated"])
        person = crm.records("people").create({"name": "Edsger Dijkstra"})
        crm.records("people").update(person.id, {"job_title": "Professor", "description": "GOTO"})
        deadline = time.monotonic() + 10
        while len(capture.bodies) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.stop()
    feed = [e for e in crm.events.list() if e["event_type"] == "record.updated"]
    fat = [b["events"] for b in capture.bodies if len(b["events"][0]) > 6]
    thin = sorted((e["attribute_id"], sorted(e)) for b in capture.bodies for e in b["events"] if len(e) <= 6)
    assert fat == [feed], "a 2026-12-01 webhook gets the feed's event, snapshot included"
    changed = [c["attribute_id"] for c in feed[0]["changed_attributes"]]
    assert [t[0] for t in thin] == sorted(changed), "an older webhook gets one event per changed attribute"
    assert all(keys == ["actor", "attribute_id", "event_type", "id"] for _, keys in thin)
