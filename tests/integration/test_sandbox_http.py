"""What every request gets: auth, request ids, versions, limits, idempotency, clean errors."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Start, query


def test_every_response_has_a_request_id_and_a_version(api: httpx.Client) -> None:
    for response in (api.get("/v2/self"), api.get("/v2/nowhere"), api.delete("/v2/objects")):
        assert response.headers["x-request-id"].startswith("req_")
        assert response.headers["crm-version"] == "2026-12-01"
    assert api.get("/v2/nowhere").status_code == 404
    assert api.delete("/v2/objects").status_code == 405


@pytest.mark.parametrize(("header", "code"), [(None, "missing_token"), ("Bearer wrong", "invalid_token")])
def test_a_missing_or_wrong_token_is_a_401(api: httpx.Client, header: str | None, code: str) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(api.base_url.join("/v2/self"), headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "status_code": 401,
        "type": "auth_error",
        "code": code,
        "message": response.json()["message"],
    }


def test_an_unsupported_version_is_refused(api: httpx.Client) -> None:
    response = api.get("/v2/self", headers={"CRM-Version": "1999-01-01"})
    assert response.status_code == 400 and response.json()["code"] == "unsupported_version"


def test_the_same_idempotency_key_replays_and_never_writes_twice(api: httpx.Client) -> None:
    body = {"data": {"values": {"name": "Once Only"}}}
    first = api.post("/v2/objects/people/records", json=body, headers={"Idempotency-Key": "abc"})
    second = api.post("/v2/objects/people/records", json=body, headers={"Idempotency-Key": "abc"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.headers["idempotent-replayed"] == "false"
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    assert len(query(api, "people", {"filter": {"name": "Once Only"}})) == 1


def test_an_idempotency_key_reused_with_another_body_is_a_409(api: httpx.Client) -> None:
    api.post(
        "/v2/objects/people/records",
        json={"data": {"values": {"name": "A"}}},
        headers={"Idempotency-Key": "k"},
    )
    other = api.post(
        "/v2/objects/people/records",
        json={"data": {"values": {"name": "B"}}},
        headers={"Idempotency-Key": "k"},
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def test_writes_beyond_the_rate_limit_get_429_with_retry_after(start_sandbox: Start) -> None:
    # One write a second (a burst of one): the margin holds on a slow, loaded machine.
    _, api = start_sandbox(write_rate=1.0, read_rate=1000.0)
    statuses = [
        api.post("/v2/objects/people/records", json={"data": {"values": {"name": f"P{i}"}}}) for i in range(3)
    ]
    limited = [r for r in statuses if r.status_code == 429]
    assert statuses[0].status_code == 201
    assert limited, "a second write within the second should be limited"
    headers = limited[0].headers
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit"] == "1" and headers["x-ratelimit-remaining"] == "0"
    assert float(headers["x-ratelimit-reset"]) > 0
    assert limited[0].json()["type"] == "rate_limit_error"
    assert api.get("/v2/self").status_code == 200, "reads have their own bucket"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"data": {"values": {"name": 5}}}', 400, "invalid_value"),
        (b'{"data": {"values": "x"}}', 400, "invalid_request"),
        (b"[]", 400, "invalid_request"),
        (b'{"data": {"values": {"name": "' + b"x" * 2_100_000 + b'"}}}', 413, "body_too_large"),
    ],
)
def test_malformed_bodies_get_a_4xx_with_the_error_body(
    api: httpx.Client, content: bytes, status: int, code: str
) -> None:
    response = api.post(
        "/v2/objects/people/records", content=content, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert "Traceback" not in response.text


def test_an_unknown_query_parameter_is_named(api: httpx.Client) -> None:
    response = api.get("/v2/notes", params={"limt": 5})
    assert response.status_code == 400
    assert "Unknown query parameter 'limt'. Did you mean 'limit'?" in response.json()["message"]


def test_a_bad_query_parameter_value_is_named(api: httpx.Client) -> None:
    response = api.get("/v2/notes", params={"limit": "many"})
    assert response.status_code == 400
    assert "'limit'" in response.json()["message"]
