"""The retrying transports, driven by httpx.MockTransport: what is retried, when, and with which key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from overlay._clock import ManualClock
from overlay._ratelimit import RateLimiter
from overlay._transport import APITransport, AsyncAPITransport, AttemptSettings

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(
    *answers: int | Exception, headers: dict[str, str] | None = None, code: str = "x"
) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with each status (or raising each exception) in turn."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        body = (
            {"status_code": answer, "type": "api_error", "code": code, "message": "m"}
            if answer >= 400
            else {}
        )
        return httpx.Response(answer, json=body, headers=headers or {})

    return handle, seen


def client(handler: Handler, clock: ManualClock | None = None, **kwargs: object) -> httpx.Client:
    stack = AttemptSettings(clock=clock or ManualClock(), **kwargs)  # type: ignore[arg-type]
    return httpx.Client(
        transport=APITransport(httpx.MockTransport(handler), stack), base_url="http://api.test"
    )


def test_server_errors_are_retried_with_growing_backoff() -> None:
    handler, seen = scripted(503, 500, 200)
    clock = ManualClock()
    assert client(handler, clock).get("/v2/self").status_code == 200
    assert len(seen) == 3
    assert 0.375 <= clock.slept[0] <= 0.5 and 0.75 <= clock.slept[1] <= 1.0


def test_retries_stop_after_two_and_the_last_answer_is_returned() -> None:
    handler, seen = scripted(503, 503, 503, 200)
    assert client(handler).get("/v2/self").status_code == 503
    assert len(seen) == 3


def test_retry_after_sets_the_wait() -> None:
    handler, _ = scripted(429, 200, headers={"Retry-After": "2"})
    clock = ManualClock()
    client(handler, clock).get("/v2/self")
    assert clock.slept == [2.0]


def test_a_retry_after_date_is_read_against_the_clock() -> None:
    clock = ManualClock(wall=1_800_000_000.0)
    handler, _ = scripted(503, 200, headers={"Retry-After": "Fri, 15 Jan 2027 08:00:03 GMT"})
    client(handler, clock).get("/v2/self")
    assert clock.slept == [3.0]


def test_a_retry_after_beyond_two_minutes_is_not_waited_for() -> None:
    handler, seen = scripted(429, 200, headers={"Retry-After": "600"})
    assert client(handler).get("/v2/self").status_code == 429
    assert len(seen) == 1


def test_a_write_gets_one_idempotency_key_reused_on_every_retry() -> None:
    handler, seen = scripted(503, 502, 201)
    response = client(handler).post("/v2/objects/people/records", json={"data": {"values": {}}})
    assert response.status_code == 201
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(keys) == 1 and keys.pop().startswith("ik_")
    assert all(json.loads(r.content) == {"data": {"values": {}}} for r in seen)


def test_a_callers_own_idempotency_key_is_kept() -> None:
    handler, seen = scripted(503, 201)
    client(handler).post("/v2/notes", json={}, headers={"Idempotency-Key": "mine"})
    assert [r.headers["idempotency-key"] for r in seen] == ["mine", "mine"]


def test_a_write_without_a_key_is_never_retried() -> None:
    handler, seen = scripted(503, 201)
    response = client(handler, idempotency_keys=False).post("/v2/notes", json={})
    assert response.status_code == 503 and len(seen) == 1
    assert "idempotency-key" not in seen[0].headers


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    handler, seen = scripted(status, 200)
    assert client(handler).get("/v2/self").status_code == status
    assert len(seen) == 1


def test_a_conflict_no_retry_can_fix_is_returned_at_once() -> None:
    handler, seen = scripted(409, 201, code="uniqueness_conflict")
    assert client(handler).post("/v2/objects/people/records", json={}).status_code == 409
    assert len(seen) == 1


def test_connection_errors_are_retried_then_raised() -> None:
    handler, seen = scripted(
        httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ConnectError("no")
    )
    with pytest.raises(httpx.ConnectError):
        client(handler).get("/v2/self")
    assert len(seen) == 3


def test_a_dropped_response_is_retried_with_the_same_key() -> None:
    handler, seen = scripted(httpx.RemoteProtocolError("peer closed"), 201)
    assert client(handler).post("/v2/notes", json={}).status_code == 201
    assert seen[0].headers["idempotency-key"] == seen[1].headers["idempotency-key"]


def test_the_async_transport_follows_the_same_rules() -> None:
    handler, seen = scripted(503, httpx.ConnectError("refused"), 201)
    clock = ManualClock()

    async def run() -> httpx.Response:
        transport = AsyncAPITransport(httpx.MockTransport(handler), AttemptSettings(clock=clock))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
            return await api.post("/v2/notes", json={"data": {}})

    assert asyncio.run(run()).status_code == 201
    assert len(seen) == 3 and len(clock.slept) == 2
    assert len({r.headers["idempotency-key"] for r in seen}) == 1


# ------------------------------------------------------------------ the client-side rate limiter


def limits(limit: int, remaining: int) -> dict[str, str]:
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining)}


def test_the_limiter_does_not_hold_requests_before_it_knows_the_limit() -> None:
    assert RateLimiter(ManualClock().monotonic).reserve("GET") == 0.0


def test_the_limiter_spaces_requests_at_the_announced_rate() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock.monotonic)
    limiter.observe("POST", 201, limits(10, 0))
    waits = [limiter.reserve("POST") for _ in range(3)]
    assert waits == pytest.approx([0.1, 0.2, 0.3])
    assert limiter.reserve("GET") == 0.0  # reads have their own bucket
    clock.now += 1.0
    assert limiter.reserve("POST") == pytest.approx(0.0)


def test_a_429_holds_every_request_of_its_kind_until_retry_after() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock.monotonic)
    limiter.observe("GET", 200, limits(100, 50))
    limiter.observe("GET", 429, {**limits(100, 0), "retry-after": "2"})
    assert limiter.reserve("GET") == pytest.approx(2.0)
    clock.now += 2.5
    assert limiter.reserve("GET") == pytest.approx(0.0)


def test_the_transport_waits_for_the_limiter_before_sending() -> None:
    handler, seen = scripted(200, 200, 200, 200, headers=limits(4, 0))
    clock = ManualClock()
    limiter = RateLimiter(clock.monotonic, clock.time)
    stack = AttemptSettings(limiter=limiter, clock=clock)
    with httpx.Client(
        transport=APITransport(httpx.MockTransport(handler), stack), base_url="http://api.test"
    ) as api:
        for _ in range(4):
            api.get("/v2/self")
    assert len(seen) == 4
    # The first answer teaches the limit (4/s, none left); each later request waits a quarter
    # second on the limiter's own clock, which the waits move on.
    assert clock.slept == pytest.approx([0.25, 0.25, 0.25])
    assert clock.now == pytest.approx(1000.75)


def test_concurrent_requests_queue_behind_each_other_on_a_clock_that_stands_still() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock.monotonic)
    limiter.observe("GET", 200, limits(4, 0))
    assert [limiter.reserve("GET") for _ in range(3)] == pytest.approx([0.25, 0.5, 0.75])
