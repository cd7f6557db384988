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

from _harness import Result, median_times
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
    times = median_times(
        {"json": lambda: json.loads(page), "ours": lambda: RecordListResponse.from_dict(json.loads(page))}
    )
    stock = stock_models().RecordListResponse
    stock_times = median_times(
        {"json": lambda: json.loads(page), "stock": lambda: stock.from_dict(json.loads(page))}
    )
    size = f"{len(page) / 1e6:.1f} MB, 500 records x 10 attributes"
    return [
        Result(
            "parse_query_page",
            times["ours"] / times["json"],
            3.0,
            "json.loads of the same bytes",
            detail=f"{times['ours'] * 1e3:.1f} ms vs {times['json'] * 1e3:.1f} ms ({size})",
        ),
        Result(
            "parse_query_page_stock_templates",
            stock_times["stock"] / stock_times["json"],
            None,
            "json.loads of the same bytes",
            detail=f"{stock_times['stock'] * 1e3:.1f} ms: the stock generator, for comparison",
        ),
    ]
