"""The query builder over httpx.MockTransport: what it refuses before sending, and what it sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import overlay

WHEN = "2026-01-01T00:00:00+00:00"
SCHEMA = {
    "people": {
        "name": "personal-name",
        "job_title": "text",
        "company": "record-reference",
        "rating": "rating",
    },
    "companies": {"name": "text", "employee_count": "number", "stage": "select"},
}


def value(kind: str, plain: Any) -> dict[str, Any]:
    base = {
        "attribute_type": kind,
        "active_from": WHEN,
        "active_until": None,
        "created_by_actor": {"type": "system"},
    }
    if kind == "record-reference":
        return {**base, "target_object": "companies", "target_record_id": plain}
    if kind == "personal-name":
        return {**base, "first_name": plain, "last_name": "", "full_name": plain}
    return {**base, "value": plain}


def record(object: str, record_id: str, **values: Any) -> dict[str, Any]:
    kinds = SCHEMA[object]
    return {
        "id": {"workspace_id": "w", "object_id": object, "record_id": record_id},
        "created_at": WHEN,
        "updated_at": "2026-02-01T00:00:00+00:00",
        "values": {slug: [value(kinds[slug], v)] if v is not None else [] for slug, v in values.items()},
    }


PEOPLE = [
    record("people", "p1", name="Ada", job_title="Analyst", company="c1", rating=3),
    record("people", "p2", name="Grace", job_title="Admiral", company="c1", rating=5),
    record("people", "p3", name="Linus", job_title="Analyst", company="c-gone", rating=None),
]
COMPANIES = [record("companies", "c1", name="Acme", employee_count=40)]


class Workspace:
    """A fake API: objects, attributes and record queries, and every request it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.sent.append((request.method, path, body))
        parts = path.split("/")
        if path == "/v2/objects":
            return ok([self._object(slug) for slug in SCHEMA])
        if path.endswith("/attributes"):
            return ok([self._attribute(parts[3], slug, kind) for slug, kind in SCHEMA[parts[3]].items()])
        if path.endswith(("/records/query", "/records/count")):
            rows = PEOPLE if parts[3] == "people" else COMPANIES
            ids = (body.get("filter") or {}).get("record_id", {}).get("$in")
            rows = [r for r in rows if ids is None or r["id"]["record_id"] in ids]
            if path.endswith("/count"):
                return httpx.Response(200, json={"data": {"count": len(rows)}})
            offset, limit = body.get("offset", 0), body["limit"]
            return ok(rows[offset : offset + limit])
        return httpx.Response(
            404,
            json={"status_code": 404, "type": "invalid_request_error", "code": "not_found", "message": path},
        )

    @staticmethod
    def _object(slug: str) -> dict[str, Any]:
        ids = {"workspace_id": "w", "object_id": slug}
        return {"id": ids, "api_slug": slug, "singular_noun": slug, "plural_noun": slug, "created_at": WHEN}

    @staticmethod
    def _attribute(object: str, slug: str, kind: str) -> dict[str, Any]:
        return {
            "id": {"workspace_id": "w", "object_id": object, "attribute_id": slug},
            "title": slug,
            "api_slug": slug,
            "type": kind,
            "is_system_attribute": False,
            "is_writable": True,
            "is_required": False,
            "is_unique": False,
            "is_multiselect": False,
            "is_archived": False,
            "config": {},
            "created_at": WHEN,
        }

    def queries(self) -> list[Any]:
        return [body for _, path, body in self.sent if path.endswith("/records/query")]


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": data}, headers={"x-request-id": "req_1"})


@pytest.fixture
def workspace() -> Workspace:
    return Workspace()


@pytest.fixture
def crm(workspace: Workspace) -> Iterator[overlay.Client]:
    with overlay.Client(
        api_key="sk_test", base_url="http://api.test", transport=httpx.MockTransport(workspace)
    ) as client:
        yield client


def warm(crm: overlay.Client, workspace: Workspace) -> None:
    """Read the metadata the checks use, then forget what was sent."""
    crm.metadata.objects()
    crm.metadata.attributes("people")
    crm.metadata.attributes("companies")
    workspace.sent.clear()


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (
            lambda q: q.aggregate("sum(employe_count)"),
            "Cannot aggregate 'sum\\(employe_count\\)'.*Did you mean 'employee_count'",
        ),
        (lambda q: q.aggregate("avg(name)"), "'name' is text; avg takes a number"),
        (lambda q: q.aggregate("count", group_by="nmae"), "Cannot group by 'nmae'.*Did you mean 'name'"),
        (lambda q: q.pluck("employe_count"), "Cannot pluck 'employe_count'.*Did you mean 'employee_count'"),
        (
            lambda q: q.order_by("-craeted_at").first(),
            "Cannot sort by 'craeted_at'.*Did you mean 'created_at'",
        ),
        (lambda q: q.order_by("name.lenght").first(), "'name' \\(text\\) has no property 'lenght'"),
        (lambda q: q.order_by("created_at.day").to_list(), "created_at has no properties"),
    ],
)
def test_aggregates_sorts_and_plucks_are_checked_before_anything_is_sent(
    crm: overlay.Client, workspace: Workspace, run: Any, message: str
) -> None:
    warm(crm, workspace)
    with pytest.raises(overlay.InvalidArgumentError, match=message):
        run(crm.records("companies").where())
    assert workspace.sent == []


def test_an_include_of_a_typo_or_of_a_non_reference_is_refused_before_sending(
    crm: overlay.Client, workspace: Workspace
) -> None:
    warm(crm, workspace)
    people = crm.records("people")
    with pytest.raises(
        overlay.InvalidArgumentError, match=r"Cannot include 'compnay'.*Did you mean 'company'"
    ):
        people.where().include("compnay").first()
    with pytest.raises(
        overlay.InvalidArgumentError,
        match=r"'job_title'.* is text .*not a record reference\. References: company",
    ):
        people.where().include("job_title").to_list()
    with pytest.raises(overlay.InvalidArgumentError, match="Cannot include 'compnay'"):
        people.query(include=["compnay"]).first()
    with pytest.raises(overlay.InvalidArgumentError, match="Cannot include 'job_title'"):
        people.get("p1", include=["job_title"])
    assert workspace.sent == []
    with pytest.raises(overlay.InvalidArgumentError, match="include\\(\\) takes attribute slugs"):
        people.where().include("")


def test_the_checks_read_only_the_cached_metadata(crm: overlay.Client, workspace: Workspace) -> None:
    people = crm.records("people")
    people.where().to_list()
    assert [path for _, path, _ in workspace.sent] == ["/v2/objects/people/records/query"]  # nothing to check
    workspace.sent.clear()
    query = people.where("rating >= 3").order_by("-created_at", "name.last_name").include("company")
    query.to_list()
    query.pluck("name", "created_at")
    query.aggregate("count", "sum(rating)", group_by="company")
    metadata = [path for _, path, _ in workspace.sent if not path.endswith("/records/query")]
    assert metadata == ["/v2/objects", "/v2/objects/people/attributes"]  # once, then from the cache
    assert workspace.queries()[0]["sorts"] == [
        {"attribute": "created_at", "direction": "desc"},
        {"attribute": "name", "direction": "asc", "field": "last_name"},
    ]


def test_a_reference_groups_by_its_target_record_id(crm: overlay.Client) -> None:
    people = crm.records("people").where()
    assert people.aggregate("count", "avg(rating)", group_by="company") == {
        "c1": {"count": 2, "avg(rating)": 4.0},
        "c-gone": {"count": 1, "avg(rating)": None},
    }
    assert people.include("company").aggregate("count", group_by="company") == {
        "c1": {"count": 2},
        "c-gone": {"count": 1},
    }
    assert people.aggregate("count", group_by="job_title") == {
        "Analyst": {"count": 2},
        "Admiral": {"count": 1},
    }


def test_count_and_aggregate_fetch_no_included_records(crm: overlay.Client, workspace: Workspace) -> None:
    query = crm.records("people").where().include("company")
    assert query.count() == 3 and query.aggregate("count") == {"count": 3}
    assert [path for _, path, _ in workspace.sent if "companies" in path] == []
    assert [path for _, path, _ in workspace.sent if path.endswith("/count")] == [
        "/v2/objects/people/records/count"
    ]


def test_page_size_is_set_on_a_built_query_and_a_page_has_a_length(
    crm: overlay.Client, workspace: Workspace
) -> None:
    base = crm.records("people").where()
    sized = base.page_size(2)
    assert base.per_page == 500 and sized.per_page == 2  # a copy; the base is unchanged
    assert repr(sized) == "records('people').page_size(2)"
    assert [len(page) for page in sized.pages()] == [2, 1]
    assert [body["limit"] for body in workspace.queries()] == [2, 2]
    for wrong in (0, 1001, 2.5, True):
        with pytest.raises(overlay.InvalidArgumentError, match="page_size\\(\\) takes 1 to 1000"):
            base.page_size(wrong)  # type: ignore[arg-type]
    with pytest.raises(overlay.InvalidArgumentError, match="page_size takes 1 to 1000"):
        crm.records("people").query(page_size=5000)


def test_every_query_method_returns_a_copy(crm: overlay.Client) -> None:
    base = crm.records("people").where()
    steps = [
        base.where("rating >= 3"),
        base.order_by("name"),
        base.limit(2),
        base.include("company"),
        base.page_size(10),
    ]
    assert all(step is not base for step in steps)
    assert (base.filter, base.sorts, base.max_items, base.includes, base.per_page) == (
        None,
        (),
        None,
        (),
        500,
    )


def test_an_empty_query_still_gives_one_empty_page(crm: overlay.Client) -> None:
    pages = list(crm.records("people").where({"record_id": {"$in": ["nobody"]}}).pages())
    assert [len(page) for page in pages] == [0]
