"""Counts in the server (2026-12-01) agree with counting every page (older versions)."""

from __future__ import annotations

import random

import pytest

import overlay
from overlay import F

FILTERS = [
    None,
    "name ~ 'Co'",
    "employees >= 50",
    F.employees < 20,
    {"$or": [{"name": {"$starts_with": "Co 1"}}, {"employees": {"$gte": 90}}]},
]


def test_a_count_in_the_server_equals_a_count_of_every_page() -> None:
    rng = random.Random(5)
    with overlay.Sandbox(read_rate=None, write_rate=None, seed_data=True) as sb:
        crm, old = sb.client, sb.connect(api_version="2026-04-01")
        crm.attributes.create("companies", title="Employees", api_slug="employees", type="number")
        for start in range(0, 1200, 100):  # more than a page
            crm.records("companies").batch(
                [
                    {"operation": "create", "values": {"name": f"Co {i}", "employees": rng.randrange(100)}}
                    for i in range(start, start + 100)
                ]
            )
        for given in FILTERS:
            query = (
                crm.records("companies").where(given)
                if given is not None
                else crm.records("companies").where()
            )
            server, streamed = query.count(), old.records("companies").count(given)
            assert server == streamed, given
        assert crm.records("companies").where("employees >= 50").limit(7).count() == 7
        assert crm.records("companies").with_raw_response.count().parse() == 1203
        crm.lists.create(name="Sales", api_slug="sales", parent_objects=["companies"])
        for record in crm.records("companies").where("name ~ 'Co 11'"):
            crm.entries("sales").create(parent_object="companies", parent_record_id=record.id)
        assert (
            crm.entries("sales").count() == old.entries("sales").count() == 111
        )  # Co 11, 110-119, 1100-1199
        with pytest.raises(overlay.InvalidArgumentError, match="Did you mean 'employees'"):
            crm.records("companies").where("employes > 1").count()
        with pytest.raises(overlay.BadRequestError, match="Unknown attribute 'employes'"):
            crm.records("companies").count({"employes": {"$gt": 1}})
