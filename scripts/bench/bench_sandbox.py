"""The sandbox: a filtered query of 500 of 100k records, and records created per second.

The query is timed in the server (the handler's work, no HTTP) against a 50 ms budget.
Creation is timed over loopback HTTP: single creates, then the batch endpoint.
"""

from __future__ import annotations

import statistics
import time

import httpx
from _harness import Result
from crm_sandbox import SandboxConfig
from crm_sandbox.app import Sandbox
from crm_sandbox.records import Records
from crm_sandbox.server import SandboxServer

N_RECORDS = 100_000
DOMAINS = 200  # 100k / 200 = 500 records per email domain
SYSTEM = ("system", None)


def _filled_sandbox() -> Sandbox:
    sandbox = Sandbox(SandboxConfig())
    people = Records(sandbox.store, sandbox.catalog, "people")
    values = people.values
    with sandbox.store.transaction():
        for i in range(N_RECORDS):
            record_id = f"{i:08d}-0000-4000-8000-000000000000"
            sandbox.store.db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?)",
                (
                    record_id,
                    people.object["id"],
                    f"2026-01-01T00:00:{i % 60:02d}.{i:06d}+00:00",
                    f"2026-01-01T00:00:{i % 60:02d}.{i:06d}+00:00",
                ),
            )
            coerced = values.coerce(
                {
                    "name": {"first_name": f"First{i}", "last_name": f"Last{i}"},
                    "email_addresses": [f"person{i}@acme{i % DOMAINS}.example"],
                    "job_title": ["Engineer", "Designer", "Manager", "Analyst"][i % 4],
                }
            )
            values.write(record_id, coerced, "replace", SYSTEM, new=True)
    return sandbox


def _query_ms(sandbox: Sandbox, rounds: int = 15) -> tuple[float, int]:
    people = Records(sandbox.store, sandbox.catalog, "people")
    body = {"filter": {"email_addresses": {"email_domain": "acme7.example"}}, "limit": 500}
    times, count = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        with sandbox.store.lock:
            count = len(people.query(body))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, count


def _create_rates() -> tuple[float, float]:
    """Records per second: single creates, and batches of 100, over loopback HTTP."""
    with SandboxServer(SandboxConfig(read_rate=None, write_rate=None)) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers) as api:
            start, n = time.perf_counter(), 500
            for i in range(n):
                api.post("/v2/objects/people/records", json={"data": {"values": {"name": f"Single {i}"}}})
            single = n / (time.perf_counter() - start)
            start, batches = time.perf_counter(), 20
            for b in range(batches):
                items = [{"operation": "create", "values": {"name": f"Batch {b}-{i}"}} for i in range(100)]
                response = api.post("/v2/objects/people/records/batch", json={"data": {"items": items}})
                assert all(r["status"] == "created" for r in response.json()["data"]["results"])
            batch = batches * 100 / (time.perf_counter() - start)
    return single, batch


def run() -> list[Result]:
    start = time.perf_counter()
    sandbox = _filled_sandbox()
    fill = time.perf_counter() - start
    ms, count = _query_ms(sandbox)
    assert count == N_RECORDS // DOMAINS, count
    single, batch = _create_rates()
    return [
        Result(
            "sandbox_filtered_query_500_of_100k",
            ms / 50.0,
            1.0,
            "the 50 ms budget",
            detail=f"{ms:.1f} ms in the server for {count} of {N_RECORDS:,} records (filled in {fill:.0f} s)",
        ),
        Result(
            "sandbox_create_batch_vs_single",
            batch / single,
            None,
            "single creates over loopback HTTP",
            better="higher",
            detail=f"{single:,.0f} records/s single, {batch:,.0f} records/s in batches of 100",
        ),
    ]
