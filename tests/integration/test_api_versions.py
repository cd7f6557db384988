"""The same integrator code at every API version: the client migrates, the sandbox serves.

A client pinned to an older version speaks the latest types; its transport rewrites each
request for that version and brings each answer (pages, errors, batch results) up.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import httpx
import pytest
from crm_sandbox.server import LoopbackServer

import overlay
from overlay import migrations, webhooks

VERSIONS = migrations.VERSIONS.dates


def journey(crm: overlay.Client) -> dict[str, Any]:
    """Everything a typical integration does, reduced to what must not depend on the version."""
    company = crm.records("companies").create({"name": "Acme", "domains": ["acme.example"]})
    person = crm.records("people").upsert(
        {"email_addresses": ["ada@acme.example"], "name": "Ada Lovelace", "company": company.id},
        matching_attribute="email_addresses",
    )
    again = crm.records("people").upsert(
        {"email_addresses": ["ada@acme.example"], "job_title": "Analyst"},
        matching_attribute="email_addresses",
    )
    yen = {"currency": {"default_currency_code": "JPY"}}
    crm.attributes.create("deals", title="Budget", api_slug="budget", type="currency", config=yen)
    deal = crm.records("deals").create(
        {"name": "Big one", "value": {"amount_minor": 1250, "currency_code": "EUR"}, "budget": 1250}
    )
    repriced = crm.records("deals").update(deal.id, {"value": [{"amount_minor": 999}]})
    for i in range(5):
        crm.notes.create(parent_object="people", parent_record_id=person.id, title=f"Call {i}", content="...")
    notes = list(crm.notes.list(page_size=2))
    task = crm.tasks.create(content="Send the proposal", deadline_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    crm.tasks.update(task.id.task_id, is_completed=True)
    tasks = list(crm.tasks.list(page_size=1))
    with pytest.raises(overlay.NotFoundError) as missing:
        crm.records("people").get("00000000-0000-4000-8000-000000000000")
    batch = crm.bulk.create("companies", [{"name": "Fine"}, {"name": "Bad", "domains": "not a domain !!"}])
    hook = crm.webhooks.create(target_url="https://example.invalid/hook", subscriptions=["record.created"])
    return {
        "same person": again.id == person.id,
        "job title": again["job_title"],
        "company": person.first("company"),
        "money": [
            v.to_dict() for v in deal.values("value") + deal.values("budget") + repriced.values("value")
        ],
        "notes": sorted((n.title, n.parent.object_, n.parent.record_id == person.id) for n in notes),
        "tasks": [(t.content_plaintext, t.is_completed, t.deadline_at.isoformat()) for t in tasks],
        "missing": (missing.value.status, missing.value.code),
        "batch": (batch.succeeded, [(e.index, e.status, e.code) for e in batch.errors]),
        "hook": [str(s.event_type) for s in hook.subscriptions],
        "updated_at": person.updated_at is not None,
    }


def normalised(outcome: dict[str, Any]) -> dict[str, Any]:
    money = [(m["amount_minor"], m["currency_code"]) for m in outcome["money"]]
    return {**outcome, "company": bool(outcome["company"]), "money": money}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    out = {}
    for version in VERSIONS:
        with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect(api_version=version) as crm:
            out[version] = normalised(journey(crm))
    return out


@pytest.mark.parametrize("version", VERSIONS[:-1])
def test_the_same_code_gives_the_same_results_at_an_older_version(
    outcomes: dict[str, dict[str, Any]], version: str
) -> None:
    assert outcomes[version] == outcomes[VERSIONS[-1]]


def test_the_latest_outcome_is_what_the_code_asked_for(outcomes: dict[str, dict[str, Any]]) -> None:
    latest = outcomes[VERSIONS[-1]]
    assert latest["same person"] and latest["job title"] == "Analyst" and latest["company"]
    assert latest["money"] == [(1250, "EUR"), (1250, "JPY"), (999, "USD")]
    assert [n[0] for n in latest["notes"]] == [f"Call {i}" for i in range(5)]
    assert latest["tasks"] == [("Send the proposal", True, "2026-05-01T00:00:00+00:00")]
    assert latest["missing"] == (404, "not_found")
    assert latest["batch"][0] == 1 and latest["batch"][1][0][:2] == (1, 400)
    assert latest["hook"] == ["record.created"]


def test_the_wire_carries_each_versions_own_shapes() -> None:
    seen: list[httpx.Request] = []
    with (
        overlay.Sandbox(read_rate=None, write_rate=None) as sb,
        sb.connect(api_version="2025-01-01", on_request=[seen.append]) as crm,
    ):
        crm.records("people").upsert(
            {"email_addresses": ["x@y.example"]}, matching_attribute="email_addresses"
        )
        task = crm.tasks.create(content="Old style", deadline_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        assert task.deadline_at == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
        raw = httpx.get(
            f"{sb.url}/v2/tasks", headers={"Authorization": f"Bearer {sb.token}", "CRM-Version": "2025-01-01"}
        )
        assert raw.json()["data"][0]["due_date"] == "2026-05-01" and "offset" in raw.json()["pagination"]
        error = httpx.get(
            f"{sb.url}/v2/nowhere",
            headers={"Authorization": f"Bearer {sb.token}", "CRM-Version": "2025-01-01"},
        )
        assert error.json() == {"error": {"code": "not_found", "message": "No route '/v2/nowhere'."}}
        with pytest.raises(
            overlay.InvalidArgumentError, match="rotate_webhook_secret is not in API version 2025-01-01"
        ):
            crm.webhooks.rotate_secret("anything")
    assert all(r.headers["CRM-Version"] == "2025-01-01" for r in seen)


def test_amounts_go_in_the_old_unit_of_their_own_currency() -> None:
    """At 2025-01-01 amounts are in major units: 1250 yen stays 1250, 1250 cents is 12.5.
    The attributes' default currencies are looked up once, then kept."""
    wire: list[tuple[str, str, bytes]] = []

    class Spy(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            wire.append((request.method, request.url.path, request.read()))
            return super().handle_request(request)

    yen = {"currency": {"default_currency_code": "JPY"}}
    with (
        overlay.Sandbox(read_rate=None, write_rate=None) as sb,
        sb.connect(api_version="2025-01-01", transport=Spy()) as crm,
    ):
        crm.attributes.create("deals", title="Budget", api_slug="budget", type="currency", config=yen)
        first = crm.records("deals").create({"name": "A", "budget": 1250, "value": {"amount_minor": 1250}})
        crm.records("deals").create({"name": "B", "budget": [{"amount_minor": 7}], "value": 5})
    sent = [json.loads(body)["data"]["values"] for method, path, body in wire if path.endswith("/records")]
    assert sent == [
        {"name": "A", "budget": {"currency_value": 1250, "currency_code": "JPY"},
         "value": {"currency_value": 12.5, "currency_code": "USD"}},
        {"name": "B", "budget": [{"currency_value": 7, "currency_code": "JPY"}],
         "value": {"currency_value": 0.05, "currency_code": "USD"}},
    ]  # fmt: skip
    assert [path for method, path, _ in wire if method == "GET"] == ["/v2/objects/deals/attributes"]
    assert [(v.amount_minor, v.currency_code) for v in first.values("budget") + first.values("value")] == [
        (1250, "JPY"),
        (1250, "USD"),
    ]


class Inbox:
    """An ASGI receiver that keeps each delivery's body and headers; ``wait(n)`` blocks until
    ``n`` have arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Condition()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        with self.arrived:
            self.received.append((body, {k.decode(): v.decode() for k, v in scope["headers"]}))
            self.arrived.notify_all()

    def wait(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout=20), "no delivery"
            return list(self.received)


def test_a_test_delivery_says_so_and_a_family_subscription_gets_every_event_of_its_kind() -> None:
    inbox = Inbox()
    server = LoopbackServer(inbox, quiet=True).start()
    try:
        with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
            latest = crm.webhooks.create(target_url=f"{server.url}/latest", subscriptions=["record.*"])
            older = crm.webhooks.create(
                target_url=f"{server.url}/older", subscriptions=["task.created"], api_version="2025-08-01"
            )
            assert [str(s.event_type) for s in latest.subscriptions] == ["record.*"]
            crm.webhooks.test(latest.id.webhook_id)
            inbox.wait(1)
            crm.webhooks.test(older.id.webhook_id)
            inbox.wait(2)
            crm.records("companies").create({"name": "Acme"})
            received = inbox.wait(3)
    finally:
        server.stop()
    secrets = {"latest": latest.secret, "older": older.secret}
    by_version = {}
    for body, headers in received:
        delivery = webhooks.verify(body, headers, secrets=[secrets["latest"], secrets["older"]])
        by_version.setdefault(headers["crm-version"], []).append((json.loads(body)["events"][0], delivery))
    (test, test_delivery), (real, real_delivery) = by_version[migrations.LATEST]
    assert test["is_test"] is True and test["id"]["record_id"].startswith(migrations.TEST_ID_PREFIX)
    assert test_delivery.is_test and webhooks.is_test(test_delivery.events[0])
    assert real["event_type"] == "record.created" and real["is_test"] is False  # through record.*
    assert not real_delivery.is_test and not webhooks.is_test(real_delivery.events[0])
    [(old_test, old_delivery)] = by_version["2025-08-01"]
    assert "is_test" not in old_test  # the older version has no such field; its ids say it
    assert old_delivery.is_test and old_delivery.events[0].is_test is True


def test_an_older_version_refuses_a_family_and_reads_one_as_its_event_types() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        hook = crm.webhooks.create(target_url="https://example.invalid/hook", subscriptions=["note.*"])
        auth = {"Authorization": f"Bearer {sb.token}"}
        family = {
            "target_url": "https://example.invalid/x",
            "subscriptions": [{"event_type": "note.*", "filter": None}],
        }
        refused = httpx.post(
            f"{sb.url}/v2/webhooks", json={"data": family}, headers={**auth, "CRM-Version": "2026-04-01"}
        )
        assert refused.status_code == 400 and "note.*" in refused.json()["message"]
        old = httpx.get(
            f"{sb.url}/v2/webhooks/{hook.id.webhook_id}", headers={**auth, "CRM-Version": "2025-01-01"}
        )
        assert [s["event_type"] for s in old.json()["data"]["subscriptions"]] == [
            "note_created",
            "note_deleted",
        ]
        with sb.connect(api_version="2025-08-01") as pinned:  # the client spells the family out
            spelled = pinned.webhooks.create(target_url="https://example.invalid/y", subscriptions=["task.*"])
        assert [str(s.event_type) for s in spelled.subscriptions] == [
            "task.created",
            "task.updated",
            "task.deleted",
        ]


def test_the_delivery_log_of_an_older_webhook_reads_in_the_callers_version() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        hook = crm.webhooks.create(
            target_url="https://example.invalid/hook",
            subscriptions=["record.created"],
            api_version="2025-01-01",
        )
        queued = crm.webhooks.test(hook.id)
        # A slow machine may see the retry of the failed first attempt (0.5 s later) logged too.
        [logged] = [d for d in crm.webhooks.deliveries(hook.id) if d.attempt == 1]
    # The body went out as record_created; the log answers the caller at the latest version.
    assert [str(t) for t in queued.event_types] == ["record.created"]
    assert [str(t) for t in logged.event_types] == ["record.created"]
