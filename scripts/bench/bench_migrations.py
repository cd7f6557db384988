"""Upgrading a 500-record query page from 2025-01-01 to the latest, against parsing that page.

The page (the same as the parse benchmark's) is downgraded once to 2025-01-01. Each round
then times, on freshly loaded JSON, the in-place upgrade across the two version steps (as
the transport does it) and the typed parse of the latest page; ``json.loads`` is outside
both timings.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from _harness import Result
from _page import query_page_bytes

ROUNDS = 25
OLDEST = "2025-01-01"


def _timed(fn: Callable[[Any], object], raw: bytes) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        payload = json.loads(raw)
        start = time.perf_counter()
        fn(payload)
        samples.append(time.perf_counter() - start)
    return samples


def run() -> list[Result]:
    from crm_client.models import RecordListResponse

    from overlay import migrations

    page = query_page_bytes(500)
    old = json.dumps(migrations.downgrade(json.loads(page), "RecordListResponse", to_version="2025-01-01"))
    back = migrations.upgrade(json.loads(old), "RecordListResponse", from_version="2025-01-01")
    assert [r["values"] for r in back["data"]] == [r["values"] for r in json.loads(page)["data"]]

    def upgrade(payload: Any) -> object:
        return migrations.upgrade(payload, "RecordListResponse", from_version=OLDEST, copy_payload=False)

    upgrades, parses = [], []
    for _ in range(3):  # alternate, so drift in the machine's speed hits both alike
        upgrades += _timed(upgrade, old.encode())
        parses += _timed(RecordListResponse.from_dict, page)
    up, parse = statistics.median(upgrades), statistics.median(parses)
    return [
        Result(
            "upgrade_query_page_two_versions",
            up / parse,
            0.5,
            "the typed parse of the same page",
            detail=f"{up * 1e3:.1f} ms vs {parse * 1e3:.1f} ms (500 records, {OLDEST} → latest, in place)",
        )
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
