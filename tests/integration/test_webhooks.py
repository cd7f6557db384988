"""End to end: the sandbox delivers to a Router on loopback, which verifies and dispatches."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from crm_client.models import NoteCreatedEvent, RecordCreatedEvent, TaskCreatedEvent
from crm_sandbox.server import LoopbackServer

import overlay
from overlay import webhooks

FAST_RETRIES = (0.05, 0.05, 0.05)


class Tap:
    """ASGI middleware in front of the router: records each request's headers and, for the
    first ``lose`` requests, answers 500 after the router handled them (a lost acknowledgement)."""

    def __init__(self, app: Any, lose: int = 0) -> None:
        self.app, self.lose = app, lose
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        lost = len(self.headers) <= self.lose

        async def reply(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
                if lost:
                    message = {**message, "status": 500}
            await send(message)

        await self.app(scope, receive, reply)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for deliveries"
        time.sleep(0.02)


def settled_log(crm: overlay.Client, webhook_id: str, timeout: float = 10.0) -> list[Any]:
    """The webhook's deliveries once none is pending: an attempt is logged after its answer
    arrives, so a handler can have run before the log shows how its delivery ended."""
    deadline = time.monotonic() + timeout
    while True:
        log = crm.webhooks.deliveries(webhook_id).to_list()
        if log and all(d.status.value != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, "deliveries still pending"
        time.sleep(0.02)


@pytest.fixture
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(read_rate=None, write_rate=None, webhook_retry_delays=FAST_RETRIES) as sb:
        yield sb


def receiver(app: Any) -> LoopbackServer:
    return LoopbackServer(app, quiet=True).start()


def test_deliveries_are_verified_typed_and_dispatched(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    router = webhooks.Router()
    seen: list[Any] = []
    router.on("record.created", "note.*", "task.created")(seen.append)
    server = receiver(router)
    try:
        hook = crm.webhooks.create(
            target_url=f"{server.url}/hooks", subscriptions=["record.created", "note.created", "task.created"]
        )
        router.set_secrets([hook.secret])
        person = crm.records("people").create({"name": "Grace Hopper"})
        note = crm.notes.create(
            parent_object="people", parent_record_id=person.id, title="Met", content="COBOL"
        )
        task = crm.tasks.create(
            content="Call Grace", linked_records=[{"object": "people", "record_id": person.id}]
        )
        wait_until(lambda: len(seen) == 3)
    finally:
        server.stop()
    by_type = {webhooks.event_type(e): e for e in seen}
    assert isinstance(by_type["record.created"], RecordCreatedEvent)
    assert by_type["record.created"].id.record_id == person.id
    assert isinstance(by_type["note.created"], NoteCreatedEvent)
    assert by_type["note.created"].id.note_id == note.id.note_id
    assert isinstance(by_type["task.created"], TaskCreatedEvent)
    assert by_type["task.created"].id.task_id == task.id.task_id


def docs_block(containing: str) -> str:
    """The python code block of docs/webhooks.md that contains ``containing``, as written."""
    page = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    blocks: list[str] = re.findall(r"```python\n(.*?)```", page, re.S)
    return next(b for b in blocks if containing in b)


def test_the_documented_starlette_app_receives_deliveries_with_and_without_the_slash(
    sandbox: overlay.Sandbox,
) -> None:
    crm = sandbox.client
    seen: list[Any] = []
    namespace: dict[str, Any] = {}
    exec(docs_block("Starlette(routes=router.routes("), namespace)  # the documented example, as written
    router = namespace["router"]
    router.on("record.created")(seen.append)
    server = receiver(namespace["app"])
    try:
        bare = crm.webhooks.create(target_url=f"{server.url}/crm-hooks", subscriptions=["record.created"])
        slash = crm.webhooks.create(target_url=f"{server.url}/crm-hooks/", subscriptions=["record.created"])
        router.set_secrets([bare.secret, slash.secret])
        crm.records("people").create({"name": "Mounted"})
        wait_until(lambda: len(seen) == 2)
        logs = {
            hook.target_url: [(d.attempt, d.response_status_code) for d in settled_log(crm, webhook_id)]
            for hook, webhook_id in ((bare, bare.id.webhook_id), (slash, slash.id.webhook_id))
        }
    finally:
        server.stop()
    assert logs == {f"{server.url}/crm-hooks": [(1, 200)], f"{server.url}/crm-hooks/": [(1, 200)]}


def test_a_2025_01_01_webhook_gets_its_own_event_names_and_crm_signature(sandbox: overlay.Sandbox) -> None:
    router = webhooks.Router(legacy=True)
    seen: list[Any] = []
    router.on("record.created", "list-entry.*")(seen.append)
    tap = Tap(router)
    server = receiver(tap)
    try:
        with sandbox.connect(api_version="2025-01-01") as old:
            hook = old.webhooks.create(target_url=f"{server.url}/hooks", subscriptions=["record.created"])
            assert [str(s.event_type) for s in hook.subscriptions] == ["record.created"], (
                "latest names in code"
            )
            router.set_secrets([hook.secret])
            raw = httpx.get(
                f"{sandbox.url}/v2/webhooks/{hook.id.webhook_id}",
                headers={"Authorization": f"Bearer {sandbox.token}", "CRM-Version": "2025-01-01"},
            ).json()
            assert raw["data"]["subscriptions"][0]["event_type"] == "record_created", "old names on the wire"
        person = sandbox.client.records("people").create({"name": "Grace Hopper"})
        wait_until(lambda: len(seen) == 1)
    finally:
        server.stop()
    assert isinstance(seen[0], RecordCreatedEvent) and seen[0].id.record_id == person.id
    headers = tap.headers[0]
    assert headers["crm-version"] == "2025-01-01" and len(headers["crm-signature"]) == 64
    assert "webhook-signature" not in headers


def test_a_retried_delivery_is_deduped(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    router = webhooks.Router()
    seen: list[Any] = []
    router.on("record.created")(seen.append)
    tap = Tap(router, lose=1)
    server = receiver(tap)
    try:
        hook = crm.webhooks.create(target_url=server.url, subscriptions=["record.created"])
        router.set_secrets(hook.secret)
        crm.records("people").create({"name": "Lost Ack"})
        wait_until(lambda: len(tap.statuses) == 2)
        deliveries = settled_log(crm, hook.id.webhook_id)
    finally:
        server.stop()
    assert len(seen) == 1, "the retry was acknowledged without dispatching again"
    assert tap.statuses == [200, 200]  # the router's answers; the first was lost on the way back
    assert len({h["webhook-id"] for h in tap.headers}) == 1
    attempts = sorted((d.attempt, d.status.value, d.response_status_code) for d in deliveries)
    assert attempts == [(1, "failed", 500), (2, "succeeded", 200)]


def test_a_rotation_signs_with_both_secrets_until_the_overlap_ends(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    router = webhooks.Router()
    tap = Tap(router)
    server = receiver(tap)
    try:
        hook = crm.webhooks.create(target_url=server.url, subscriptions=["record.created"])
        webhook_id = hook.id.webhook_id
        router.set_secrets([hook.secret])
        rotation = crm.webhooks.rotate_secret(webhook_id, overlap_seconds=600)
        assert rotation.previous_secret_expires_at is not None
        assert rotation.secret not in repr(rotation)

        crm.webhooks.test(webhook_id)  # still on the old secret: accepted
        wait_until(lambda: len(tap.statuses) == 1)
        assert len(tap.headers[0]["webhook-signature"].split(" ")) == 2
        router.set_secrets([rotation.secret])  # switched over: accepted too
        crm.webhooks.test(webhook_id)
        wait_until(lambda: len(tap.statuses) == 2)

        final = crm.webhooks.rotate_secret(webhook_id, overlap_seconds=0)
        assert final.previous_secret_expires_at is None
        crm.webhooks.test(webhook_id)  # only the newest secret signs now: refused, then retried
        wait_until(lambda: len(tap.statuses) == 3)
        router.set_secrets([final.secret, rotation.secret])
        wait_until(lambda: len(tap.statuses) == 4)
    finally:
        server.stop()
    assert tap.statuses == [200, 200, 400, 200]
    assert len(tap.headers[2]["webhook-signature"].split(" ")) == 1
    assert tap.headers[3]["crm-version"] == "2026-12-01"


def test_crm_webhooks_listen_prints_verified_events_and_refusals() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    env = {**os.environ, "CRM_WEBHOOK_SECRET": secret}
    proc = subprocess.Popen(
        [sys.executable, "-m", "overlay.cli", "webhooks", "listen", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Listening for webhook deliveries on http://127.0.0.1:")
        url = first.split(" on ")[1].split(" ")[0]
        event = {
            "event_type": "task.deleted",
            "id": {"workspace_id": "w", "task_id": "t1"},
            "actor": {"type": "system", "id": None},
        }
        body = json.dumps({"webhook_id": "wh", "events": [event]}).encode()
        headers = webhooks.sign(body, secret, message_id="msg_cli")
        assert httpx.post(url, content=body, headers=headers).json() == {"status": "ok", "handled": 1}
        assert httpx.post(url, content=body + b" ", headers=headers).status_code == 400
        line = proc.stdout.readline()
        assert line.split() == ["msg_cli", "task.deleted", "task_id=t1"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "refused: no signature in webhook-signature matches" in err
    assert secret not in err


def test_a_database_file_from_before_rotation_gains_its_columns(tmp_path: Any) -> None:
    import sqlite3

    path = str(tmp_path / "old.db")
    with sqlite3.connect(path) as db:  # the webhooks table as sandboxes wrote it before rotation
        db.execute(
            "CREATE TABLE webhooks (id TEXT PRIMARY KEY, target_url TEXT NOT NULL, subscriptions TEXT "
            "NOT NULL, api_version TEXT NOT NULL, status TEXT NOT NULL, secret TEXT NOT NULL, "
            "created_at TEXT NOT NULL, seq INTEGER NOT NULL)"
        )
    with overlay.Sandbox(db=path) as sb:
        hook = sb.client.webhooks.create(target_url="http://127.0.0.1:9/", subscriptions=["task.created"])
        rotation = sb.client.webhooks.rotate_secret(hook.id.webhook_id)
    assert rotation.secret != hook.secret


def test_every_webhook_method_takes_the_identifier_the_sdk_returned(sandbox: overlay.Sandbox) -> None:
    """``hook.id`` is a WebhookIdentifier: each method puts its webhook_id in the path."""
    crm = sandbox.client
    hook = crm.webhooks.create(target_url="http://127.0.0.1:9/hooks", subscriptions=["record.created"])
    assert crm.webhooks.get(hook.id).id == hook.id
    assert crm.webhooks.update(hook.id, target_url="http://127.0.0.1:9/moved").target_url.endswith("/moved")
    moved = crm.webhooks.update(hook.id, subscriptions=["record.*"])  # as create takes them
    assert [s.event_type for s in moved.subscriptions] == ["record.*"] and moved.target_url.endswith("/moved")
    with pytest.raises(TypeError, match="target_ur"):
        crm.webhooks.update(hook.id, target_ur="http://127.0.0.1:9/x")  # type: ignore[call-arg]
    delivery = crm.webhooks.test(hook.id)
    assert delivery.webhook_id == hook.id.webhook_id
    assert delivery.id in [d.id for d in crm.webhooks.deliveries(hook.id)]
    assert crm.webhooks.rotate_secret(hook.id, overlap_seconds=1).secret.startswith("whsec_")
    crm.webhooks.delete(hook.id)
    with pytest.raises(overlay.NotFoundError):
        crm.webhooks.get(hook.id.webhook_id)
    with pytest.raises(overlay.InvalidArgumentError, match="webhook_id"):
        crm.webhooks.test(hook)  # type: ignore[arg-type]
