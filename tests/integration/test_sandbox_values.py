"""What the sandbox says about values and sorts: phone numbers checked by ``phonenumbers``,
sort errors with their own code and a suggestion that knows the pseudo-attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from crm_client.api_versions import VERSIONS

import overlay

LATEST, OLDEST = VERSIONS[-1], VERSIONS[0]
AT_VERSIONS = pytest.mark.parametrize("version", [LATEST, OLDEST])


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    """One sandbox for the module, with the sample data and a list of people."""
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb:
        headers = {"Authorization": f"Bearer {sb.token}"}
        with httpx.Client(base_url=sb.url, headers=headers, timeout=60) as client:
            list_body = {"data": {"name": "Pipeline", "api_slug": "pipeline", "parent_objects": ["people"]}}
            assert client.post("/v2/lists", json=list_body).is_success
            yield client


def error_of(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    error = body.get("error", body)
    return error["code"], error["message"]


def create_person(api: httpx.Client, phone: Any, version: str = LATEST) -> httpx.Response:
    body = {"data": {"values": {"name": "Phone Owner", "phone_numbers": [phone]}}}
    return api.post("/v2/objects/people/records", json=body, headers={"CRM-Version": version})


# ------------------------------------------------------------------ sorts


@AT_VERSIONS
@pytest.mark.parametrize(
    ("path", "sort", "wanted"),
    [
        ("/v2/objects/people/records/query", {"attribute": "craeted_at", "direction": "desc"}, "created_at"),
        ("/v2/objects/people/records/query", {"attribute": "updatd_at", "direction": "asc"}, "updated_at"),
        ("/v2/lists/pipeline/entries/query", {"attribute": "craeted_at", "direction": "asc"}, "created_at"),
    ],
    ids=["records", "records updated_at", "entries"],
)
def test_a_misspelt_sort_is_a_sort_error_suggesting_the_pseudo_attribute(
    api: httpx.Client, version: str, path: str, sort: dict[str, str], wanted: str
) -> None:
    response = api.post(path, json={"sorts": [sort]}, headers={"CRM-Version": version})
    assert response.status_code == 400, response.text
    code, message = error_of(response)
    assert code == "sort_error"
    assert f"Did you mean '{wanted}'?" in message and "sorts[0]" in message


@AT_VERSIONS
def test_a_sort_without_a_direction_is_a_sort_error(api: httpx.Client, version: str) -> None:
    response = api.post(
        "/v2/objects/people/records/query",
        json={"sorts": [{"attribute": "name", "direction": "up"}]},
        headers={"CRM-Version": version},
    )
    assert response.status_code == 400 and error_of(response)[0] == "sort_error"


def test_pseudo_attributes_sort(api: httpx.Client) -> None:
    for slug in ("record_id", "created_at", "updated_at"):
        response = api.post(
            "/v2/objects/people/records/query", json={"sorts": [{"attribute": slug, "direction": "desc"}]}
        )
        assert response.status_code == 200, response.text


def test_a_misspelt_filter_attribute_suggests_a_pseudo_attribute(api: httpx.Client) -> None:
    response = api.post(
        "/v2/objects/people/records/query",
        json={"filter": {"craeted_at": {"$gt": "2020-01-01T00:00:00Z"}}},
    )
    assert response.status_code == 400
    code, message = error_of(response)
    assert code == "filter_error" and "Did you mean 'created_at'?" in message


# ------------------------------------------------------------------ phone numbers


@pytest.mark.parametrize(
    ("typed", "country"),
    [
        ("(555) 010-1234", "US"),  # no US area code 555
        ("(555) 010-1234", "GB"),  # valid digits, but a British number is written with its 0
        ("020 7946 095", "GB"),  # a digit short
        ("+44 20 7946 09581", None),
        ("+1 555 010 1234", None),
    ],
)
def test_an_invalid_phone_number_is_refused_naming_the_attribute(
    api: httpx.Client, typed: str, country: str | None
) -> None:
    phone = {"original_phone_number": typed} | ({"country_code": country} if country else {})
    response = create_person(api, phone)
    assert response.status_code == 400, response.text
    code, message = error_of(response)
    assert code == "invalid_value"
    assert "'phone_numbers'" in message and "not a valid phone number" in message and typed in message


@pytest.mark.parametrize(
    ("phone", "e164", "country"),
    [
        ({"original_phone_number": "020 7946 0958", "country_code": "GB"}, "+442079460958", "GB"),
        ({"original_phone_number": "(202) 555-0143", "country_code": "US"}, "+12025550143", "US"),
        ({"original_phone_number": "+33 1 42 68 53 00"}, "+33142685300", "FR"),
        ("+49 30 901820", "+4930901820", "DE"),
        ({"original_phone_number": "+44 20 7946 0958", "country_code": "US"}, "+442079460958", "GB"),
    ],
    ids=["national GB", "national US", "international", "a bare string", "the number's own country"],
)
def test_a_valid_phone_number_is_e164_and_keeps_what_was_typed(
    api: httpx.Client, phone: Any, e164: str, country: str
) -> None:
    response = create_person(api, phone)
    assert response.status_code == 201, response.text
    stored = response.json()["data"]["values"]["phone_numbers"][0]
    typed = phone if isinstance(phone, str) else phone["original_phone_number"]
    assert (stored["phone_number"], stored["original_phone_number"], stored["country_code"]) == (
        e164,
        typed,
        country,
    )


def test_a_national_number_without_a_country_is_refused(api: httpx.Client) -> None:
    response = create_person(api, {"original_phone_number": "020 7946 0958"})
    assert response.status_code == 400
    assert "country_code" in error_of(response)[1]


def test_an_unknown_country_code_is_refused(api: httpx.Client) -> None:
    response = create_person(api, {"original_phone_number": "020 7946 0958", "country_code": "ZZ"})
    assert response.status_code == 400
    assert "phone_numbers" in error_of(response)[1]


def test_a_phone_number_is_checked_at_an_older_version(api: httpx.Client) -> None:
    response = create_person(api, {"original_phone_number": "(555) 010-1234", "country_code": "US"}, OLDEST)
    assert response.status_code == 400
    assert "not a valid phone number" in error_of(response)[1]
