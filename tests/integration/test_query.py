"""Queries against the sandbox: the builder, its async forms, checks before sending, the CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import overlay
from overlay import F
from overlay.cli import main


@pytest.fixture(scope="module")
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb:
        yield sb


def test_a_query_is_immutable_and_pages_on_its_own(sandbox: overlay.Sandbox) -> None:
    people = sandbox.client.records("people")
    base = people.where(F.email_addresses.is_set())
    narrowed = base.where("email_addresses.email_domain = 'analytical.example'").order_by("-name")
    assert base.filter_json() == {"email_addresses": {"$not_empty": True}}
    assert narrowed.pluck("name") == ["Charles Babbage", "Ada Lovelace"]
    assert [r["name"] for r in narrowed.limit(1)] == ["Charles Babbage"]
    assert narrowed.count() == 2 and narrowed.exists() and not people.where(F.name == "Nobody").exists()
    first = narrowed.order_by("name.last_name").first()  # after -name: ties only
    assert first is not None and first["name"] == "Charles Babbage"
    assert people.order_by("name.last_name").pluck("name", "job_title")[0][0] == "Charles Babbage"
    assert repr(narrowed).startswith("records('people').where(")
    page_sizes = [len(p.items) for p in people.where().limit(3).pages()]
    assert page_sizes == [3]


def test_include_and_paths(sandbox: overlay.Sandbox) -> None:
    people = sandbox.client.records("people")
    query = people.where(F.company.via("companies").name.starts_with("Analytical")).include("company")
    assert {p["company"]["name"] for p in query} == {"Analytical Engines"}


def test_aggregates_stream_over_every_match(sandbox: overlay.Sandbox) -> None:
    deals = sandbox.client.records("deals")
    everything = deals.where().aggregate("count", "sum(value)", "min(value)", "max(value)", "avg(value)")
    assert everything["count"] == deals.where().count() >= 1
    assert everything["min(value)"] <= everything["avg(value)"] <= everything["max(value)"]
    grouped = deals.where().aggregate("count", group_by="stage")
    assert sum(row["count"] for row in grouped.values()) == everything["count"]
    with pytest.raises(overlay.InvalidArgumentError, match="Cannot aggregate"):
        deals.where().aggregate("median(value)")


def test_filters_are_checked_before_sending(sandbox: overlay.Sandbox) -> None:
    sent: list[str] = []
    with sandbox.connect(on_request=[lambda r: sent.append(r.url.path)]) as crm:
        crm.metadata.attributes("people")  # warm the cache: the checks below send nothing more
        crm.metadata.objects()
        sent.clear()
        with pytest.raises(overlay.InvalidArgumentError, match="Did you mean 'email_addresses'"):
            crm.records("people").where("emial_addresses.email_domain = 'x'").first()
        with pytest.raises(overlay.InvalidArgumentError, match="does not apply to 'name'"):
            crm.records("people").where(F.name > 3).first()
        assert sent == []
        assert crm.records("people").where(F.created_at >= "1 January 2020").count() == 4


def test_the_async_forms(sandbox: overlay.Sandbox) -> None:
    async def run() -> tuple[list[str], int, bool, dict[str, object]]:
        async with sandbox.connect_async() as crm:
            query = crm.records("people").where("name ~ 'a'").order_by("name")
            names = [r["name"] async for r in query]
            return names, await query.count(), await query.exists(), await query.aggregate("count")

    names, count, exists, totals = asyncio.run(run())
    assert names == sorted(names) and count == len(names) and exists and totals == {"count": count}


def test_the_cli_prints_json_lines_and_tables(capsys: pytest.CaptureFixture[str]) -> None:
    where = "email_addresses.email_domain = 'analytical.example'"
    assert main(["query", "people", "--sandbox", "--where", where, "--order", "-name", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [json.loads(line)["values"]["name"][0]["full_name"] for line in lines]
    assert names == ["Charles Babbage", "Ada Lovelace"]
    assert main(["query", "people", "--sandbox", "--limit", "1", "--columns", "name"]) == 0
    table = capsys.readouterr().out
    assert "record_id" in table and "name" in table and table.count("Ada Lovelace") == 1
    assert main(["query", "people", "--sandbox", "--where", "nmae = 'x'"]) == 2
    assert "Did you mean 'name'?" in capsys.readouterr().err
