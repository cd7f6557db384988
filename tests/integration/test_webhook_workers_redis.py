"""Four receiver processes behind a round-robin balancer, sharing one RedisSeenStore, fed
1,000 events by the sandbox: 2% of the handlers fail once, and one receiver dies by SIGKILL
in the middle of a handler. Every event's handler must complete exactly once, and the
sandbox's delivery log must show no event given up.

The receiver that dies kills itself from inside the handler chosen for it, at a moment when
no other handler of its process is between its side effect and marking its delivery done
(the one window no seen store can close: a side effect then a crash is redone elsewhere).

Run as a script, this file is a receiver: ``python test_webhook_workers_redis.py WORK_DIR REDIS_URL``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import overlay
from overlay import webhooks
from tests.integration.test_webhook_workers import (
    RETRY_DELAYS,
    Balancer,
    append_line,
    effects,
    settled,
    wait_until,
)
from tests.integration.test_webhook_workers import workers as receivers  # noqa: F401 - a fixture
from tests.redis_server import redis_server

EVENTS = 1000
RECEIVERS = 4
LEASE = 2.0


# ---------------------------------------------------------------------- the receiver process
class TrackingStore:
    """A RedisSeenStore that knows which claims this process holds, so the handler chosen to
    die can wait until it is the only one in flight (holding ``lock`` stops new claims)."""

    def __init__(self, inner: webhooks.RedisSeenStore) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.held = 0

    def acquire(self, key: str, owner: str, lease_until: float) -> webhooks.ClaimState:
        with self.lock:
            state = self.inner.acquire(key, owner, lease_until)
            self.held += state == "acquired"
            return state

    def complete(self, key: str, owner: str, expires_at: float) -> None:
        self.inner.complete(key, owner, expires_at)
        with self.lock:
            self.held -= 1

    def release(self, key: str, owner: str | None = None) -> None:
        self.inner.release(key, owner)
        with self.lock:
            self.held -= 1

    def claim(self, key: str, expires_at: float) -> bool:
        return self.inner.claim(key, expires_at)


def serve_receiver(work: Path, redis_url: str) -> None:
    from crm_sandbox.server import LoopbackServer

    plan: dict[str, str] = json.loads((work / "plan.json").read_text())
    store = TrackingStore(webhooks.RedisSeenStore(redis_url))
    router = webhooks.Router([os.environ["RECEIVER_WEBHOOK_SECRET"]], dedupe=store, lease=LEASE)

    @router.on("record.updated")
    def handle(event: Any) -> None:
        record_id = event.id.record_id
        attempt = append_line(work / f"attempts-{record_id}", str(os.getpid()))
        behaviour = plan.get(record_id, "succeeds")
        if attempt == 1 and behaviour == "fails_once":
            raise RuntimeError("the first attempt fails")
        if attempt == 1 and behaviour == "killed" and (work / "kill-armed").exists():
            (work / f"handling-{record_id}").write_text(str(os.getpid()))
            while True:
                with store.lock:
                    if store.held == 1:  # only this handler's claim: SIGKILL, mid-handler
                        os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(0.001)
        append_line(work / "effects", f"{record_id} {os.getpid()}")

    server = LoopbackServer(router, quiet=True).start()
    print(server.url, flush=True)
    threading.Event().wait()


# ---------------------------------------------------------------------- the test's side
def start_receiver(work: Path, redis_url: str, secret: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, str(work), redis_url],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "RECEIVER_WEBHOOK_SECRET": secret,
            "PYTHONPATH": str(Path(__file__).parents[2]),
        },
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def test_four_receivers_on_redis_handle_1000_events_exactly_once_through_failures_and_a_kill(
    tmp_path: Path,
    receivers: list[subprocess.Popen[str]],  # noqa: F811
) -> None:
    from crm_sandbox.server import LoopbackServer

    balancer = Balancer(tmp_path)
    front = LoopbackServer(balancer.app(), quiet=True).start()
    try:
        with (
            redis_server() as redis,
            overlay.Sandbox(read_rate=None, write_rate=None, webhook_retry_delays=RETRY_DELAYS) as sandbox,
        ):
            crm = sandbox.client
            people = crm.records("people")
            crm.bulk.create("people", ({"name": f"Person {n:04d}"} for n in range(EVENTS)))
            ids = [person.id for person in people.query()]
            assert len(ids) == EVENTS
            plan = {record_id: "fails_once" for record_id in ids[::50]}  # 2%
            victim_id = ids[EVENTS // 2 + 1]
            plan[victim_id] = "killed"
            (tmp_path / "plan.json").write_text(json.dumps(plan))
            hook = crm.webhooks.create(target_url=f"{front.url}/hooks", subscriptions=["record.updated"])
            for _ in range(RECEIVERS):
                proc, url = start_receiver(tmp_path, redis.url, hook.secret)
                receivers.append(proc)
                balancer.upstreams.append(url)

            for n, record_id in enumerate(ids):
                if n == EVENTS // 2:
                    (tmp_path / "kill-armed").touch()  # mid-run
                people.update(record_id, {"name": f"Renamed {n:04d}"})
            wait_until(lambda: len(effects(tmp_path)) == EVENTS, "every event was handled", timeout=120)
            wait_until(lambda: settled(crm, hook.id.webhook_id), "the sender finished retrying", timeout=120)
            log = crm.webhooks.deliveries(hook.id.webhook_id).to_list()
            hook_after = crm.webhooks.get(hook.id.webhook_id)
    finally:
        front.stop()

    dead = [p for p in receivers if p.poll() is not None]
    assert [p.returncode for p in dead] == [-signal.SIGKILL], "one receiver died by SIGKILL"
    killer = int((tmp_path / f"handling-{victim_id}").read_text())
    assert dead[0].pid == killer

    handled = effects(tmp_path)
    assert set(handled) == set(ids)
    doubled = {record_id: n for record_id, n in handled.items() if n != 1}
    assert not doubled, f"handled more than once: {doubled}"
    handled_by = dict(line.split() for line in (tmp_path / "effects").read_text().splitlines())
    assert handled_by[victim_id] != str(killer), "the killed handler's event was handled elsewhere"
    for record_id, behaviour in plan.items():
        attempts = (tmp_path / f"attempts-{record_id}").read_text().splitlines()
        assert len(attempts) == 2, (behaviour, attempts)

    last: dict[str, tuple[int, str]] = {}
    for d in log:
        if d.message_id not in last or d.attempt > last[d.message_id][0]:
            last[d.message_id] = (d.attempt, d.status.value)
    assert len(last) == EVENTS
    assert {status for _, status in last.values()} == {"succeeded"}, "an event was given up"
    assert hook_after.status.value == "active"
    retried = sum(1 for attempt, _ in last.values() if attempt > 1)
    print(f"{EVENTS} events, {len(log)} delivery attempts, {retried} events retried, 1 receiver killed")


def log_of(crm: overlay.Client, hook: Any) -> list[Any]:
    return crm.webhooks.deliveries(hook.id.webhook_id).to_list()


def test_a_receiver_whose_redis_stops_mid_run_answers_503_and_handles_every_event_once_it_is_back() -> None:
    """Redis down: deliveries get 503 and are retried; back (empty: persistence off), each
    event not yet handled is handled once, and none handled before is handled again."""
    import collections

    from crm_sandbox.server import LoopbackServer

    handled: collections.Counter[str] = collections.Counter()
    with (
        redis_server() as redis,
        overlay.Sandbox(read_rate=None, write_rate=None, webhook_retry_delays=RETRY_DELAYS) as sandbox,
    ):
        crm = sandbox.client
        people = crm.records("people")
        crm.bulk.create("people", ({"name": f"Person {n}"} for n in range(60)))
        ids = [person.id for person in people.query()]
        router = webhooks.Router(dedupe=webhooks.RedisSeenStore(redis.url), lease=LEASE)
        router.on("record.updated")(lambda event: handled.update([event.id.record_id]))
        front = LoopbackServer(router, quiet=True).start()
        try:
            hook = crm.webhooks.create(target_url=f"{front.url}/", subscriptions=["record.updated"])
            router.set_secrets([hook.secret])
            for n, record_id in enumerate(ids):
                if n == 20:
                    wait_until(lambda: len(handled) == 20, "the first events were handled")
                    redis.stop()
                if n == 40:
                    wait_until(lambda: any(d.response_status_code == 503 for d in log_of(crm, hook)), "a 503")
                    redis.start()
                people.update(record_id, {"name": f"Renamed {n}"})
            wait_until(lambda: len(handled) == len(ids), "every event was handled", timeout=120)
            wait_until(lambda: settled(crm, hook.id.webhook_id), "the sender finished retrying", timeout=120)
            log = crm.webhooks.deliveries(hook.id.webhook_id).to_list()
        finally:
            front.stop()
    assert handled == {record_id: 1 for record_id in ids}
    refused = [d for d in log if d.response_status_code == 503]
    assert refused, "deliveries met the Redis outage"
    last: dict[str, tuple[int, str]] = {}
    for d in log:
        if d.message_id not in last or d.attempt > last[d.message_id][0]:
            last[d.message_id] = (d.attempt, d.status.value)
    assert {status for _, status in last.values()} == {"succeeded"}


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    serve_receiver(Path(sys.argv[1]), sys.argv[2])
