"""The client: a ``get`` round trip against raw httpx, and what ``import overlay`` costs.

The round trip is the same GET of one record on the same sandbox: raw httpx sends it and
decodes the JSON; the overlay sends it through its transport stack and returns a typed
``Record``. Import times are medians of fresh interpreters, against ``python -c pass``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import httpx
from _harness import Result, median_times

import overlay

IMPORT_RUNS = 15


def _round_trip() -> Result:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        people = crm.records("people")
        ada = people.query({"name": "Ada Lovelace"}).first()
        assert ada is not None
        raw = httpx.Client(
            base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}", "CRM-Version": "2026-12-01"}
        )
        path = f"/v2/objects/people/records/{ada.id}"

        def raw_get() -> object:
            response = raw.get(path)
            response.raise_for_status()
            return response.json()

        times = median_times({"overlay": lambda: people.get(ada.id), "httpx": raw_get}, rounds=400)
        raw.close()
    ratio = times["overlay"] / times["httpx"]
    overlay_ms, httpx_ms = times["overlay"] * 1e3, times["httpx"] * 1e3
    detail = f"{overlay_ms:.2f} ms vs {httpx_ms:.2f} ms (typed Record vs decoded JSON)"
    return Result("client_get_round_trip", ratio, 1.15, "raw httpx GET + json(), same sandbox", detail=detail)


def _startup(code: str) -> float:
    times = []
    for _ in range(IMPORT_RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _imports() -> list[Result]:
    bare = _startup("pass")
    plain = _startup("import overlay")
    client = _startup("import overlay; overlay.Client")
    extra_ms = (plain - bare) * 1e3
    client_ms = (client - bare) * 1e3
    return [
        Result(
            "import_overlay_extra_ms",
            extra_ms,
            150,
            "python -c pass",
            detail=f"{plain * 1e3:.0f} ms vs {bare * 1e3:.0f} ms (the ratio column is the extra ms)",
        ),
        Result(
            "import_overlay_client_extra_ms",
            client_ms,
            None,
            "python -c pass",
            detail=f"import overlay and load overlay.Client (httpx, endpoints): {client * 1e3:.0f} ms",
        ),
    ]


def run() -> list[Result]:
    return [_round_trip(), *_imports()]
