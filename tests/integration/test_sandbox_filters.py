"""The sandbox's filter and sort language, and the errors it gives for bad filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import names, query

PEOPLE = ["Ada Lovelace", "Charles Babbage", "Grace Hopper", "Katherine Johnson"]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"name": "Ada Lovelace"}, ["Ada Lovelace"]),
        ({"name": {"$contains": "OVE"}}, ["Ada Lovelace"]),
        ({"name": {"first_name": {"$starts_with": "ch"}}}, ["Charles Babbage"]),
        ({"name": {"last_name": {"$ends_with": "son"}}}, ["Katherine Johnson"]),
        ({"email_addresses": {"email_domain": "analytical.example"}}, ["Ada Lovelace", "Charles Babbage"]),
        ({"job_title": {"$in": ["Founder", "Mathematician"]}}, ["Charles Babbage", "Katherine Johnson"]),
        ({"phone_numbers": {"$not_empty": False}}, PEOPLE),
        (
            {"$or": [{"name": "Ada Lovelace"}, {"job_title": "Rear Admiral"}]},
            ["Ada Lovelace", "Grace Hopper"],
        ),
        (
            {"$not": {"email_addresses": {"email_domain": "analytical.example"}}},
            ["Grace Hopper", "Katherine Johnson"],
        ),
        ({"$and": [{"job_title": {"$not_empty": True}}, {"name": {"$contains": "a"}}]}, PEOPLE),
        (
            {"path": [["people", "company"], ["companies", "employee_count"]], "constraints": {"$gte": 100}},
            ["Grace Hopper"],
        ),
        ({"created_at": {"$gte": "2000-01-01T00:00:00Z"}}, PEOPLE),
        ({"created_at": {"$lt": "2000-01-01T00:00:00Z"}}, []),
    ],
)
def test_filters_select_the_right_people(
    api: httpx.Client, filter_: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(names(query(api, "people", {"filter": filter_}))) == sorted(expected)


def test_record_id_filter(api: httpx.Client) -> None:
    ada = query(api, "people", {"filter": {"name": "Ada Lovelace"}})[0]
    found = query(api, "people", {"filter": {"record_id": {"$in": [ada["id"]["record_id"]]}}})
    assert names(found) == ["Ada Lovelace"]


def test_sorts_on_properties_and_paths(api: httpx.Client) -> None:
    by_last = query(
        api, "people", {"sorts": [{"attribute": "name", "field": "last_name", "direction": "desc"}]}
    )
    assert names(by_last) == ["Ada Lovelace", "Katherine Johnson", "Grace Hopper", "Charles Babbage"]
    by_company = query(
        api,
        "people",
        {
            "sorts": [
                {"path": [["people", "company"], ["companies", "name"]], "direction": "asc"},
                {"attribute": "name", "field": "first_name", "direction": "asc"},
            ]
        },
    )
    assert names(by_company) == ["Ada Lovelace", "Charles Babbage", "Grace Hopper", "Katherine Johnson"]


def test_limit_and_offset_page_through_results(api: httpx.Client) -> None:
    pages = [names(query(api, "people", {"limit": 3, "offset": o})) for o in (0, 3)]
    assert [len(p) for p in pages] == [3, 1]
    assert sorted(pages[0] + pages[1]) == sorted(PEOPLE)


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ({"nmae": "Ada"}, "Unknown attribute 'nmae'. Did you mean 'name'? (at filter.nmae)"),
        ({"name": {"$gt": 3}}, "$gt does not apply to personal-name; use $contains, $ends_with, $eq, $in"),
        ({"name": {"$regex": "A.*"}}, "at body.filter.name: Additional properties are not allowed ('$regex'"),
        ({"email_addresses": {"domain": "x"}}, "has no property 'domain'. Did you mean 'email_domain'?"),
        ({"$xor": [{"name": "Ada"}]}, "at body.filter.$xor"),
        (
            {"path": [["people", "name"], ["companies", "name"]], "constraints": "x"},
            "is a personal-name, not a",
        ),
        (
            {"path": [["people", "company"], ["nowhere", "name"]], "constraints": "x"},
            "Step starts at 'nowhere', but the path is at another object (at filter.path[1])",
        ),
        ({"created_at": {"$gt": "yesterday"}}, "Expected an ISO 8601 timestamp"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_culprit(
    api: httpx.Client, filter_: dict[str, Any], message: str
) -> None:
    response = api.post("/v2/objects/people/records/query", json={"filter": filter_})
    assert response.status_code == 400
    assert response.json()["code"] == "filter_error"
    assert message in response.json()["message"]


def test_a_filter_too_deep_is_refused_not_run(api: httpx.Client) -> None:
    node: dict[str, Any] = {"name": "Ada"}
    for _ in range(40):
        node = {"$not": node}
    response = api.post("/v2/objects/people/records/query", json={"filter": node})
    assert response.status_code == 400
    assert "too large" in response.json()["message"]
