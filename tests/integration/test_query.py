"""Queries against the sandbox: the builder, its async forms, checks before sending, the CLI."""

from __future__ import annotations

import asyncio
import datetime
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


def test_the_documented_text_queries_run_and_null_reads_as_empty(sandbox: overlay.Sandbox) -> None:
    people = sandbox.client.records("people")
    documented = [
        "name ~ 'ada' and (job_title ~ 'engineer' or email_addresses.email_domain = 'acme.com') and not "
        "email_addresses.email_domain in ['spam.com', 'junk.com']",
        "company->companies.name ^= 'Ac' and phone_numbers is set and `description` != null",
    ]
    for text in documented:
        people.where(text).to_list()  # the API answers each (a 4xx would raise)
    described = people.where("description != null").count()
    assert described == people.where("description is set").count()
    assert described + people.where("`description` = null").count() == people.where().count()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("employee_count > 1e999", "a finite number of at most 4300 digits"),
        ("employee_count > " + "9" * 5001, "a finite number of at most 4300 digits"),
        ("(" * 3000 + "name = 'x'" + ")" * 3000, "at most 24 nested parentheses and 'not's"),
    ],
)
def test_text_queries_json_cannot_carry_are_syntax_errors(
    sandbox: overlay.Sandbox, text: str, expected: str
) -> None:
    with pytest.raises(overlay.QuerySyntaxError, match=expected):
        sandbox.client.records("companies").where(text).first()
    with pytest.raises(overlay.InvalidArgumentError, match="nan is not a finite number"):
        sandbox.client.records("companies").where(F.employee_count > float("nan")).first()


def test_sorts_includes_and_aggregates_are_checked_before_sending(sandbox: overlay.Sandbox) -> None:
    sent: list[str] = []
    with sandbox.connect(on_request=[lambda r: sent.append(r.url.path)]) as crm:
        for object in ("people", "companies"):
            crm.metadata.attributes(object)
        crm.metadata.objects()
        sent.clear()
        people, companies = crm.records("people").where(), crm.records("companies").where()
        with pytest.raises(overlay.InvalidArgumentError, match="Did you mean 'created_at'"):
            people.order_by("-craeted_at").first()
        with pytest.raises(
            overlay.InvalidArgumentError, match=r"Cannot include 'compnay'.*Did you mean 'company'"
        ):
            people.include("compnay").to_list()
        with pytest.raises(overlay.InvalidArgumentError, match=r"'job_title'.*not a record reference"):
            people.include("job_title").first()
        with pytest.raises(overlay.InvalidArgumentError, match="Did you mean 'employee_count'"):
            companies.aggregate("sum(employe_count)")
        with pytest.raises(overlay.InvalidArgumentError, match="sum takes a number"):
            companies.aggregate("sum(name)")
        assert sent == []
        assert companies.aggregate("sum(employee_count)") == {"sum(employee_count)": 42 + 120 + 15}


def test_a_reference_reads_as_its_target_id_and_groups_by_it(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    analytical = crm.records("companies").where(F.name == "Analytical Engines").first()
    assert analytical is not None
    ada = crm.records("people").where(F.name == "Ada Lovelace").first()
    assert ada is not None and ada.first("company") == analytical.id == ada["company"]
    grouped = crm.records("people").where().include("company").aggregate("count", group_by="company")
    assert grouped[analytical.id] == {"count": 2} and sum(g["count"] for g in grouped.values()) == 4


def test_an_included_reference_to_a_deleted_record_reads_as_none(sandbox: overlay.Sandbox) -> None:
    crm = sandbox.client
    doomed = crm.records("companies").create({"name": "Doomed Ltd"})
    deal = crm.records("deals").create({"name": "Lost cause", "associated_company": doomed.id})
    crm.records("companies").delete(doomed.id)
    fetched = crm.records("deals").where(F.record_id == deal.id).include("associated_company").first()
    assert fetched is not None and fetched["associated_company"] is None
    assert crm.records("deals").get(deal.id).first("associated_company") == doomed.id
    assert crm.records("deals").get(deal.id, include=["associated_company"])["associated_company"] is None


def test_record_id_and_created_at_read_like_attributes(sandbox: overlay.Sandbox) -> None:
    people = sandbox.client.records("people").where().order_by("created_at")
    rows = people.pluck("name", "created_at", "record_id")
    assert rows[0][0] == "Ada Lovelace"
    assert all(isinstance(created, datetime.datetime) for _, created, _ in rows)
    assert [created for _, created, _ in rows] == sorted(created for _, created, _ in rows)
    found = people.to_list()
    assert found.find_by(record_id=rows[1][2]) is found[1] and found[1]["created_at"] == rows[1][1]


def test_page_size_is_set_on_a_built_query(sandbox: overlay.Sandbox) -> None:
    sent: list[str] = []
    with sandbox.connect(on_request=[lambda r: sent.append(r.url.path)]) as crm:
        query = crm.records("people").where().page_size(3)
        assert [len(page) for page in query.pages()] == [3, 1] and len(sent) == 2
        assert query.count() == 4 and crm.records("people").where().per_page == 500


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
