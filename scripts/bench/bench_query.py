"""Iterating a query through the overlay against the same pages fetched raw.

The same filter, page size and offsets on the same sandbox: raw httpx posts each page and
decodes its JSON; the overlay's query builds the filter from an expression, checks it (the
metadata is cached after the first run), pages, and yields ``Record`` objects, which parse
an attribute's values when first read. A second row reads one value of every record.
"""

from __future__ import annotations

import httpx
from _harness import Result, median_times

import overlay
from overlay import F

N_RECORDS = 2000
PAGE = 500


def run() -> list[Result]:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        companies = crm.records("companies")
        for start in range(0, N_RECORDS, 100):
            items = [
                {"operation": "create", "values": {"name": f"Bench {i:05d}"}}
                for i in range(start, start + 100)
            ]
            companies.batch(items)
        query = companies.where(F.name.starts_with("Bench"))
        raw = httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}"})
        body = {"filter": {"name": {"$starts_with": "Bench"}}}

        def raw_pages() -> int:
            seen, offset = 0, 0
            while True:
                page = raw.post(
                    "/v2/objects/companies/records/query", json={**body, "limit": PAGE, "offset": offset}
                )
                data = page.json()["data"]
                seen += len(data)
                if len(data) < PAGE:
                    return seen
                offset += PAGE

        def overlay_pages() -> int:
            return sum(1 for _ in query)

        def overlay_names() -> int:
            return sum(1 for record in query if record["name"])

        assert raw_pages() == overlay_pages() == overlay_names() == N_RECORDS
        times = median_times({"overlay": overlay_pages, "raw": raw_pages, "names": overlay_names}, rounds=21)
        raw.close()
    ratio = times["overlay"] / times["raw"]
    overlay_ms, raw_ms = times["overlay"] * 1e3, times["raw"] * 1e3
    detail = f"{overlay_ms:.0f} ms vs {raw_ms:.0f} ms for {N_RECORDS} records in pages of {PAGE}"
    names_ms = times["names"] * 1e3
    return [
        Result("query_iteration", ratio, 1.2, "raw httpx page loop + json(), same sandbox", detail=detail),
        Result(
            "query_iteration_reading_a_value",
            times["names"] / times["raw"],
            None,
            "raw httpx page loop + json(), same sandbox",
            detail=f"{names_ms:.0f} ms: the same, reading rec['name'] (one typed value) of every record",
        ),
    ]
