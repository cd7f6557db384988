"""Eight worker processes on one token: combined write throughput over the token's ceiling.

The sandbox limits writes to 100 requests a second (a token bucket of 100, full at the
start, so at most 100 + 100 x t in t seconds). Each worker creates 100 records, one per
request, starting together; with ``RedisRateLimit`` they pace as one, and the 429s they
meet are counted under the overlay's retries. The same run with each process pacing alone
is the comparison.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from _harness import Result

import overlay

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.redis_server import redis_server

LIMIT = 100.0
WORKERS = 8
ITEMS = 100
WORKER = """
import json, sys, time, httpx, overlay
url, token, redis_url, worker, items, go = sys.argv[1:7]
class Counting(httpx.HTTPTransport):
    statuses = []
    def handle_request(self, request):
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response
limit = True if redis_url == "local" else overlay.RedisRateLimit(redis_url)
options = dict(api_key=token, base_url=url, rate_limit=limit, max_retries=30, transport=Counting())
with overlay.Client(**options) as crm:
    crm.metadata.attributes("companies")  # the run's first read, before the clock starts
    time.sleep(max(0.0, float(go) - time.time()))
    report = crm.bulk.create(
        "companies", ({"name": f"{worker}-{i}"} for i in range(int(items))), key="name", batch_size=1
    )
    ended = time.time()
print(json.dumps({"ok": report.succeeded, "requests": len(Counting.statuses),
                  "limited": Counting.statuses.count(429), "ended": ended}))
"""


def _run(sandbox: overlay.Sandbox, redis_url: str) -> tuple[float, int, int, float]:
    """(items per ceiling, requests, 429s, seconds) for one run of the workers."""
    go = time.time() + 3.0  # every worker has started and read its metadata by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, sandbox.url, sandbox.token, redis_url, f"{redis_url[:5]}{n}",
             str(ITEMS), repr(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]  # fmt: skip
    outs = [json.loads(proc.communicate(timeout=600)[0]) for proc in procs]
    assert all(out["ok"] == ITEMS for out in outs), outs
    elapsed = max(out["ended"] for out in outs) - go
    ceiling = LIMIT + LIMIT * elapsed
    requests, limited = sum(o["requests"] for o in outs), sum(o["limited"] for o in outs)
    return WORKERS * ITEMS / ceiling, requests, limited, elapsed


def run() -> list[Result]:
    with redis_server() as redis, overlay.Sandbox(read_rate=None, write_rate=LIMIT) as sandbox:
        shared, requests, limited, elapsed = _run(sandbox, redis.url)
    with overlay.Sandbox(read_rate=None, write_rate=LIMIT) as sandbox:
        alone, alone_requests, alone_limited, alone_elapsed = _run(sandbox, "local")
    share = limited / requests
    return [
        Result(
            "shared_limit_8_workers_vs_ceiling",
            shared if share <= 0.01 else 0.0,  # a run with more than 1% 429s misses
            0.9,
            f"the most a {LIMIT:.0f}/s write limit lets through (burst + rate x time)",
            better="higher",
            detail=f"RedisRateLimit: {WORKERS}x{ITEMS} one per request in {elapsed:.2f} s, "
            f"{limited} 429s in {requests} requests ({share:.1%})",
        ),
        Result(
            "per_process_limit_8_workers_vs_ceiling",
            alone,
            None,
            "the same ceiling",
            better="higher",
            detail=f"each pacing alone: {alone_elapsed:.2f} s, {alone_limited} 429s in {alone_requests} "
            f"requests ({alone_limited / alone_requests:.1%})",
        ),
    ]
