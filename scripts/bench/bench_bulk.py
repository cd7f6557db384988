"""Bulk writes: throughput against a write limit, a naive loop for comparison, and memory.

The sandbox limits writes to 200 requests a second (a token bucket of 200); ``bulk.create``
with one item per request should reach that ceiling without a 429 reaching it. The naive loop creates the
same items one by one with a client that does not pace itself. Memory: peak RSS of a
client process that streams 100,000 items through ``bulk.create`` (batches of 100) from
a generator to a sandbox in another process, against one that streams 10,000.
"""

from __future__ import annotations

import subprocess
import sys
import time

from _harness import Result

import overlay

LIMIT = 200.0
N = 1000
# The child reads its own high-water mark from /proc: ru_maxrss would report the parent's (the
# sandbox's) size, because Linux carries the maximum across the exec of a spawned process.
MEMORY = """
import sys, overlay
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with overlay.Client(api_key=token, base_url=url) as crm:
    report = crm.bulk.create("companies", ({"name": f"Mem {n} {i:06d}"} for i in range(n)), key="name")
    assert report.succeeded == n, report
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def _throughput() -> list[Result]:
    with overlay.Sandbox(read_rate=None, write_rate=LIMIT) as sb, sb.connect() as crm:
        start = time.perf_counter()
        report = crm.bulk.create("companies", ({"name": f"Paced {i}"} for i in range(N)), batch_size=1)
        elapsed = time.perf_counter() - start
        # A token bucket of size LIMIT, full at the start, lets through at most LIMIT + LIMIT * t.
        ceiling = LIMIT + LIMIT * elapsed
        paced = N / elapsed
        assert report.succeeded == N and report.failed == 0, report
        with sb.connect(rate_limit=False, max_retries=10) as naive:
            start = time.perf_counter()
            for i in range(N // 4):
                naive.records("companies").create({"name": f"Naive {i}"})
            naive_elapsed = time.perf_counter() - start
            naive_rate = (N // 4) / naive_elapsed
    return [
        Result(
            "bulk_throughput_vs_write_limit",
            N / ceiling,
            0.9,
            f"the most a {LIMIT:.0f}/s write limit lets through (burst + rate x time)",
            better="higher",
            detail=f"{N} items one per request in {elapsed:.2f} s ({paced:.0f}/s), 0 failed",
        ),
        Result(
            "bulk_naive_loop_vs_write_limit",
            (N // 4) / (LIMIT + LIMIT * naive_elapsed),
            None,
            "the same ceiling",
            better="higher",
            detail=f"{naive_rate:.0f} items/s: create() in a loop, no pacing (429s, then Retry-After)",
        ),
    ]


def _memory() -> Result:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb:  # the server's memory is not the client's

        def peak(n: int) -> float:
            command = [sys.executable, "-c", MEMORY, sb.url, sb.token, str(n)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            return int(out.stdout.split()[-1]) / 1024  # VmHWM is in KiB

        small, large = peak(10_000), peak(100_000)
    detail = f"peak RSS {large:.0f} MB for 100,000 items vs {small:.0f} MB for 10,000 (the client's process)"
    return Result(
        "bulk_peak_rss_100k_vs_10k", large / small, None, "the same for 10,000 items", detail=detail
    )


def run() -> list[Result]:
    return [*_throughput(), _memory()]
