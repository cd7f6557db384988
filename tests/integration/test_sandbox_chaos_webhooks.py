"""Chaos that reproduces from a seed, webhook deliveries that retry, and a database that persists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from crm_sandbox import Chaos

import overlay

from .conftest import Start, create, query


def statuses(api: httpx.Client, n: int) -> list[int | str]:
    out: list[int | str] = []
    for _ in range(n):
        try:
            out.append(api.get("/v2/self").status_code)
        except httpx.TransportError:
            out.append("dropped")
    return out


def test_chaos_is_reproducible_from_its_seed(start_sandbox: Start) -> None:
    chaos = Chaos(error_rate=0.2, rate_limit_rate=0.1, drop_rate=0.1, seed=42)
    first = statuses(start_sandbox(chaos=chaos)[1], 60)
    second = statuses(start_sandbox(chaos=chaos)[1], 60)
    assert first == second
    assert {200, 429, "dropped"} <= set(first) and ({500, 503} & set(first))
    other = statuses(
        start_sandbox(chaos=Chaos(error_rate=0.2, rate_limit_rate=0.1, drop_rate=0.1, seed=7))[1], 60
    )
    assert other != first


def test_commit_then_drop_loses_the_reply_but_keeps_the_write(start_sandbox: Start, tmp_path: Path) -> None:
    db = str(tmp_path / "crm.db")
    server, api = start_sandbox(chaos=Chaos(commit_drop_rate=1.0), db=db)
    with pytest.raises(httpx.TransportError):
        api.post("/v2/objects/people/records", json={"data": {"values": {"name": "Lost Reply"}}})
    server.stop()
    _, calm = start_sandbox(db=db)
    assert len(query(calm, "people", {"filter": {"name": "Lost Reply"}})) == 1


class Receiver:
    """A webhook endpoint on loopback that fails the first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.arrived:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    failing = len(receiver.requests) <= receiver.failures
                    receiver.arrived.notify_all()
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        with self.arrived:
            arrived = self.arrived.wait_for(lambda: len(self.requests) >= n, timeout)
        assert arrived, f"only {len(self.requests)} of {n} deliveries arrived"


def settled_log(api: httpx.Client, webhook_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The webhook's deliveries log once no attempt is pending (each attempt is logged after
    its answer arrives, so the receiver can see a request before the log shows its outcome)."""
    deadline = time.monotonic() + timeout
    while True:
        log: list[dict[str, Any]] = api.get(f"/v2/webhooks/{webhook_id}/deliveries").json()["data"]
        if all(d["status"] != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, f"deliveries still pending: {log}"
        time.sleep(0.02)


def test_webhooks_are_signed_retried_and_logged(start_sandbox: Start) -> None:
    receiver = Receiver(failures=2)
    _, api = start_sandbox(webhook_retry_delays=(0.05, 0.05, 0.05))
    hook = api.post(
        "/v2/webhooks",
        json={
            "data": {
                "target_url": receiver.url,
                "subscriptions": [{"event_type": "record.created", "filter": None}],
            }
        },
    ).json()["data"]
    record = create(api, "people", {"name": "Webhook Person"})
    receiver.wait_for(3)
    deliveries = settled_log(api, hook["id"]["webhook_id"])
    receiver.server.shutdown()

    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1, "retries keep the message id"
    headers, body = receiver.requests[-1]
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    event = json.loads(body)["events"][0]
    assert event["event_type"] == "record.created" and event["id"] == record["id"]

    attempts = sorted((d["attempt"], d["status"], d["response_status_code"]) for d in deliveries)
    assert attempts == [(1, "failed", 500), (2, "failed", 500), (3, "succeeded", 204)]
    assert "secret" not in api.get(f"/v2/webhooks/{hook['id']['webhook_id']}").json()["data"]


def test_subscription_filters_narrow_deliveries(start_sandbox: Start) -> None:
    receiver = Receiver(failures=0)
    _, api = start_sandbox(seed_data=True)
    companies = api.get("/v2/objects/companies").json()["data"]["id"]["object_id"]
    subscription = {"event_type": "record.created", "filter": {"object_id": companies}}
    hook = api.post(
        "/v2/webhooks", json={"data": {"target_url": receiver.url, "subscriptions": [subscription]}}
    ).json()["data"]
    create(api, "people", {"name": "Not Delivered"})
    create(api, "companies", {"name": "Delivered Ltd"})
    # A write queues its deliveries in its own transaction: once both creates have answered,
    # the log holds every message there will be, and once it settles each has been sent.
    log = settled_log(api, hook["id"]["webhook_id"])
    receiver.server.shutdown()
    assert [(d["attempt"], d["status"]) for d in log] == [(1, "succeeded")]
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0][1])["events"][0]["id"]["object_id"] == companies


def test_deleting_a_record_announces_its_entries_with_their_list(start_sandbox: Start) -> None:
    receiver = Receiver(failures=0)
    _, api = start_sandbox()
    subscription = {"event_type": "list-entry.deleted", "filter": None}
    api.post("/v2/webhooks", json={"data": {"target_url": receiver.url, "subscriptions": [subscription]}})
    listed = api.post(
        "/v2/lists", json={"data": {"name": "Pipeline", "api_slug": "pipeline", "parent_objects": ["people"]}}
    ).json()["data"]
    record_id = create(api, "people", {"name": "Listed Person"})["id"]["record_id"]
    entry = api.post(
        "/v2/lists/pipeline/entries",
        json={"data": {"parent_object": "people", "parent_record_id": record_id}},
    ).json()["data"]
    api.delete(f"/v2/objects/people/records/{record_id}")
    receiver.wait_for(1)
    receiver.server.shutdown()
    event = json.loads(receiver.requests[0][1])["events"][0]
    assert event["id"]["list_id"] == listed["id"]["list_id"]
    assert event["id"]["entry_id"] == entry["id"]["entry_id"]
    assert event["parent_record_id"] == record_id


def test_the_database_file_survives_a_restart(start_sandbox: Start, tmp_path: Path) -> None:
    db = str(tmp_path / "crm.db")
    server, api = start_sandbox(db=db)
    create(api, "people", {"name": "Persistent Person"})
    server.stop()
    _, again = start_sandbox(db=db)
    assert len(query(again, "people", {"filter": {"name": "Persistent Person"}})) == 1
    assert len(again.get("/v2/objects").json()["data"]) == 3, "standard objects are seeded once"


def test_overlay_sandbox_starts_and_stops() -> None:
    with overlay.Sandbox(seed_data=True) as sb:
        response = httpx.get(f"{sb.url}/v2/self", headers={"Authorization": f"Bearer {sb.token}"})
        assert response.status_code == 200
        assert "running at http://127.0.0.1:" in repr(sb)
    with pytest.raises(overlay.SandboxError, match="not running"):
        _ = sb.url
    with pytest.raises(overlay.SandboxError, match=r"Unknown sandbox setting 'speed'\. Settings: db, port, "):
        overlay.Sandbox(speed="fast").start()
    with pytest.raises(
        overlay.SandboxError, match=r"Unknown sandbox setting 'seed'; did you mean 'seed_data'\?"
    ):
        overlay.Sandbox(seed=True).start()
    with pytest.raises(overlay.SandboxError, match=r"cannot open its database '/nonexistent/crm\.db'"):
        overlay.Sandbox(db="/nonexistent/crm.db").start()
    for port in (99999, -1, "80"):
        with pytest.raises(overlay.SandboxError, match=r"port is 0 \(any free port\) to 65535"):
            overlay.Sandbox(port=port).start()  # type: ignore[arg-type]
    for settings, problem in (
        ({"read_rate": float("nan")}, "read_rate is requests per second above 0"),
        ({"write_rate": -1}, "write_rate is requests per second above 0"),
        ({"tokens": []}, "tokens is a non-empty list of token strings, got none"),
        ({"tokens": "sk_SECRETzz"}, "tokens is a non-empty list of token strings, got str"),
        ({"header_timeout": "x"}, "header_timeout is seconds above 0"),
        ({"api_version": "2024-01-01"}, "api_version is one of 2025-01-01"),
    ):
        with pytest.raises(overlay.SandboxError, match=re.escape(problem)) as refused:
            overlay.Sandbox(**settings).start()
        assert "SECRETzz" not in str(refused.value)


def test_overlay_sandbox_takes_chaos_as_the_cli_writes_it() -> None:
    with (
        overlay.Sandbox(chaos="error=1,seed=7") as sb,
        sb.connect(max_retries=0) as crm,
        pytest.raises(overlay.InternalServerError),
    ):
        crm.objects.list()
    with pytest.raises(overlay.SandboxError, match=r"chaos='error=2': chaos setting 'error' is a"):
        overlay.Sandbox(chaos="error=2").start()
    for text, problem in (
        ("error=abc", "'error' is a probability from 0 to 1, got 'abc'"),
        ("latency=20-0", "'latency' is milliseconds, LOW-HIGH with 0 <= LOW <= HIGH, got '20-0'"),
        ("seed=1.5", "'seed' is a whole number, got '1.5'"),
    ):
        with pytest.raises(overlay.SandboxError, match=re.escape(problem)):
            overlay.Sandbox(chaos=text).start()
    with pytest.raises(overlay.SandboxError, match="chaos is a Chaos or its text"):
        overlay.Sandbox(chaos=0.5).start()


def test_crm_sandbox_prints_its_url_and_token() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "overlay.cli", "sandbox", "--token", "sk_cli", "--seed-data"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        token_line = proc.stdout.readline()
        url = first.rsplit(" ", 1)[1].strip()
        assert first.startswith("CRM sandbox listening on http://127.0.0.1:")
        assert "sk_cli" in token_line
        response = httpx.get(f"{url}/v2/objects/people", headers={"Authorization": "Bearer sk_cli"})
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
