"""The webhook Router: dispatch, dedupe, failures and retries, the ASGI app."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest
from crm_client.models import NoteCreatedEvent, RecordCreatedEvent

import overlay
from overlay import webhooks

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ACTOR = {"type": "api-token", "id": "tok"}
RECORD = {
    "event_type": "record.created",
    "id": {"workspace_id": "w", "object_id": "o", "record_id": "r"},
    "actor": ACTOR,
}
NOTE = {
    "event_type": "note.created",
    "id": {"workspace_id": "w", "note_id": "n"},
    "parent_object_id": "o",
    "parent_record_id": "r",
    "actor": ACTOR,
}
FUTURE = {"event_type": "deal.won", "id": {"deal_id": "d"}}


def delivery(*events: dict[str, Any], message_id: str = "msg_1") -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"webhook_id": "wh", "events": list(events)}).encode()
    return body, webhooks.sign(body, SECRET, message_id=message_id)


def resigned(body: bytes, message_id: str) -> dict[str, str]:
    """A sender's retry: the same message id, signed again a few seconds later."""
    return webhooks.sign(body, SECRET, message_id=message_id, timestamp=int(time.time()) + 5)


def test_events_go_to_the_handlers_of_their_type_family_and_star() -> None:
    router = webhooks.Router([SECRET])
    calls: list[tuple[str, str]] = []
    router.on("record.created")(lambda e: calls.append(("exact", webhooks.event_type(e))))
    router.on("note.*")(lambda e: calls.append(("family", webhooks.event_type(e))))
    router.on("*")(lambda e: calls.append(("star", webhooks.event_type(e))))

    reply = router.handle(*delivery(RECORD, NOTE, FUTURE))

    assert (reply.status, json.loads(reply.body)) == (200, {"status": "ok", "handled": 5})
    assert calls == [
        ("exact", "record.created"),
        ("star", "record.created"),
        ("family", "note.created"),
        ("star", "note.created"),
        ("star", "deal.won"),
    ]


def test_handlers_get_typed_events_and_the_delivery_when_they_ask() -> None:
    router = webhooks.Router([SECRET])
    got: dict[str, Any] = {}

    @router.on("record.created", "note.created")
    def both(event: Any, delivery: webhooks.Delivery) -> None:
        got[webhooks.event_type(event)] = (type(event), delivery.message_id)

    router.handle(*delivery(RECORD, NOTE, message_id="msg_typed"))
    assert got == {
        "record.created": (RecordCreatedEvent, "msg_typed"),
        "note.created": (NoteCreatedEvent, "msg_typed"),
    }


def test_a_misspelt_event_type_is_refused_with_a_suggestion() -> None:
    router = webhooks.Router([SECRET])
    with pytest.raises(overlay.ConfigurationError, match=r"Did you mean 'record\.created'"):
        router.on("record.create")(print)
    router.on("deal.won", strict=False)(print)  # a type newer than this SDK, on purpose


def test_a_handler_that_cannot_take_the_event_is_refused_when_it_is_registered() -> None:
    router = webhooks.Router([SECRET])

    def needs_more(event: Any, foo: Any) -> None: ...

    def takes_nothing() -> None: ...

    with pytest.raises(
        overlay.ConfigurationError,
        match=r"needs_more\(event: .Any., foo: .Any.\) cannot be called with the event: missing .* .foo.",
    ):
        router.on("*")(needs_more)
    with pytest.raises(
        overlay.ConfigurationError, match=r"takes_nothing\(\) cannot be called with the event"
    ):
        router.on("*")(takes_nothing)
    with pytest.raises(overlay.ConfigurationError, match="a function, got str"):
        router.add("*", "handler")  # type: ignore[arg-type]
    router.on("*")(lambda event, delivery=None, *rest: None)  # the shapes it can call are kept


def test_headers_given_as_name_value_pairs_verify_and_anything_else_is_named() -> None:
    router = webhooks.Router([SECRET])
    calls: list[Any] = []
    router.on("*")(calls.append)
    body, headers = delivery(RECORD, message_id="msg_pairs")
    pairs = [(name.title().encode(), value.encode()) for name, value in headers.items()]
    assert router.handle(body, pairs).status == 200 and len(calls) == 1  # type: ignore[arg-type]
    wrong_headers = [
        (None, r"got NoneType\."),
        ("webhook-id: x", r"got str\."),
        (5, r"got int\."),
        ([("only-a-name",)], r"; item 0 is a tuple of 1\."),
        ([*pairs, {}], rf"; item {len(pairs)} is a dict\."),
        ([(5, "x")], r"; item 0 is named by int\."),
    ]
    for wrong, problem in wrong_headers:
        with pytest.raises(
            overlay.InvalidArgumentError, match=rf"^headers is a mapping or a list of .*{problem}$"
        ):
            router.handle(body, wrong)  # type: ignore[arg-type]


def test_a_retried_delivery_is_acknowledged_without_calling_handlers_again() -> None:
    router = webhooks.Router([SECRET])
    calls: list[Any] = []
    router.on("*")(calls.append)
    body, headers = delivery(RECORD, message_id="msg_dup")
    assert router.handle(body, headers).status == 200
    reply = router.handle(body, resigned(body, "msg_dup"))
    assert (reply.status, json.loads(reply.body)) == (200, {"status": "duplicate"})
    assert len(calls) == 1


def test_a_failing_handler_gets_a_500_and_the_retry_is_dispatched() -> None:
    router = webhooks.Router([SECRET])
    attempts: list[str] = []

    @router.on("record.created")
    def flaky(event: Any) -> None:
        attempts.append("called")
        if len(attempts) == 1:
            raise RuntimeError("database down")

    body, headers = delivery(RECORD, message_id="msg_flaky")
    reply = router.handle(body, headers)
    assert (reply.status, json.loads(reply.body)) == (500, {"error": "handler_failed"})
    assert router.handle(body, resigned(body, "msg_flaky")).status == 200
    assert attempts == ["called", "called"]


def test_refusals_answer_400_with_the_reason_code() -> None:
    router = webhooks.Router([SECRET])
    body, headers = delivery(RECORD)
    reply = router.handle(body + b" ", headers)
    assert (reply.status, json.loads(reply.body)) == (400, {"error": "signature_mismatch"})
    reply = router.handle(b"not json", webhooks.sign(b"not json", SECRET))
    assert (reply.status, json.loads(reply.body)) == (400, {"error": "malformed_body"})


def test_a_router_without_secrets_answers_503_until_given_them() -> None:
    router = webhooks.Router()
    body, headers = delivery(RECORD)
    assert router.handle(body, headers).status == 503
    router.set_secrets([SECRET])
    assert router.handle(body, headers).status == 200


def test_async_handlers_need_the_async_path() -> None:
    router = webhooks.Router([SECRET])
    seen: list[str] = []

    @router.on("record.created")
    async def handler(event: Any) -> None:
        seen.append("async")

    router.on("record.created")(lambda e: seen.append("sync"))
    with pytest.raises(overlay.ConfigurationError, match="handle_async"):
        router.handle(*delivery(RECORD))
    reply = asyncio.run(router.handle_async(*delivery(RECORD, message_id="msg_async")))
    assert reply.status == 200 and seen == ["async", "sync"]


def test_the_router_is_an_asgi_app() -> None:
    router = webhooks.Router([SECRET], max_body_size=1000)
    calls: list[Any] = []
    router.on("*")(calls.append)

    async def exchange() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=router)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            body, headers = delivery(RECORD)
            return [
                await http.post("/hooks", content=body, headers=headers),
                await http.post("/hooks", content=body, headers=resigned(body, "msg_1")),
                await http.post("/hooks", content=body, headers=headers),
                await http.get("/hooks"),
                await http.post("/hooks", content=b"x" * 1001, headers=headers),
            ]

    ok, duplicate, replayed, get, too_big = asyncio.run(exchange())
    assert ok.json() == {"status": "ok", "handled": 1}
    assert duplicate.json() == {"status": "duplicate"}
    assert replayed.json() == {"status": "duplicate"}  # a byte-identical replay changes nothing
    assert (get.status_code, get.headers["allow"]) == (405, "POST")
    assert too_big.status_code == 413
    assert len(calls) == 1


# ---------------------------------------------------------------------- claims across workers
def test_a_copy_arriving_while_the_first_is_handled_gets_a_retryable_409(tmp_path: Any) -> None:
    path = tmp_path / "seen.db"
    worker_a = webhooks.Router([SECRET], dedupe=webhooks.SQLiteSeenStore(path))
    worker_b = webhooks.Router([SECRET], dedupe=webhooks.SQLiteSeenStore(path))
    started, finish = threading.Event(), threading.Event()
    handled: list[str] = []

    @worker_a.on("record.created")
    def slow_then_failing(event: Any) -> None:
        started.set()
        assert finish.wait(10), "the test never let the handler finish"
        raise RuntimeError("database down")

    worker_b.on("record.created")(lambda event: handled.append("b"))
    body, headers = delivery(RECORD, message_id="msg_busy")
    replies: list[webhooks.Reply] = []
    first = threading.Thread(target=lambda: replies.append(worker_a.handle(body, headers)))
    first.start()
    assert started.wait(10)

    busy = worker_b.handle(body, resigned(body, "msg_busy"))
    assert (busy.status, json.loads(busy.body)) == (409, {"status": "in_progress"})
    assert int(busy.headers["retry-after"]) >= 1
    finish.set()
    first.join(10)
    assert replies[0].status == 500

    retried = worker_b.handle(body, resigned(body, "msg_busy"))
    assert (retried.status, json.loads(retried.body)) == (200, {"status": "ok", "handled": 1})
    again = worker_a.handle(body, resigned(body, "msg_busy"))
    assert (again.status, json.loads(again.body)) == (200, {"status": "duplicate"})
    assert handled == ["b"]


def test_a_cancelled_handle_async_gives_its_claim_back() -> None:
    router = webhooks.Router([SECRET])
    attempts: list[int] = []

    @router.on("record.created")
    async def first_hangs(event: Any) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            await asyncio.Event().wait()  # never set: only the timeout ends it

    body, headers = delivery(RECORD, message_id="msg_timeout")

    async def receive() -> webhooks.Reply:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(router.handle_async(body, headers), timeout=0.01)
        return await router.handle_async(body, resigned(body, "msg_timeout"))

    reply = asyncio.run(receive())
    assert (reply.status, json.loads(reply.body)) == (200, {"status": "ok", "handled": 1})
    assert attempts == [1, 2]


def test_a_cancelled_thread_handler_keeps_its_claim_until_the_thread_returns() -> None:
    router = webhooks.Router([SECRET])
    started, finish = threading.Event(), threading.Event()
    attempts: list[int] = []

    @router.on("record.created")
    def blocking_once(event: Any) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            started.set()
            assert finish.wait(10), "the test never let the thread finish"

    body, headers = delivery(RECORD, message_id="msg_thread")

    async def receive() -> list[int]:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(router.handle_async(body, headers), timeout=0.01)
        assert started.wait(10)
        statuses = [(await router.handle_async(body, resigned(body, "msg_thread"))).status]
        finish.set()  # the thread returns, and then gives the claim back
        deadline = time.monotonic() + 10
        while statuses[-1] == 409 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            statuses.append((await router.handle_async(body, resigned(body, "msg_thread"))).status)
        return statuses

    statuses = asyncio.run(receive())
    assert statuses[0] == 409, "no retry runs beside the thread still handling it"
    assert statuses[-1] == 200 and set(statuses[:-1]) == {409}
    assert attempts == [1, 2]


def test_an_interrupted_handler_gives_its_claim_back() -> None:
    router = webhooks.Router([SECRET])
    attempts: list[int] = []

    @router.on("record.created")
    def interrupted_once(event: Any) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            raise KeyboardInterrupt

    body, headers = delivery(RECORD, message_id="msg_interrupted")
    with pytest.raises(KeyboardInterrupt):
        router.handle(body, headers)
    assert router.handle(body, resigned(body, "msg_interrupted")).status == 200
    assert attempts == [1, 2]


def test_a_claim_left_by_a_dead_worker_is_handled_once_its_lease_expires(tmp_path: Any) -> None:
    store = webhooks.SQLiteSeenStore(tmp_path / "seen.db")
    router = webhooks.Router([SECRET], dedupe=store)
    calls: list[Any] = []
    router.on("*")(calls.append)
    store.acquire("msg_live", "killed-worker", time.time() + 60)  # killed mid-handler, lease running
    store.acquire("msg_expired", "killed-worker", time.time() - 1)  # killed a lease ago
    live = router.handle(*delivery(RECORD, message_id="msg_live"))
    expired = router.handle(*delivery(RECORD, message_id="msg_expired"))
    assert (live.status, expired.status) == (409, 200)
    assert len(calls) == 1


def test_a_store_without_leases_is_refused_and_a_failing_store_answers_503() -> None:
    class OnlySeen:
        def claim(self, key: str, expires_at: float) -> bool:
            return True

        def release(self, key: str, owner: str | None = None) -> None:
            pass

    with pytest.raises(overlay.ConfigurationError, match=r"OnlySeen has no acquire\(\), complete\(\)"):
        webhooks.Router([SECRET], dedupe=OnlySeen())  # type: ignore[arg-type]

    class Down(webhooks.MemorySeenStore):
        def acquire(self, key: str, owner: str, lease_until: float) -> webhooks.ClaimState:
            raise OSError("disk I/O error")

    reply = webhooks.Router([SECRET], dedupe=Down()).handle(*delivery(RECORD))
    assert (reply.status, json.loads(reply.body)) == (503, {"error": "seen_store_unavailable"})
    assert "retry-after" in reply.headers


# ---------------------------------------------------------------------- mounting
def test_router_routes_answer_at_the_path_with_and_without_the_slash() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    router = webhooks.Router([SECRET])
    calls: list[Any] = []
    router.on("*")(calls.append)

    async def post(app: Any, path: str, message_id: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
            body, headers = delivery(RECORD, message_id=message_id)
            return await http.post(path, content=body, headers=headers)

    app = Starlette(routes=router.routes("/crm-hooks"))
    bare = asyncio.run(post(app, "/crm-hooks", "msg_bare"))
    slash = asyncio.run(post(app, "/crm-hooks/", "msg_slash"))
    assert (bare.status_code, slash.status_code) == (200, 200)
    assert len(calls) == 2
    mounted = asyncio.run(post(Starlette(routes=[Mount("/crm-hooks", app=router)]), "/crm-hooks", "msg_m"))
    assert mounted.status_code == 307, "why routes() exists: a Mount redirects the bare path"
