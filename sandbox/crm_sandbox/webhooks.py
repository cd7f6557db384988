"""Webhook delivery: an outbox of attempts, signed with Standard Webhooks, retried with backoff.

Every attempt is a row in ``deliveries`` (the deliveries log). A message keeps its
``message_id`` (the ``webhook-id`` header) across retries.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from typing import Any

import httpx

from .feed import RECORD_EVENTS as DELIVERED
from .store import Store, dumps, new_id, now, random_bytes
from .versions import answer_down, signing_scheme

log = logging.getLogger("crm_sandbox.webhooks")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(random_bytes(24)).decode()


def utc_after(seconds: float) -> str:
    """The wall-clock time ``seconds`` from now, as the API writes timestamps."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def sign(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one ``v1,`` entry per secret."""
    content = f"{message_id}.{timestamp}.".encode() + body
    entries = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        entries.append("v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode())
    return " ".join(entries)


def signing_secrets(row: Any) -> list[str]:
    """The webhook's secret, and its previous one while a rotation's overlap lasts."""
    expires = row["previous_secret_expires_at"]
    if row["previous_secret"] and expires and expires > utc_after(0):
        return [row["previous_secret"], row["secret"]]
    return [row["secret"]]


def matches(subscription: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether ``event`` is one ``subscription`` receives: its type, or a type of its family
    (``record.*``), and every field its filter names."""
    wanted, kind = subscription["event_type"], event["event_type"]
    if wanted != kind and not (wanted.endswith(".*") and kind.startswith(wanted[:-1])):
        return False
    fields = {**event.get("id", {}), **{k: v for k, v in event.items() if isinstance(v, str)}}
    return all(fields.get(k) == v for k, v in (subscription.get("filter") or {}).items())


class Deliveries:
    def __init__(self, store: Store, retry_delays: tuple[float, ...]) -> None:
        self.store = store
        self.retry_delays = retry_delays
        self.client: httpx.AsyncClient | None = None

    def render(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "webhook_id": row["webhook_id"],
            "message_id": row["message_id"],
            "attempt": row["attempt"],
            "status": row["status"],
            "event_types": json.loads(row["event_types"]),
            "response_status_code": row["response_status_code"],
            "created_at": row["created_at"],
            "next_attempt_at": row["next_attempt_at"],
        }

    def enqueue(self, events: list[dict[str, Any]]) -> None:
        """Queue one message per (webhook, event) that matches; call inside the request's transaction."""
        if not events:
            return
        hooks = self.store.all("SELECT * FROM webhooks WHERE status != 'inactive'")
        for hook in hooks:
            subscriptions = json.loads(hook["subscriptions"])
            for event in events:
                if event["event_type"] not in DELIVERED:  # schema events are the feed's alone
                    continue
                if any(matches(s, event) for s in subscriptions):
                    self.queue_message(hook, [event])

    def queue_message(self, hook: sqlite3.Row, events: list[dict[str, Any]]) -> sqlite3.Row:
        """Queue one delivery of ``events`` to ``hook``, shaped for the webhook's API version."""
        webhook_id = hook["id"]
        # The events are shared by every webhook: each body gets its own copies.
        events = [{**event, "is_test": bool(event.get("is_test", False))} for event in events]
        # The delivery log keeps the latest names (answers are taken down per request); the
        # body is taken down, in place, to the webhook's version.
        event_types = [e["event_type"] for e in events]
        body = {"webhook_id": webhook_id, "events": events}
        # A copy: the events' snapshots are shared with the feed and the request's answer.
        body = answer_down(body, "WebhookDeliveryBody", hook["api_version"], copy_payload=True)
        payload = dumps(body)
        delivery_id = new_id()
        self.store.db.execute(
            "INSERT INTO deliveries VALUES (?, ?, ?, 1, 'pending', ?, ?, NULL, ?, ?, ?)",
            (
                delivery_id,
                webhook_id,
                f"msg_{new_id().replace('-', '')}",
                dumps(event_types),
                payload,
                now(),
                now(),
                self.store.next_seq("deliveries"),
            ),
        )
        delivery = self.store.one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        assert delivery is not None
        return delivery

    async def run(self) -> None:
        """Deliver due attempts until cancelled."""
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        while True:
            with self.store.lock:
                due = self.store.all(
                    "SELECT d.*, w.target_url, w.secret, w.previous_secret, w.previous_secret_expires_at, "
                    "w.api_version FROM deliveries d JOIN webhooks w ON "
                    "w.id = d.webhook_id WHERE d.status = 'pending' AND d.next_attempt_at <= ? "
                    "ORDER BY d.seq LIMIT 20",
                    (now(),),
                )
            if due:
                await asyncio.gather(*(self.attempt(row) for row in due))
            else:
                await asyncio.sleep(0.05)

    async def attempt(self, row: Any) -> None:
        body = row["payload"].encode()
        timestamp = int(time.time())
        headers = {"content-type": "application/json", "crm-version": row["api_version"]}
        if signing_scheme(row["api_version"]) == "crm-signature":
            key = base64.b64decode(row["secret"].removeprefix("whsec_"))
            headers["crm-signature"] = hmac.new(key, body, hashlib.sha256).hexdigest()
        else:
            headers["webhook-id"] = row["message_id"]
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(signing_secrets(row), row["message_id"], timestamp, body)
        status: int | None = None
        assert self.client is not None
        try:
            response = await self.client.post(row["target_url"], content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            log.info("delivery %s to %s failed: %s", row["id"], row["target_url"], exc)
        ok = status is not None and 200 <= status < 300
        with self.store.transaction():
            self.store.db.execute(
                "UPDATE deliveries SET status = ?, response_status_code = ?, next_attempt_at = "
                "NULL WHERE id = ?",
                ("succeeded" if ok else "failed", status, row["id"]),
            )
            if ok:
                return
            if row["attempt"] <= len(self.retry_delays):
                delay = self.retry_delays[row["attempt"] - 1]
                due = utc_after(delay)
                self.store.db.execute(
                    "INSERT INTO deliveries VALUES (?, ?, ?, ?, 'pending', ?, ?, NULL, ?, ?, ?)",
                    (
                        new_id(),
                        row["webhook_id"],
                        row["message_id"],
                        row["attempt"] + 1,
                        row["event_types"],
                        row["payload"],
                        now(),
                        due,
                        self.store.next_seq("deliveries"),
                    ),
                )
            else:
                self.store.db.execute(
                    "UPDATE webhooks SET status = 'degraded' WHERE id = ?", (row["webhook_id"],)
                )

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
