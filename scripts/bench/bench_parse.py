"""Typed parse of a 500-record query page, against json.loads of the same bytes.

Compares the generated client (our templates) with the same spec generated from the
stock openapi-python-client templates.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

from _harness import Result, cpu_times
from _page import query_page_bytes

ROOT = Path(__file__).resolve().parents[2]
STOCK_DIR = ROOT / ".bench" / "stock"


def stock_models() -> ModuleType:
    """The same spec generated with the stock templates, importable as crm_client_stock."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import regen

    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    regen.generate(regen.latest_spec(), STOCK_DIR / "crm_client_stock", templates=None)
    sys.path.insert(0, str(STOCK_DIR))
    return importlib.import_module("crm_client_stock.models")


def run() -> list[Result]:
    from crm_client.models import RecordListResponse

    page = query_page_bytes(500)
    assert RecordListResponse.from_dict(json.loads(page)).to_dict() == json.loads(page)
    # Ours first, before the stock client is loaded: a second generated client in the heap
    # slows every garbage collection, and a user's process holds only ours.
    times = cpu_times(
        {"json": lambda: json.loads(page), "ours": lambda: RecordListResponse.from_dict(json.loads(page))},
        rounds=31,
    )
    stock = stock_models().RecordListResponse
    stock_times = cpu_times(
        {"json": lambda: json.loads(page), "stock": lambda: stock.from_dict(json.loads(page))}, rounds=11
    )
    size = f"{len(page) / 1e6:.1f} MB, 500 records x 10 attributes"
    ours, spread = times.ratio("ours", "json")
    theirs, stock_spread = stock_times.ratio("stock", "json")
    return [
        Result(
            "parse_query_page",
            ours,
            2.0,
            "json.loads of the same bytes",
            detail=f"{times.best['ours'] * 1e3:.1f} ms vs {times.best['json'] * 1e3:.1f} ms CPU ({size})",
            spread=spread,
        ),
        Result(
            "parse_query_page_stock_templates",
            theirs,
            None,
            "json.loads of the same bytes",
            detail=f"{stock_times.best['stock'] * 1e3:.1f} ms CPU: the stock generator, for comparison",
            spread=stock_spread,
        ),
    ]
