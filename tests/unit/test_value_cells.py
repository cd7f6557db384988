"""One value object, two shapes: the export's plain cell and the mirror's typed cells."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from overlay.io import ExportColumn, flatten_record, value_cells

VALUES: list[tuple[dict[str, Any], Any, tuple[Any, ...]]] = [
    # (value object, export cell, mirror cells)
    (
        {"attribute_type": "currency", "amount_minor": 1250, "currency_code": "EUR"},
        "12.50 EUR",
        (1250, "EUR"),
    ),
    (
        {
            "attribute_type": "personal-name",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "full_name": "Ada Lovelace",
        },
        "Ada Lovelace",
        ("Ada", "Lovelace", "Ada Lovelace"),
    ),
    (
        {"attribute_type": "record-reference", "target_object": "companies", "target_record_id": "c1"},
        "c1",
        ("c1",),
    ),
    ({"attribute_type": "date", "value": "2026-05-01"}, "2026-05-01", (dt.date(2026, 5, 1),)),
    (
        {"attribute_type": "timestamp", "value": "2026-05-01T10:00:00+02:00"},
        "2026-05-01T10:00:00+02:00",
        (dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC),),
    ),
    ({"attribute_type": "select", "option": {"id": {"option_id": "o1"}, "title": "Gold"}}, "Gold", ("Gold",)),
    (
        {"attribute_type": "email-address", "email_address": "ada@example.com"},
        "ada@example.com",
        ("ada@example.com",),
    ),
    ({"attribute_type": "checkbox", "value": True}, True, (True,)),
]


@pytest.mark.parametrize(("value", "cell", "cells"), VALUES, ids=[v[0]["attribute_type"] for v in VALUES])
def test_a_value_reads_the_same_in_an_export_and_a_mirror(
    value: dict[str, Any], cell: Any, cells: Any
) -> None:
    record = {"id": {"record_id": "r1"}, "values": {"x": [value]}}
    assert flatten_record(record, [ExportColumn("x", "first", "string")]) == [cell]
    assert value_cells(value["attribute_type"], value) == cells


def test_a_type_the_sdk_does_not_know_becomes_its_json() -> None:
    value = {"attribute_type": "hologram", "depth": 3, "created_by_actor": {"type": "user"}}
    assert json.loads(value_cells("hologram", value)[0]) == {"attribute_type": "hologram", "depth": 3}
