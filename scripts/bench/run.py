"""``make bench``: run every benchmark, print a table, write .bench/results.json.

Each benchmark is a ratio against a baseline measured in the same run. Exits 1 when a
ratio misses its target.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_bulk  # noqa: E402
import bench_client  # noqa: E402
import bench_io  # noqa: E402
import bench_migrations  # noqa: E402
import bench_mirror  # noqa: E402
import bench_parse  # noqa: E402
import bench_query  # noqa: E402
import bench_sandbox  # noqa: E402
import bench_webhooks  # noqa: E402
import bench_workers  # noqa: E402
from _harness import Result  # noqa: E402

BENCHMARKS = [
    bench_parse, bench_client, bench_query, bench_bulk,
    bench_sandbox, bench_webhooks, bench_workers, bench_io, bench_migrations, bench_mirror,
]  # fmt: skip
RESULTS = HERE.parents[1] / ".bench" / "results.json"


def main() -> int:
    results: list[Result] = []
    for bench in BENCHMARKS:
        results.extend(bench.run())

    print(f"{'benchmark':<36} {'ratio':>7} {'target':>8}  status  baseline / detail")
    for r in results:
        sign = "<=" if r.better == "lower" else ">="
        target = f"{sign}{r.target:g}" if r.target is not None else "-"
        status = {True: "ok", False: "MISS", None: "info"}[r.met]
        print(f"{r.name:<36} {r.ratio:>7.2f} {target:>8}  {status:<6}  {r.baseline}; {r.detail}")

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({r.name: r.as_json() for r in results}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parents[1])}")
    return 1 if any(r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
