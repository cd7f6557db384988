"""Two receiver processes behind one URL, sharing one SQLiteSeenStore file, fed by the sandbox.

A load balancer (in the test process) spreads the sandbox's deliveries over the workers in
turn and gives up on a worker after ``UPSTREAM_TIMEOUT`` (answering 504), as real ones do,
so a retry can reach the other worker while the first still runs its handler. Every handler
that succeeds appends a line to a side-effects file; the test reads that file to prove that
each event was handled exactly once after every failure, timeout and kill.

Run as a script, this file is a worker: ``python test_webhook_workers.py WORK_DIR``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import overlay
from overlay import webhooks

LEASE = 2.0  # seconds a worker's claim lasts when its process dies
UPSTREAM_TIMEOUT = 1.0
RETRY_DELAYS = (0.25,) * 160  # the sandbox retries for about 40 s before giving up
DEADLINE = 60.0
FORWARDED = ("content-type", "crm-version", "webhook-id", "webhook-timestamp", "webhook-signature")


# ---------------------------------------------------------------------- the worker process
def append_line(path: Path, line: str) -> int:
    """Append ``line`` (one write, O_APPEND: whole lines even from two processes); the count after."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode() + b"\n")
    finally:
        os.close(fd)
    return len(path.read_text().splitlines())


def wait_for_file(path: Path, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.02)


def serve_worker(work: Path) -> None:
    """A receiver: one Router on the shared store; what a handler does is in plan.json."""
    from crm_sandbox.server import LoopbackServer

    plan: dict[str, str] = json.loads((work / "plan.json").read_text())
    router = webhooks.Router(
        [os.environ["WORKER_WEBHOOK_SECRET"]], dedupe=webhooks.SQLiteSeenStore(work / "seen.db"), lease=LEASE
    )

    @router.on("record.updated")
    def handle(event: Any, delivery: webhooks.Delivery) -> None:
        record_id = event.id.record_id
        attempt = append_line(work / f"attempts-{record_id}", str(os.getpid()))
        behaviour = plan.get(record_id, "succeeds")
        if attempt == 1 and behaviour == "fails_once":
            raise RuntimeError("the first attempt fails")
        if attempt == 1 and behaviour == "slow_then_fails":
            # Still running when the sender's retry reaches a worker (the balancer opens the
            # gate when a worker answers it 409), then fails: the retry after must be handled.
            wait_for_file(work / f"gate-{delivery.message_id}")
            raise RuntimeError("failed after a long while")
        if attempt == 1 and behaviour == "killed":
            (work / f"handling-{record_id}").write_text(str(os.getpid()))
            threading.Event().wait(DEADLINE)  # SIGKILL comes first
        append_line(work / "effects", f"{record_id} {os.getpid()}")

    server = LoopbackServer(router, quiet=True).start()
    print(server.url, flush=True)
    threading.Event().wait()  # until SIGTERM or SIGKILL


# ---------------------------------------------------------------------- the test's side
class Balancer:
    """Round robin over the workers; a worker that is slow or gone is answered 504 or 502."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.upstreams: list[str] = []
        self.answers: list[tuple[str, str, int, str | None]] = []  # message id, worker, status, retry-after
        self._turn = 0
        self._http: httpx.AsyncClient | None = None

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT) as http:
                self._http = http
                yield

        async def forward(request: Request) -> Response:
            assert self._http is not None
            upstream = self.upstreams[self._turn % len(self.upstreams)]
            self._turn += 1
            headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
            retry_after = None
            try:
                answer = await self._http.post(upstream, content=await request.body(), headers=headers)
                status, retry_after = answer.status_code, answer.headers.get("retry-after")
            except httpx.TimeoutException:
                status = 504
            except httpx.TransportError:
                status = 502
            message_id = headers.get("webhook-id", "")
            self.answers.append((message_id, upstream, status, retry_after))
            if status == 409:
                (self.work / f"gate-{message_id}").touch()
            return Response(status_code=status)

        return Starlette(routes=[Route("/hooks", forward, methods=["POST"])], lifespan=lifespan)


def start_worker(work: Path, secret: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, str(work)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "WORKER_WEBHOOK_SECRET": secret},
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], DEADLINE)
    assert ready, "the worker did not start"
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def effects(work: Path) -> collections.Counter[str]:
    path = work / "effects"
    lines = path.read_text().splitlines() if path.exists() else []
    return collections.Counter(line.split()[0] for line in lines)


def settled(crm: overlay.Client, webhook_id: str) -> bool:
    """No delivery is waiting for a retry: the sender has finished with every message."""
    return all(d.status.value != "pending" for d in crm.webhooks.deliveries(webhook_id).to_list())


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_two_workers_on_one_store_handle_every_event_exactly_once(
    tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    from crm_sandbox.server import LoopbackServer

    balancer = Balancer(tmp_path)
    front = LoopbackServer(balancer.app(), quiet=True).start()
    try:
        with overlay.Sandbox(read_rate=None, write_rate=None, webhook_retry_delays=RETRY_DELAYS) as sandbox:
            crm = sandbox.client
            hook = crm.webhooks.create(target_url=f"{front.url}/hooks", subscriptions=["record.updated"])
            webhook_id = hook.id.webhook_id
            people = crm.records("people")
            behaviours = ["succeeds", "fails_once", "slow_then_fails", "succeeds", "killed", "succeeds"]
            ids = [people.create({"name": f"Person {n}"}).id for n in range(len(behaviours))]
            plan = dict(zip(ids, behaviours, strict=True))
            (tmp_path / "plan.json").write_text(json.dumps(plan))
            for _ in range(2):
                proc, url = start_worker(tmp_path, hook.secret)
                workers.append(proc)
                balancer.upstreams.append(url)

            # Both workers up: a plain event, one whose handler fails once, one still running
            # when its retry comes (then failing), another plain one.
            for record_id in ids[:4]:
                people.update(record_id, {"name": f"Renamed {record_id}"})
            wait_until(lambda: set(effects(tmp_path)) == set(ids[:4]), "the first four events were handled")
            wait_until(lambda: settled(crm, webhook_id), "the sender finished retrying")

            # A worker killed with SIGKILL in the middle of a handler: its claim expires.
            killed_id, after_id = ids[4], ids[5]
            people.update(killed_id, {"name": "Renamed mid-crash"})
            handling = tmp_path / f"handling-{killed_id}"
            wait_until(handling.exists, "a worker started the handler to be killed")
            victim = next(p for p in workers if p.pid == int(handling.read_text()))
            victim.send_signal(signal.SIGKILL)
            assert victim.wait(timeout=10) == -signal.SIGKILL
            people.update(after_id, {"name": "Renamed after the crash"})
            wait_until(lambda: set(effects(tmp_path)) == set(ids), "every event was handled")
            wait_until(lambda: settled(crm, webhook_id), "the sender finished retrying")
            log = crm.webhooks.deliveries(webhook_id).to_list()
    finally:
        front.stop()

    assert effects(tmp_path) == {record_id: 1 for record_id in ids}, "each event handled exactly once"
    survivor = next(p for p in workers if p is not victim)
    handled_by = dict(line.split() for line in (tmp_path / "effects").read_text().splitlines())
    assert handled_by[killed_id] == str(survivor.pid)
    assert len((tmp_path / f"attempts-{plan_key(plan, 'fails_once')}").read_text().splitlines()) == 2

    in_progress = [a for a in balancer.answers if a[2] == 409]
    assert in_progress, "a retry reached a worker while the first attempt ran"
    assert all(retry_after is not None and int(retry_after) >= 1 for *_, retry_after in in_progress)
    by_message: dict[str, list[str]] = collections.defaultdict(list)
    for d in sorted(log, key=lambda d: d.attempt):
        by_message[d.message_id].append(d.status.value)
    assert len(by_message) == len(ids)
    assert all(statuses[-1] == "succeeded" for statuses in by_message.values()), by_message


def plan_key(plan: dict[str, str], behaviour: str) -> str:
    return next(record_id for record_id, b in plan.items() if b == behaviour)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    serve_worker(Path(sys.argv[1]))
