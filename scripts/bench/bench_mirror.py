"""The mirror following the change feed: how fast it applies events, and how far behind it runs.

Apply: 20,000 ``record.updated`` events (100 rounds of batch upserts over 200 companies) are
read from the feed and applied into SQLite by one ``mirror.run()``; the figure is events per
second against the 5,000/s target.

Lag: a mirror follows (long polls) in a thread while this process creates a record every
20 ms; for each, the time from the write's answer to its row in the SQLite file. The row is
p99 lag against the 1 s target.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from _harness import Result

import overlay
from overlay.mirror import Mirror

COMPANIES = 200
ROUNDS = 100
WRITES = 200


def _upserts(first: int, round: int) -> list[dict[str, object]]:
    return [
        {"operation": "upsert", "matching_attribute": "domains",
         "values": {"name": f"Co {i} r{round}", "domains": [f"co{i}.example"]}}
        for i in range(first, first + 100)
    ]  # fmt: skip


def _apply_rate(folder: Path) -> tuple[float, int]:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        companies = crm.records("companies")
        for first in range(0, COMPANIES, 100):
            companies.batch(_upserts(first, 0))
        with Mirror(crm, f"sqlite:///{folder}/apply.db", objects=["companies"], lists=[]) as mirror:
            mirror.run()
            for round in range(1, ROUNDS + 1):
                for first in range(0, COMPANIES, 100):
                    companies.batch(_upserts(first, round))
            started = time.perf_counter()
            report = mirror.run()
            elapsed = time.perf_counter() - started
    return report.events_applied / elapsed, report.events_applied


def _lags(folder: Path) -> list[float]:
    url = f"sqlite:///{folder}/follow.db"
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        mirror = Mirror(crm, url, objects=["companies"], lists=[])
        mirror.run()
        stop = threading.Event()
        follower = threading.Thread(target=mirror.follow, kwargs={"wait": 30, "stop": stop.is_set})
        follower.start()
        reader = sa.create_engine(url)
        lags = []
        try:
            for n in range(WRITES):
                record = crm.records("companies").create({"name": f"Lag {n}"})
                written = time.perf_counter()
                query = sa.text("SELECT 1 FROM companies WHERE record_id = :id")
                while True:
                    with reader.connect() as connection:
                        if connection.execute(query, {"id": record.id}).first():
                            break
                    time.sleep(0.002)
                lags.append(time.perf_counter() - written)
                time.sleep(0.02)
        finally:
            stop.set()
            crm.records("companies").create({"name": "wakes the last long poll"})
            follower.join(timeout=60)
            reader.dispose()
            mirror.close()
    return sorted(lags)


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        rate, applied = _apply_rate(Path(folder))
        lags = _lags(Path(folder))
    p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99) - 1]
    return [
        Result(
            "mirror_apply_events_per_s_vs_5000",
            rate / 5000,
            1.0,
            "the 5,000 events/s target",
            better="higher",
            detail=f"{applied:,} record.updated events read from the feed and applied into SQLite "
            f"at {rate:,.0f}/s",
        ),
        Result(
            "mirror_follow_lag_p99_vs_1s",
            p99,
            1.0,
            "the 1 s budget",
            detail=f"write answered → row in SQLite, {len(lags)} writes: p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms",
        ),
    ]
