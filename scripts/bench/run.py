"""``make bench``: run every benchmark, print a table, write .bench/results.json.

Each benchmark is a ratio against a baseline measured in the same run. Each module runs in
a process of its own, so one's heap and garbage-collector state cannot slow the next.
``--quick`` runs only the modules that take under 30 s (``make bench-quick``). Exits 1
when a ratio misses its target.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
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
    bench_parse, bench_client, bench_query, bench_bulk, bench_sandbox, bench_webhooks,
    bench_workers, bench_io, bench_migrations, bench_mirror,
]  # fmt: skip
QUICK = [bench_parse, bench_webhooks, bench_migrations]
RESULTS = HERE.parents[1] / ".bench" / "results.json"


def run_alone(module: str) -> list[Result]:
    """Run one benchmark module in a fresh interpreter; its results."""
    out = subprocess.run(
        [sys.executable, __file__, "--module", module], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{module} failed (exit {out.returncode})")
    return [Result(**fields) for fields in json.loads(out.stdout.strip().splitlines()[-1])]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--module"]:  # the child: one module, its results as a JSON line
        measured = {bench.__name__: bench for bench in BENCHMARKS}[argv[1]].run()
        print(json.dumps([dataclasses.asdict(r) for r in measured]))
        return 0
    chosen = QUICK if "--quick" in argv else BENCHMARKS
    results: list[Result] = []
    for bench in chosen:
        results.extend(run_alone(bench.__name__))

    print(f"{'benchmark':<38} {'ratio':>7} {'spread':>7} {'target':>8}  status  baseline / detail")
    for r in results:
        sign = "<=" if r.better == "lower" else ">="
        target = f"{sign}{r.target:g}" if r.target is not None else "-"
        status = {True: "ok", False: "MISS", None: "info"}[r.met]
        spread = f"±{r.spread / 2:.0%}" if r.spread is not None else "-"
        print(f"{r.name:<38} {r.ratio:>7.2f} {spread:>7} {target:>8}  {status:<6}  {r.baseline}; {r.detail}")

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({r.name: r.as_json() for r in results}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parents[1])}")
    return 1 if any(r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
