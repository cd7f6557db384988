"""overlay.Client and overlay.AsyncClient against a live sandbox, chaos included."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from crm_sandbox import Chaos

import overlay


@pytest.fixture
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb:
        yield sb


@pytest.fixture
def crm(sandbox: overlay.Sandbox) -> overlay.Client:
    return sandbox.client


def test_records_round_trip(crm: overlay.Client) -> None:
    people = crm.records("people")
    ada = people.create(
        {"name": {"first_name": "Ada", "last_name": "Byron"}, "email_addresses": ["ada@byron.example"]}
    )
    assert ada["name"] == "Ada Byron" and ada.request_id and ada.request_id.startswith("req_")
    assert people.get(ada.id).first("email_addresses") == "ada@byron.example"
    updated = people.update(ada.id, {"email_addresses": ["countess@byron.example"]})
    assert updated.all("email_addresses") == ["ada@byron.example", "countess@byron.example"]
    replaced = people.replace(ada.id, {"email_addresses": ["only@byron.example"]})
    assert replaced.all("email_addresses") == ["only@byron.example"]
    same = people.upsert(
        {"email_addresses": ["only@byron.example"], "job_title": "Analyst"},
        matching_attribute="email_addresses",
    )
    assert same.id == ada.id and same["job_title"] == "Analyst"
    people.delete(ada.id)
    with pytest.raises(overlay.NotFoundError) as caught:
        people.get(ada.id)
    assert caught.value.request_id and caught.value.code == "not_found"


def test_query_pages_through_every_match(crm: overlay.Client) -> None:
    people = crm.records("people")
    for i in range(12):
        people.create({"name": f"Paged Person {i:02d}", "job_title": "Paged"})
    query = people.query(
        {"job_title": "Paged"}, sorts=[{"attribute": "name", "direction": "asc"}], page_size=5
    )
    pages = list(query.pages())
    assert [len(p.items) for p in pages] == [5, 5, 2]
    assert query.to_list().pluck("name") == [f"Paged Person {i:02d}" for i in range(12)]
    assert len(people.query({"job_title": "Paged"}, max_items=7).to_list()) == 7
    for wrong in (-1, "7", 1.5):
        with pytest.raises(overlay.InvalidArgumentError, match=r"max_items is a whole number, 0 or more"):
            people.query({"job_title": "Paged"}, max_items=wrong)  # type: ignore[arg-type]
    first = people.query({"job_title": "Paged"}, sorts=[{"attribute": "name", "direction": "desc"}]).first()
    assert first is not None and first["name"] == "Paged Person 11"


def test_include_hydrates_references_with_one_query_per_target_object(sandbox: overlay.Sandbox) -> None:
    paths: list[str] = []
    with sandbox.connect(on_request=[lambda request: paths.append(request.url.path)]) as crm:
        people = crm.records("people").query(include=["company"]).to_list()
    with_company = [p for p in people if p.references("company")]
    assert with_company, "the sample data links people to companies"
    for person in with_company:
        company = person["company"]
        assert isinstance(company, overlay.Record) and company.object == "companies"
        assert company.id == person.references("company")[0][1]
    queries = [p for p in paths if p.endswith("/records/query")]  # the rest read the schema, once
    assert queries == ["/v2/objects/people/records/query", "/v2/objects/companies/records/query"]


def test_cursor_pagination_over_notes(crm: overlay.Client) -> None:
    ada = crm.records("people").query({"name": "Ada Lovelace"}).first()
    assert ada is not None
    for i in range(5):
        crm.notes.create(parent_object="people", parent_record_id=ada.id, title=f"Note {i}", content="text")
    notes = crm.notes.list(parent_object="people", parent_record_id=ada.id, page_size=2)
    assert [len(p.items) for p in notes.pages()] == [2, 2, 1]
    assert sorted(n.title for n in notes) == [f"Note {i}" for i in range(5)]
    assert len(notes.pages().__next__().items) == 2  # each iteration starts again


def test_schema_resources_and_the_metadata_cache(crm: overlay.Client) -> None:
    slugs = {o.api_slug for o in crm.objects.list()}
    assert {"people", "companies"} <= slugs
    assert crm.objects.get("people").singular_noun == "Person"
    attributes = crm.metadata.attributes("people")
    assert attributes["email_addresses"].is_unique
    created = crm.attributes.create("people", title="Tier", api_slug="tier", type="select")
    assert created.api_slug == "tier"
    assert "tier" in crm.metadata.attributes("people"), "a write through the client refreshes the cache"
    crm.attributes.create_option("people", "tier", title="Gold")
    assert set(crm.metadata.options("people", "tier")) == {"Gold"}
    assert crm.records("people").create({"name": "Goldie", "tier": "Gold"})["tier"] == "Gold"


def test_errors_suggest_the_nearest_slug(crm: overlay.Client) -> None:
    with pytest.raises(overlay.BadRequestError) as caught:
        crm.records("people").create({"name": "Typo", "emial_addresses": ["t@example.com"]})
    assert caught.value.code == "unknown_attribute" and caught.value.suggestion == "email_addresses"
    with pytest.raises(overlay.NotFoundError) as missing:
        crm.records("peopel").query().to_list()
    assert missing.value.suggestion == "people"


def test_lists_entries_tasks_webhooks_and_search(crm: overlay.Client) -> None:
    ada = crm.records("people").query({"name": "Ada Lovelace"}).first()
    assert ada is not None
    pipeline = crm.lists.create(name="Hiring", api_slug="hiring", parent_objects=["people"])
    assert crm.lists.get("hiring").name == pipeline.name
    entry = crm.entries("hiring").create(parent_object="people", parent_record_id=ada.id)
    assert [e.id.entry_id for e in crm.entries("hiring").query()] == [entry.id.entry_id]
    crm.entries("hiring").delete(entry.id.entry_id)
    task = crm.tasks.create(content="Call Ada", linked_records=[{"object": "people", "record_id": ada.id}])
    done = crm.tasks.update(task.id.task_id, is_completed=True)
    assert done.is_completed and [t.id.task_id for t in crm.tasks.list(is_completed=True)] == [
        task.id.task_id
    ]
    hook = crm.webhooks.create(
        target_url="http://127.0.0.1:9/hook", subscriptions=[{"event_type": "record.created"}]
    )
    assert hook.secret.startswith("whsec_") and hook.secret not in repr(hook)
    guarded = crm.webhooks.create(
        target_url="https://user:hunter2pw@127.0.0.1:9/h?token=QQQsecretQQQ", subscriptions=["record.created"]
    )
    assert "hunter2pw" not in repr(guarded) and "QQQsecretQQQ" not in repr(guarded)
    assert "'https://127.0.0.1:9/h?...'" in repr(guarded) and "hunter2pw" in guarded.target_url
    crm.webhooks.delete(guarded.id)
    assert [w.id.webhook_id for w in crm.webhooks.list()] == [hook.id.webhook_id]
    crm.webhooks.delete(hook.id.webhook_id)
    assert any(r.record_text.startswith("Ada") for r in crm.search("Ada"))
    assert crm.whoami().workspace_slug


def test_raw_responses(crm: overlay.Client) -> None:
    raw = crm.records("people").with_raw_response.create({"name": "Raw"})
    assert raw.status_code == 201 and raw.headers["crm-version"] == crm.options.version
    assert raw.parse()["name"] == "Raw"
    first_page = crm.records("people").with_raw_response.query(page_size=2)
    assert first_page.status_code == 200 and len(first_page.parse()) == 2
    tasks = crm.tasks.with_raw_response.list()
    assert tasks.status_code == 200 and isinstance(tasks.parse(), list) and tasks.request_id


# What a resource offers that is not one API call, so has no raw form.
NOT_CALLS = {"metadata", "feed", "where", "order_by", "limit", "export", "to_pandas", "with_raw_response"}


def test_every_api_call_of_every_resource_has_its_raw_form(crm: overlay.Client) -> None:
    resources = [
        crm.records("people"),
        crm.entries("pipeline"),
        crm.lists,
        crm.objects,
        crm.attributes,
        crm.notes,
        crm.tasks,
        crm.webhooks,
    ]
    for resource in resources:
        calls = {n for n in dir(type(resource)) if not n.startswith("_") and n not in NOT_CALLS}
        raw = resource.with_raw_response
        assert calls == {n for n in vars(raw) if not n.startswith("_")}, type(resource).__name__


def test_writes_under_chaos_land_exactly_once() -> None:
    chaos = Chaos(error_rate=0.15, drop_rate=0.05, commit_drop_rate=0.1, rate_limit_rate=0.05, seed=3)
    with (
        overlay.Sandbox(chaos=chaos, read_rate=None, write_rate=None) as sb,
        sb.connect(max_retries=8) as crm,
    ):
        for i in range(20):
            crm.records("companies").create({"name": f"Chaos {i:02d}", "domains": [f"chaos{i}.example"]})
        found = crm.records("companies").query({"name": {"$starts_with": "Chaos "}}).to_list()
    assert sorted(found.pluck("name")) == [f"Chaos {i:02d}" for i in range(20)]


def test_the_limiter_keeps_to_a_tight_write_limit() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=5) as sb:
        failures: list[Any] = []
        with sb.connect(max_retries=0) as crm:
            for i in range(12):
                try:
                    crm.records("companies").create({"name": f"Paced {i}"})
                except overlay.RateLimitError as exc:
                    failures.append(exc)
            assert crm._shared.limiter.limits() == {"write": 5.0}
    assert failures == [], "the client paced itself instead of collecting 429s"


def test_the_async_client_against_the_sandbox(sandbox: overlay.Sandbox) -> None:
    async def run() -> tuple[list[str], overlay.Page[Any]]:
        async with sandbox.connect_async() as crm:
            await asyncio.gather(*(crm.records("companies").create({"name": f"Async {i}"}) for i in range(6)))
            names = [
                c["name"] async for c in crm.records("companies").query({"name": {"$starts_with": "Async"}})
            ]
            page = await crm.records("companies").query(page_size=2).first_page()
            return sorted(names), page

    names, page = asyncio.run(run())
    assert names == [f"Async {i}" for i in range(6)] and (page.request_id or "").startswith("req_")
    sync_page = sandbox.client.records("companies").query(page_size=2).first_page()
    assert type(page) is type(sync_page) is overlay.Page and len(page) == len(sync_page) == 2


def test_filter_expressions_query_the_sandbox(crm: overlay.Client) -> None:
    from overlay import F

    people = crm.records("people")
    analytical = people.query(F.email_addresses.email_domain == "analytical.example").to_list()
    assert sorted(analytical.pluck("name")) == ["Ada Lovelace", "Charles Babbage"]
    at_cobol = people.query(F.company.via("companies").name.starts_with("Cobol")).to_list()
    assert at_cobol.pluck("name") == ["Grace Hopper"]
    not_ada = people.query(~(F.name == "Ada Lovelace") & F.email_addresses.is_set()).to_list()
    assert "Ada Lovelace" not in not_ada.pluck("name") and len(not_ada) == len(people.query().to_list()) - 1


def test_path_parameters_take_the_identifiers_the_sdk_returned(crm: overlay.Client) -> None:
    """Objects, attributes, records, lists, entries, notes and tasks by their identifier objects."""
    people = crm.objects.get("people")
    assert crm.objects.get(people.id).api_slug == "people"
    email = crm.attributes.get(people.id, "email_addresses")
    assert crm.attributes.get("people", email.id).api_slug == "email_addresses"
    records = crm.records(people.id)
    grace = records.create({"name": "Grace Hopper", "email_addresses": ["grace@navy.example"]})
    rid = grace.raw.id  # a RecordIdentifier
    assert records.get(rid).id == grace.id
    assert records.update(rid, {"job_title": "Rear admiral"})["job_title"] == "Rear admiral"
    assert [v.email_address for v in records.attribute_values(rid, email.id)] == ["grace@navy.example"]
    hiring = crm.lists.create(name="Hiring", api_slug="hiring", parent_objects=["people"])
    assert crm.lists.update(hiring.id, name="Hiring 2").name == "Hiring 2"
    entries = crm.entries(hiring.id)
    entry = entries.create(parent_object="people", parent_record_id=grace.id)
    assert entries.get(entry.id).id == entry.id
    entries.delete(entry.id)
    note = crm.notes.create(parent_object="people", parent_record_id=grace.id, title="Met", content="COBOL")
    assert crm.notes.get(note.id).title == "Met"
    crm.notes.delete(note.id)
    task = crm.tasks.create(content="Call Grace")
    assert crm.tasks.update(task.id, is_completed=True).is_completed
    crm.tasks.delete(task.id)
    records.delete(rid)
    with pytest.raises(overlay.NotFoundError):
        records.get(grace.id)
    with pytest.raises(overlay.InvalidArgumentError, match=r"record_id .* got int"):
        records.get(42)  # type: ignore[arg-type]


DEEP: dict[str, object] = {"name": "x"}
for _ in range(3000):
    DEEP = {"$not": DEEP}

WRONG_TYPES: list[tuple[str, Callable[[overlay.Client], object], str]] = [
    ("limit", lambda crm: crm.records("people").where().limit("5"), r"limit\(\) takes a whole number"),  # type: ignore[arg-type]
    ("order_by", lambda crm: crm.records("people").where().order_by(5), r"Cannot sort by 5"),  # type: ignore[arg-type]
    ("from_text", lambda crm: overlay.from_text(None), r"A text query is a str, got NoneType"),  # type: ignore[arg-type]
    ("aggregate", lambda crm: crm.records("people").where().aggregate(5), r"Cannot aggregate 5"),  # type: ignore[arg-type]
    (
        "split_rows",
        lambda crm: crm.records("people").where().export("never.csv", split_rows="5"),  # type: ignore[arg-type]
        r"split_rows is a whole number",
    ),
    ("import_rows", lambda crm: crm.import_rows(None, "people"), r"rows are mappings .* got NoneType"),  # type: ignore[arg-type]
    (
        "a NaN value",
        lambda crm: crm.records("people").create({"name": "N", "description": float("nan")}),
        r"create_record: the request cannot be built: Out of range float",
    ),
    ("an id too long", lambda crm: crm.records("people").get("a" * 100_000), r"get_record: .* URL too long"),
    ("text of 1e999", lambda crm: crm.records("deals").where("value > '1e999'").first(), r"finite numbers"),
    (
        "an offset of +99:00",
        lambda crm: crm.records("deals").where("created_at > '2020-01-01T00:00:00+99:00'").first(),
        r"created_at compares with a date and time",
    ),
    ("a filter 3,000 deep", lambda crm: crm.records("people").query(DEEP).first(), r"nest too deeply"),
    ("an int as a slug", lambda crm: crm.records("people").where().pluck(5), r"Cannot pluck 5"),  # type: ignore[arg-type]
    (
        "verify",
        lambda crm: overlay.webhooks.verify(b"{}", {}, secrets=None),  # type: ignore[arg-type]
        r"secrets is a whsec_ secret or a list of them, got NoneType",
    ),
]


@pytest.mark.parametrize(("name", "call", "message"), WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES])
def test_an_argument_of_the_wrong_type_is_an_overlay_error_naming_it(
    crm: overlay.Client, name: str, call: Callable[[overlay.Client], object], message: str
) -> None:
    with pytest.raises(overlay.CRMError, match=message):
        call(crm)
