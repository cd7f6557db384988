"""Eight processes on one token: with the Redis limiter they keep to the token's write limit
together; each pacing alone, they collect 429s. Redis stopped mid-run: they go on alone.

Run as a script, this file is a worker: ``python test_shared_limits.py SANDBOX_URL TOKEN
REDIS_URL|local WORKER ITEMS BATCH``; it prints a JSON line of what it did.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import httpx

import overlay
from tests.redis_server import redis_server

WORKERS = 8
ITEMS = 500
BATCH = 10  # 50 requests a worker, 400 in all: 8 s at 50 writes/s
WRITE_RATE = 50.0


# ---------------------------------------------------------------------- the worker process
class CountingTransport(httpx.HTTPTransport):
    """Counts every attempt and every 429, under the overlay's retries."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: collections.Counter[int] = collections.Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.statuses[response.status_code] += 1
        return response


def run_worker(url: str, token: str, redis_url: str, worker: int, items: int, batch: int) -> dict[str, Any]:
    transport = CountingTransport()
    limit: bool | overlay.RedisRateLimit = True if redis_url == "local" else overlay.RedisRateLimit(redis_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with overlay.Client(
            api_key=token, base_url=url, rate_limit=limit, max_retries=20, transport=transport
        ) as crm:
            started = time.monotonic()
            report = crm.bulk.create(
                "companies",
                ({"name": f"w{worker}-{i:04d}"} for i in range(items)),
                key="name",
                batch_size=batch,
            )
            elapsed = time.monotonic() - started
    return {
        "succeeded": report.succeeded,
        "failed": report.failed,
        "requests": sum(transport.statuses.values()),
        "429": transport.statuses[429],
        "seconds": elapsed,
        "warnings": [str(w.message) for w in caught],
    }


# ---------------------------------------------------------------------- the test's side
def run_workers(sandbox: overlay.Sandbox, redis_url: str, *, during: Any = None) -> list[dict[str, Any]]:
    """Start the workers together; ``during(started)`` runs while they do."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, sandbox.url, sandbox.token, redis_url, str(n), str(ITEMS), str(BATCH)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        for n in range(WORKERS)
    ]
    if during is not None:
        during(procs)
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def names_created(crm: overlay.Client) -> collections.Counter[str]:
    return collections.Counter(str(r["name"]) for r in crm.records("companies").query())


def every_item_once(crm: overlay.Client) -> None:
    names = names_created(crm)
    expected = {f"w{w}-{i:04d}" for w in range(WORKERS) for i in range(ITEMS)}
    assert set(names) >= expected, f"{len(expected - set(names))} items were not created"
    assert all(names[n] == 1 for n in expected), "an item was created twice"


def test_eight_workers_share_the_write_limit_through_redis() -> None:
    with redis_server() as redis, overlay.Sandbox(read_rate=None, write_rate=WRITE_RATE) as sandbox:
        shared = run_workers(sandbox, redis.url)
        every_item_once(sandbox.client)
    requests = sum(r["requests"] for r in shared)
    limited = sum(r["429"] for r in shared)
    print(f"shared: {limited} 429s in {requests} requests, {max(r['seconds'] for r in shared):.1f} s")
    assert all(r["failed"] == 0 and r["succeeded"] == ITEMS for r in shared)
    assert limited <= 0.01 * requests, f"{limited} 429s in {requests} requests"
    assert not any(r["warnings"] for r in shared)


def test_eight_workers_pacing_alone_collect_429s() -> None:
    """The baseline: the same run with each process's own limiter."""
    with overlay.Sandbox(read_rate=None, write_rate=WRITE_RATE) as sandbox:
        alone = run_workers(sandbox, "local")
        every_item_once(sandbox.client)
    requests = sum(r["requests"] for r in alone)
    limited = sum(r["429"] for r in alone)
    print(f"pacing alone: {limited} 429s in {requests} requests")
    assert limited > 0.02 * requests, "alone, they collect 429s (8-16% of requests in our runs)"


def test_redis_stopped_mid_run_the_workers_go_on_alone_and_lose_nothing() -> None:
    with redis_server() as redis, overlay.Sandbox(read_rate=None, write_rate=WRITE_RATE) as sandbox:

        def stop_redis_soon(procs: list[subprocess.Popen[str]]) -> None:
            """Once every worker has taken turns through Redis (so each knows all 8), stop it."""
            import redis as redis_py

            direct = redis_py.Redis.from_url(redis.url)
            deadline = time.monotonic() + 120
            while not any(direct.zcard(key) >= WORKERS for key in direct.keys("crm:ratelimit:*:processes")):
                assert time.monotonic() < deadline, "the workers never all took a turn"
                time.sleep(0.05)
            direct.close()
            time.sleep(1.0)  # a few more turns each, each seeing all 8
            redis.stop()

        results = run_workers(sandbox, redis.url, during=stop_redis_soon)
        every_item_once(sandbox.client)
    assert all(r["failed"] == 0 and r["succeeded"] == ITEMS for r in results)
    print("redis stopped:", sum(r["429"] for r in results), "429s in", sum(r["requests"] for r in results))
    # A worker that took the first burst may be done before the stop; every other one warns.
    warned = [r for r in results if r["warnings"]]
    assert len(warned) >= WORKERS // 2, results
    for r in warned:
        assert any("Redis at redis://127.0.0.1" in w and "paces itself to 1/8" in w for w in r["warnings"]), r


def test_the_workers_example_runs_as_the_readme_shows(redis_url: str) -> None:
    example = Path(__file__).parents[2] / "examples" / "workers.py"
    args = ["--workers", "3", "--items", "10", "--limit", "20", "--redis", redis_url]
    out = subprocess.run([sys.executable, str(example), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    alone, shared = out.stdout.splitlines()
    assert alone.startswith("3 workers, each pacing alone") and "30 created in" in alone
    assert shared.startswith("3 workers, sharing one limit") and "30 created in" in shared
    assert "of the token's ceiling" in shared and "429s in" in shared


if __name__ == "__main__":
    url, token, redis_url, worker, items, batch = sys.argv[1:7]
    print(json.dumps(run_worker(url, token, redis_url, int(worker), int(items), int(batch))))
