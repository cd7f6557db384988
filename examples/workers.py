"""N worker processes sharing one API token: first each pacing alone, then through Redis.

    python examples/workers.py                 # 8 workers; starts a sandbox and a redis-server
    python examples/workers.py --workers 4 --redis redis://localhost:6379/0

Every worker creates ``--items`` companies, one per request, against a sandbox whose token may
write ``--limit`` times a second. It prints each run's time, throughput against the token's
ceiling, and the 429s the workers met (counted under the SDK's retries). Needs the ``redis``
and ``sandbox`` extras; without ``--redis`` it needs Debian's ``redis-server`` on the PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import ClassVar, NamedTuple

import httpx

import overlay


class Counting(httpx.HTTPTransport):
    """The innermost transport: sees every attempt, so every 429, under the SDK's retries."""

    statuses: ClassVar[list[int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response


def worker(url: str, token: str, redis_url: str, name: str, items: int, go: float) -> None:
    """One worker process: what any of your processes does, with the shared limit or not."""
    rate_limit = overlay.RedisRateLimit(redis_url) if redis_url else True
    with overlay.Client(api_key=token, base_url=url, rate_limit=rate_limit, transport=Counting()) as crm:
        crm.metadata.attributes("companies")
        time.sleep(max(0.0, go - time.time()))  # start together
        report = crm.bulk.create(
            "companies", ({"name": f"{name} {i}"} for i in range(items)), key="name", batch_size=1
        )
    ended = time.time()
    print(json.dumps({"created": report.succeeded, "statuses": Counting.statuses, "ended": ended}))


class Run(NamedTuple):
    """What one run of the workers got."""

    created: int
    seconds: float
    requests: int
    limited: int  # the 429s among the requests
    of_ceiling: float  # created over the most the token's limit lets through in that time

    def __str__(self) -> str:
        return (
            f"{self.created} created in {self.seconds:.1f} s: {self.of_ceiling:.2f} of the token's "
            f"ceiling, {self.limited} 429s in {self.requests} requests"
        )


def run(sandbox: overlay.Sandbox, redis_url: str, workers: int, items: int, limit: float) -> Run:
    """Start ``workers`` processes together on the sandbox's token (sharing the limit through
    ``redis_url``, or each pacing alone when it is empty); what they got."""
    go = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", sandbox.url, sandbox.token, redis_url,
             f"{'shared' if redis_url else 'alone'}-{n}", str(items), repr(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]  # fmt: skip
    outs = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"a worker failed (exit {proc.returncode}); its error is above")
        outs.append(json.loads(out))
    elapsed = max(out["ended"] for out in outs) - go
    statuses = [status for out in outs for status in out["statuses"]]
    created = sum(out["created"] for out in outs)
    ceiling = limit + limit * elapsed  # a full bucket, then the rate
    return Run(created, elapsed, len(statuses), statuses.count(429), created / ceiling)


@contextlib.contextmanager
def local_redis() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, persistence off."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("No --redis URL and no redis-server on the PATH (apt-get install redis-server).")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        url, token, redis_url, name, items, go = sys.argv[2:8]
        worker(url, token, redis_url, name, int(items), float(go))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--items", type=int, default=50, help="records each worker creates")
    parser.add_argument("--limit", type=float, default=50.0, help="the token's writes per second")
    parser.add_argument("--redis", help="a Redis URL (default: start a redis-server)")
    args = parser.parse_args()
    if args.redis:
        try:
            overlay.RedisRateLimit(args.redis)  # a URL that cannot work fails here, not in 2N workers
        except overlay.ConfigurationError as exc:
            sys.exit(f"--redis: {exc}")
    with contextlib.ExitStack() as stack:
        redis_url = args.redis or stack.enter_context(local_redis())
        for label, shared in (("each pacing alone   ", ""), ("sharing one limit   ", redis_url)):
            with overlay.Sandbox(read_rate=None, write_rate=args.limit) as sandbox:
                outcome = run(sandbox, shared, args.workers, args.items, args.limit)
                print(f"{args.workers} workers, {label}", outcome)


if __name__ == "__main__":
    main()
