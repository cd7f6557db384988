"""The shared rate limiter and the Redis seen store against a real redis-server: what is
shared, what happens when Redis is down or silent, and that no secret reaches Redis or a message.

Two ``SharedRateLimiter`` objects with the same key stand for two processes' buckets: they
share nothing but Redis (though they count as one process; another is added by hand, or forked).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest
import redis

import overlay
from overlay import webhooks
from overlay._ratelimit import RateLimiter
from overlay._shared_limit import RedisRateLimit, SharedRateLimiter, process_name, token_key
from tests.redis_server import RedisServer

TOKEN = "sk_live_do_not_show_me"
LIMITED = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "10"}


def process(url: str, **settings: object) -> SharedRateLimiter:
    """A limiter as one process on TOKEN has it."""
    return SharedRateLimiter(RedisRateLimit(url, **settings), token_key("http://api", TOKEN), RateLimiter())  # type: ignore[arg-type]


def another_process(redis_url: str, limiter: SharedRateLimiter) -> None:
    """Another process has just taken a turn on ``limiter``'s token."""
    direct = redis.Redis.from_url(redis_url)
    direct.zadd(limiter._peers_key, {"4242:another": direct.time()[0]})
    direct.close()


def test_processes_on_one_token_take_turns_from_one_bucket(redis_url: str) -> None:
    a, b = process(redis_url), process(redis_url)
    a.observe("POST", 201, LIMITED)  # only a has seen the limit
    waits = [(a if n % 2 else b).reserve("POST") for n in range(20)]
    assert max(waits[:10]) < 0.05, "the first ten turns are the bucket's"
    assert 0.8 < waits[-1] < 1.1, "twenty turns at 10/s: the last waits about a second"
    assert b.reserve("GET") == 0.0, "reads have their own bucket, not yet limited"


def test_a_429_seen_by_one_process_holds_back_every_other(redis_url: str) -> None:
    a, b = process(redis_url), process(redis_url)
    a.observe("POST", 429, {**LIMITED, "x-ratelimit-remaining": "0", "retry-after": "3"})
    assert 2.5 < b.reserve("POST") <= 3.0
    assert b.reserve("GET") == 0.0


def test_other_tokens_have_their_own_buckets_and_no_token_reaches_redis(redis_url: str) -> None:
    a = process(redis_url)
    other = SharedRateLimiter(RedisRateLimit(redis_url), token_key("http://api", "sk_other"), RateLimiter())
    a.observe("POST", 429, {**LIMITED, "retry-after": "5"})
    assert other.reserve("POST") == 0.0
    direct = redis.Redis.from_url(redis_url)
    stored = b" ".join(
        key + b" " + str(direct.hgetall(key) if direct.type(key) == b"hash" else "").encode()
        for key in direct.keys("*")
    )
    assert stored and TOKEN.encode() not in stored and b"sk_other" not in stored


def test_redis_going_away_falls_back_with_one_warning_and_rejoins_when_it_is_back(
    redis_server: RedisServer, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = process(redis_url, retry_every=0.2)
    a.observe("POST", 201, LIMITED)
    another_process(redis_url, a)
    a.reserve("POST")
    assert a.peers == 2
    redis_server.stop()
    with pytest.warns(RuntimeWarning, match=r"Redis at redis://127\.0\.0\.1:\d+/0 failed .*1/2 of the limit"):
        a.reserve("POST")
    assert a.local.share == 0.5 and not a.available
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per outage
        waits = [a.reserve("POST") for _ in range(8)]
    assert waits[-1] > 0.5, "alone, it paces to 5/s: half of the 10/s limit"

    redis_server.start()
    time.sleep(0.25)
    with caplog.at_level(logging.WARNING, logger="overlay"):
        a.reserve("POST")
    assert a.available and a.local.share == 1.0
    assert "answers again" in caplog.text


def test_asked_to_raise_it_raises_its_own_error_naming_the_url_without_its_password() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    limiter = process(f"redis://:hunter2@127.0.0.1:{port}/0", on_unavailable="raise")
    with pytest.raises(overlay.RateLimitStoreError) as raised:
        limiter.reserve("POST")
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message and "hunter2" not in message
    assert isinstance(raised.value.__cause__, redis.ConnectionError)
    assert "hunter2" not in repr(RedisRateLimit(f"redis://:hunter2@127.0.0.1:{port}/0"))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers (a Redis hung or behind a black hole)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()


def test_a_redis_that_never_answers_does_not_hang_a_request(silent_server: str) -> None:
    limiter = process(silent_server, timeout=0.2)
    started = time.monotonic()
    with pytest.warns(RuntimeWarning, match="TimeoutError"):
        assert limiter.reserve("POST") == 0.0
    assert time.monotonic() - started < 5, "bounded by the timeout, not hung"
    store = webhooks.RedisSeenStore(silent_server, timeout=0.2)
    with pytest.raises(overlay.SeenStoreError, match=r"could not claim a message id: TimeoutError"):
        store.acquire("msg", "me", time.time() + 60)


def test_clients_pace_together_sync_and_async(redis_url: str) -> None:
    """A Client and an AsyncClient on one token keep to one 10/s write limit between them."""
    statuses: list[int] = []

    def count(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            count(response)
            return response

    class AsyncCounting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            count(response)
            return response

    limit = overlay.RedisRateLimit(redis_url)
    with overlay.Sandbox(read_rate=None, write_rate=10) as sandbox:
        sync = sandbox.connect(rate_limit=limit, transport=Counting())
        made = sandbox.connect_async(rate_limit=limit, transport=AsyncCounting())

        async def async_writes() -> None:
            async with made as crm:
                for n in range(15):
                    await crm.records("companies").create({"name": f"Async {n}"})

        writer = threading.Thread(target=lambda: asyncio.run(async_writes()))
        started = time.monotonic()
        writer.start()
        with sync as crm:
            for n in range(15):
                crm.records("companies").create({"name": f"Sync {n}"})
        writer.join(60)
        elapsed = time.monotonic() - started
    assert statuses.count(429) == 0, statuses
    assert len(statuses) == 30
    assert elapsed > 1.5, "30 writes at 10/s after a burst of 10 take two seconds"
    keys = redis.Redis.from_url(redis_url).keys("crm:ratelimit:*")
    assert any(key.endswith(b":write") for key in keys)


def test_the_environment_turns_the_shared_limit_on(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_RATE_LIMIT_REDIS", redis_url)
    crm = overlay.Client(api_key="sk_test", base_url="http://127.0.0.1:9")
    assert crm.options.rate_limit == overlay.RedisRateLimit(redis_url)
    assert (
        overlay.Client(api_key="k", base_url="http://127.0.0.1:9", rate_limit=False).options.rate_limit
        is False
    )
    monkeypatch.setenv("CRM_RATE_LIMIT_REDIS", "localhost:6379")
    with pytest.raises(overlay.ConfigurationError, match="CRM_RATE_LIMIT_REDIS is a redis://"):
        overlay.Client(api_key="sk_test", base_url="http://127.0.0.1:9")
    with pytest.raises(
        overlay.ConfigurationError, match=r"rate_limit is True, False or an overlay\.RedisRateLimit"
    ):
        overlay.Client(api_key="k", base_url="http://127.0.0.1:9", rate_limit="redis://x")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the seen store
def test_receivers_on_one_redis_see_one_claim(redis_url: str) -> None:
    one, two = webhooks.RedisSeenStore(redis_url), webhooks.RedisSeenStore(redis_url)
    assert one.acquire("msg_1", "receiver-a", time.time() + 60) == "acquired"
    assert two.acquire("msg_1", "receiver-b", time.time() + 60) == "in_progress"
    one.complete("msg_1", "receiver-a", time.time() + 60)
    assert two.acquire("msg_1", "receiver-b", time.time() + 60) == "done"
    assert one.acquire("msg_2", "killed", time.time() + 0.2) == "acquired"
    time.sleep(0.3)
    assert two.acquire("msg_2", "receiver-b", time.time() + 60) == "acquired", "a dead receiver's lease ends"


def test_a_seen_store_whose_redis_is_down_says_so_and_the_router_answers_503(
    redis_server: RedisServer, redis_url: str
) -> None:
    from tests.unit.test_webhook_router import RECORD, SECRET, delivery

    store = webhooks.RedisSeenStore(redis_url.replace("redis://", "redis://:hunter2@"))
    router = webhooks.Router([SECRET], dedupe=store)
    redis_server.stop()
    with pytest.raises(overlay.SeenStoreError) as raised:
        store.claim("msg", time.time() + 60)
    assert "Redis at redis://[redacted]@127.0.0.1" in str(raised.value) and "hunter2" not in str(raised.value)
    reply = router.handle(*delivery(RECORD))
    assert reply.status == 503 and "retry-after" in reply.headers
    assert "hunter2" not in repr(store)


# ---------------------------------------------------------------------- hostile input and edges
def test_a_huge_or_infinite_retry_after_holds_every_process_back_no_longer_than_the_cap(
    redis_url: str,
) -> None:
    from overlay._ratelimit import MAX_HOLD

    a, b = process(redis_url), process(redis_url)
    a.observe("POST", 429, {**LIMITED, "retry-after": "100000000"})
    assert MAX_HOLD - 1 < b.reserve("POST") <= MAX_HOLD
    a.observe("GET", 429, {"retry-after": "inf"})  # not a number of seconds: the default hold
    assert 0.5 < b.reserve("GET") <= 1.0


def test_turns_taken_before_the_limit_was_known_count_only_while_in_flight(redis_url: str) -> None:
    a = process(redis_url)
    for _ in range(5000):  # an unlimited kind: turns answered without X-RateLimit headers
        a.reserve("POST")
        a.observe("POST", 201, {})
    a.reserve("POST")  # the one this limit comes back on
    a.observe("POST", 201, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9"})
    assert a.reserve("POST") < 0.1, "5,000 answered turns are not debt"


def test_an_async_limiter_serves_several_event_loops(redis_url: str) -> None:
    limiter = process(redis_url)
    limiter.observe("POST", 201, LIMITED)

    async def turns() -> list[float]:
        waits = [await limiter.areserve("POST") for _ in range(3)]
        await limiter.aobserve("POST", 201, LIMITED)
        await limiter.aclose()
        return waits

    first, second = asyncio.run(turns()), asyncio.run(turns())
    assert len(first + second) == 6 and limiter.available and limiter.fallbacks == 0


def test_asked_to_raise_a_response_is_never_lost_to_a_redis_that_fails_after_it(redis_url: str) -> None:
    limiter = process(redis_url, on_unavailable="raise")
    limiter.reserve("POST")
    redis.Redis.from_url(redis_url).client_pause(1500, all=True)
    started = time.monotonic()
    limiter.observe("POST", 201, LIMITED)  # times out after 0.5 s, and does not raise
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("user:hunter2@localhost:6379", "is a redis://HOST:PORT/DB URL"),
        ("redis://:hunter2@localhost:notaport/0", "Port could not be cast"),
        ("redis://:hun/ter2@localhost:6379/0", "percent-encode them"),
        ("redis://:hunter2#x@localhost:6379/0", "percent-encode them"),
        ("redis://:hunter2@localhost:6379/abc", "database 'abc' is not a number"),
        ("redis:///0", "names no host"),
    ],
)
def test_a_redis_url_that_cannot_work_is_refused_when_made_without_showing_its_password(
    url: str, problem: str
) -> None:
    for make in (lambda: RedisRateLimit(url), lambda: webhooks.RedisSeenStore(url)):
        with pytest.raises(overlay.ConfigurationError) as raised:
            make()
        assert problem in str(raised.value) and "hunter2" not in str(raised.value), raised.value
    with pytest.raises(overlay.ConfigurationError, match="timeout is a number of seconds > 0"):
        webhooks.RedisSeenStore("redis://localhost:6379/0", timeout=-1)


def test_a_forked_worker_counts_as_a_process_of_its_own(redis_url: str) -> None:
    import multiprocessing

    limiter = process(redis_url)
    limiter.reserve("POST")
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=lambda: (limiter.reserve("POST"), queue.put(process_name())))
    child.start()
    child_member = queue.get(timeout=30)
    child.join(30)
    assert child_member != process_name()
    assert limiter.reserve("POST") >= 0 and limiter.peers == 2
    limiter.close()
    members = redis.Redis.from_url(redis_url).zrange(limiter._peers_key, 0, -1)
    assert members == [child_member.encode()], "a closed client leaves the set"


def test_a_lease_lasts_its_length_on_redis_clock_whatever_a_receiver_clock_says(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from overlay.webhooks import _redis_seen

    behind, ahead = webhooks.RedisSeenStore(redis_url), webhooks.RedisSeenStore(redis_url)
    real = time.time
    monkeypatch.setattr(_redis_seen.time, "time", lambda: real() - 90)  # this receiver is 90 s behind
    assert behind.acquire("msg", "slow-clock", real() - 90 + 60) == "acquired"
    monkeypatch.setattr(_redis_seen.time, "time", real)
    assert ahead.acquire("msg", "right-clock", real() + 60) == "in_progress"


def test_the_async_router_calls_a_blocking_store_off_the_event_loop() -> None:
    from tests.unit.test_webhook_router import RECORD, SECRET, delivery

    ticks = 0

    class Slow(webhooks.SQLiteSeenStore):
        ran_during: ClassVar[list[bool]] = []

        def acquire(self, key: str, owner: str, lease_until: float) -> webhooks.ClaimState:
            before = ticks
            time.sleep(0.2)  # a Redis slow to answer
            self.ran_during.append(ticks > before)
            return "acquired"

        def complete(self, key: str, owner: str, expires_at: float) -> None:
            pass

    async def main(router: webhooks.Router) -> webhooks.Reply:
        nonlocal ticks

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        reply = await router.handle_async(*delivery(RECORD))
        ticker.cancel()
        return reply

    import tempfile

    with tempfile.TemporaryDirectory() as where:
        router = webhooks.Router([SECRET], dedupe=Slow(f"{where}/seen.db"))
        router.on("*")(lambda event: None)
        assert asyncio.run(main(router)).status == 200
    assert Slow.ran_during == [True], "the loop ran while the store was busy"
