"""Eight worker processes on one token: combined write throughput over the token's ceiling.

The sandbox limits writes to 100 requests a second (a token bucket of 100, full at the
start, so at most 100 + 100 x t in t seconds). Each worker creates 100 records, one per
request, starting together; with ``RedisRateLimit`` they pace as one, and the 429s they
meet are counted under the overlay's retries. The same run with each process pacing alone
is the comparison. The runs are those of ``examples/workers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _harness import Result

import overlay

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT))
import workers  # noqa: E402  (examples/workers.py: the runs the README shows)

from tests.redis_server import redis_server  # noqa: E402

LIMIT = 100.0
WORKERS = 8
ITEMS = 100


def run() -> list[Result]:
    with redis_server() as redis, overlay.Sandbox(read_rate=None, write_rate=LIMIT) as sandbox:
        shared = workers.run(sandbox, redis.url, WORKERS, ITEMS, LIMIT)
    with overlay.Sandbox(read_rate=None, write_rate=LIMIT) as sandbox:
        alone = workers.run(sandbox, "", WORKERS, ITEMS, LIMIT)
    assert shared.created == alone.created == WORKERS * ITEMS, (shared, alone)
    share = shared.limited / shared.requests
    return [
        Result(
            "shared_limit_8_workers_vs_ceiling",
            shared.of_ceiling if share <= 0.01 else 0.0,  # a run with more than 1% 429s misses
            0.9,
            f"the most a {LIMIT:.0f}/s write limit lets through (burst + rate x time)",
            better="higher",
            detail=f"RedisRateLimit: {WORKERS}x{ITEMS} one per request in {shared.seconds:.2f} s, "
            f"{shared.limited} 429s in {shared.requests} requests ({share:.1%})",
        ),
        Result(
            "per_process_limit_8_workers_vs_ceiling",
            alone.of_ceiling,
            None,
            "the same ceiling",
            better="higher",
            detail=f"each pacing alone: {alone.seconds:.2f} s, {alone.limited} 429s in {alone.requests} "
            f"requests ({alone.limited / alone.requests:.1%})",
        ),
    ]
