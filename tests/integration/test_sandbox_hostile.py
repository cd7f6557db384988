"""Hostile requests against the sandbox over real HTTP: each gets a 4xx whose code names the
problem, and the connection it came on keeps serving (a 5xx or a reset would end it)."""

from __future__ import annotations

import json
import resource
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from crm_client.api_versions import VERSIONS
from crm_sandbox.config import Chaos
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import overlay

from .conftest import Start

LATEST, OLDEST = VERSIONS[-1], VERSIONS[0]
AT_VERSIONS = pytest.mark.parametrize("version", [LATEST, OLDEST])
NO_RECORD = "00000000-0000-4000-8000-000000000000"
SLOT = "@@hostile@@"  # where a hostile JSON text goes in a body

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
LONE_SURROGATE = '"\\ud800"'
HUGE_INT = "1" + "0" * 400  # 10**400: no float, no SQLite integer holds it

# One body per endpoint, with SLOT in one of its fields (any field would do: the checks run
# on the whole body before it is parsed, so the body need not be valid for the version).
ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "records": ("POST", "/v2/objects/people/records", {"data": {"values": {"name": SLOT}}}),
    "record update": ("PATCH", f"/v2/objects/people/records/{NO_RECORD}", {"data": {"values": {"x": SLOT}}}),
    "record query": ("POST", "/v2/objects/people/records/query", {"filter": {"name": SLOT}}),
    "record filter": ("POST", "/v2/objects/people/records/query", {"filter": SLOT}),
    "record sorts": ("POST", "/v2/objects/people/records/query", {"sorts": SLOT}),
    **{
        f"{slug} value": (
            "POST",
            f"/v2/objects/{obj}/records",
            {"data": {"values": {"name": "N", slug: SLOT}}},
        )
        for obj, slug in [
            ("people", "phone_numbers"),
            ("people", "email_addresses"),
            ("people", "company"),
            ("deals", "value"),
            ("deals", "stage"),
            ("companies", "domains"),
            ("companies", "employee_count"),
        ]
    },
    "batch": ("POST", "/v2/objects/people/records/batch", {"data": [{"values": {"name": SLOT}}]}),
    "entries": (
        "POST",
        "/v2/lists/pipeline/entries",
        {"data": {"parent_object": "people", "parent_record_id": SLOT, "entry_values": {}}},
    ),
    "entry query": ("POST", "/v2/lists/pipeline/entries/query", {"filter": {"score": SLOT}}),
    "notes": ("POST", "/v2/notes", {"data": {"title": SLOT, "format": "plaintext", "content": "c"}}),
    "tasks": ("POST", "/v2/tasks", {"data": {"content": SLOT, "format": "plaintext"}}),
    "webhooks": (
        "POST",
        "/v2/webhooks",
        {"data": {"target_url": "http://127.0.0.1:9/", "subscriptions": [{"event_type": SLOT}]}},
    ),
    "search": ("POST", "/v2/objects/records/search", {"query": SLOT}),
    "attributes": (
        "POST",
        "/v2/objects/people/attributes",
        {"data": {"title": SLOT, "api_slug": "extra", "type": "text"}},
    ),
}
EVERY_ENDPOINT = pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[overlay.Sandbox]:
    """One sandbox for the module (starting one is slow): sample data, a list with a number
    attribute, a reference attribute on people, and a short header timeout for the slow-client
    tests."""
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None, header_timeout=1.0) as sb:
        with client_of(sb) as api:
            assert api.post(
                "/v2/lists",
                json={"data": {"name": "Pipeline", "api_slug": "pipeline", "parent_objects": ["people"]}},
            ).is_success
            assert api.post(
                "/v2/lists/pipeline/attributes",
                json={"data": {"title": "Score", "api_slug": "score", "type": "number"}},
            ).is_success
            assert api.post(  # a reference to records of any object (no allowed_objects)
                "/v2/objects/people/attributes",
                json={"data": {"title": "Ref", "api_slug": "ref", "type": "record-reference"}},
            ).is_success
        yield sb


def client_of(sb: overlay.Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}"}, timeout=60)


@pytest.fixture
def api(sandbox: overlay.Sandbox) -> Iterator[httpx.Client]:
    with client_of(sandbox) as client:
        yield client


@pytest.fixture(scope="module")
def person_id(sandbox: overlay.Sandbox) -> str:
    with client_of(sandbox) as api:
        record_id: str = api.post("/v2/objects/people/records/query", json={"limit": 1}).json()["data"][0][
            "id"
        ]["record_id"]
        return record_id


def body_with(template: Any, hostile: str) -> bytes:
    """``template`` as JSON with its SLOT string replaced by the raw JSON text ``hostile``."""
    text = json.dumps(template).replace(json.dumps(SLOT), hostile)
    return text.encode("utf-8", "surrogatepass")


def send(
    api: httpx.Client,
    method: str,
    path: str,
    version: str,
    content: bytes | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {"CRM-Version": version}
    if content is not None:
        headers["Content-Type"] = content_type
    return api.request(method, path, content=content, headers=headers)


def error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of an error body in the latest shape or 2025-01-01's ``{error: {...}}``."""
    body = response.json()
    error = body.get("error", body)
    return error["code"], error["message"]


def assert_refused(api: httpx.Client, response: httpx.Response, status: int, code: str, *named: str) -> None:
    """``response`` is ``status`` with ``code``, its message names each of ``named``, and the
    connection it came on serves the next request."""
    assert response.status_code == status, response.text
    got_code, message = error_of(response)
    assert got_code == code, message
    for name in named:
        assert name in message, f"{name!r} not named in {message!r}"
    assert "Traceback" not in response.text
    connection = response.extensions["network_stream"].get_extra_info("socket")
    follow = api.get("/v2/self")
    assert follow.status_code == 200
    assert follow.extensions["network_stream"].get_extra_info("socket") is connection, "connection lost"


# ------------------------------------------------------------------ every endpoint


@AT_VERSIONS
@EVERY_ENDPOINT
@pytest.mark.parametrize("deep", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_json_nested_a_thousand_deep_is_refused_before_parsing(
    api: httpx.Client, endpoint: str, version: str, deep: str
) -> None:
    method, path, template = ENDPOINTS[endpoint]
    response = send(api, method, path, version, body_with(template, deep))
    assert_refused(api, response, 400, "too_deeply_nested", "64")


@AT_VERSIONS
def test_json_nested_sixty_four_deep_is_read(api: httpx.Client, version: str) -> None:
    # 62 levels inside the two of {"filter": {...}}: parsed, then refused as a filter (not by depth).
    nested = '{"$not":' * 62 + "{}" + "}" * 62
    response = send(
        api, "POST", "/v2/objects/people/records/query", version, body_with({"filter": SLOT}, nested)
    )
    assert_refused(api, response, 400, "filter_error")


@AT_VERSIONS
@EVERY_ENDPOINT
def test_a_lone_surrogate_in_any_body_is_invalid_unicode(
    api: httpx.Client, endpoint: str, version: str
) -> None:
    method, path, template = ENDPOINTS[endpoint]
    response = send(api, method, path, version, body_with(template, LONE_SURROGATE))
    assert_refused(api, response, 400, "invalid_unicode", "body.")


@AT_VERSIONS
@EVERY_ENDPOINT
def test_a_body_that_is_not_json_media_is_415(api: httpx.Client, endpoint: str, version: str) -> None:
    method, path, template = ENDPOINTS[endpoint]
    response = send(api, method, path, version, body_with(template, '"x"'), content_type="text/plain")
    assert_refused(api, response, 415, "unsupported_media_type", "text/plain")


@AT_VERSIONS
@pytest.mark.parametrize("raw", [b'"\xed\xa0\x80"', b'"\xff"'], ids=["encoded surrogate", "stray byte"])
def test_a_body_that_is_not_utf8_is_invalid_unicode(api: httpx.Client, version: str, raw: bytes) -> None:
    body = b'{"data": {"values": {"name": ' + raw + b"}}}"
    response = send(api, "POST", "/v2/objects/people/records", version, body)
    assert_refused(api, response, 400, "invalid_unicode", "UTF-8")


# ------------------------------------------------------------------ unicode elsewhere


@AT_VERSIONS
@pytest.mark.parametrize(
    "where",
    [
        '{"data": {"values": {"\\ud800": "x"}}}',
        '{"data": {"values": {"name": [{"first_name": "\\udfff"}]}}}',
    ],
    ids=["attribute key", "nested value"],
)
def test_lone_surrogates_in_keys_and_nested_values_are_named(
    api: httpx.Client, version: str, where: str
) -> None:
    response = send(api, "POST", "/v2/objects/people/records", version, where.encode())
    assert_refused(api, response, 400, "invalid_unicode", "body.data.values")


@AT_VERSIONS
@pytest.mark.parametrize(
    ("method", "target", "named"),
    [
        ("GET", f"/v2/objects/%ED%A0%80/records/{NO_RECORD}", "path"),
        ("GET", "/v2/lists/%ED%A0%80", "path"),
        ("GET", "/v2/objects/people/attributes/%ED%B0%80", "path"),
        ("GET", "/v2/notes?parent_object=%ED%A0%80", "query string"),
        ("GET", "/v2/tasks?limit=%FF", "query string"),
    ],
    ids=["object slug", "list slug", "attribute slug", "query value", "stray byte"],
)
def test_lone_surrogates_in_paths_and_query_strings_are_invalid_unicode(
    api: httpx.Client, version: str, method: str, target: str, named: str
) -> None:
    response = send(api, method, target, version)
    assert_refused(api, response, 400, "invalid_unicode", named)


# ------------------------------------------------------------------ numbers and sizes


@AT_VERSIONS
@pytest.mark.parametrize("path", ["/v2/objects/people/records/query", "/v2/lists/pipeline/entries/query"])
@pytest.mark.parametrize("offset", [str(2**63), str(2**64 + 5), "1.2e29", "-1"])
def test_an_offset_beyond_the_maximum_is_refused(
    api: httpx.Client, version: str, path: str, offset: str
) -> None:
    response = send(api, "POST", path, version, body_with({"offset": SLOT}, offset))
    assert_refused(api, response, 400, "invalid_request", "offset")


@AT_VERSIONS
def test_a_whole_float_offset_reads_as_an_integer(api: httpx.Client, version: str) -> None:
    response = send(
        api, "POST", "/v2/objects/people/records/query", version, b'{"offset": 1.0, "limit": 2.0}'
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2


def test_a_list_offset_past_an_int64_is_refused_at_an_offset_version(api: httpx.Client) -> None:
    response = send(api, "GET", f"/v2/notes?offset={2**63}", OLDEST)
    assert_refused(api, response, 400, "invalid_parameter", "offset")


@AT_VERSIONS
@pytest.mark.parametrize("number", [HUGE_INT, "-" + HUGE_INT, "1e301"])
def test_a_number_value_beyond_1e300_is_refused_naming_the_attribute(
    api: httpx.Client, version: str, person_id: str, number: str
) -> None:
    record = body_with({"data": {"values": {"name": "Big", "employee_count": SLOT}}}, number)
    response = send(api, "POST", "/v2/objects/companies/records", version, record)
    assert_refused(api, response, 400, "invalid_value", "employee_count")
    entry = {
        "data": {"parent_object": "people", "parent_record_id": person_id, "entry_values": {"score": SLOT}}
    }
    response = send(api, "POST", "/v2/lists/pipeline/entries", version, body_with(entry, number))
    assert_refused(api, response, 400, "invalid_value", "score")


@AT_VERSIONS
@pytest.mark.parametrize("operator", ["$gt", "$lte", "$eq"])
def test_a_filter_number_beyond_1e300_is_a_filter_error(
    api: httpx.Client, version: str, operator: str
) -> None:
    for path, slug in (
        ("/v2/objects/companies/records/query", "employee_count"),
        ("/v2/lists/pipeline/entries/query", "score"),
    ):
        response = send(api, "POST", path, version, body_with({"filter": {slug: {operator: SLOT}}}, HUGE_INT))
        assert_refused(api, response, 400, "filter_error", f"{slug}.{operator}")


@AT_VERSIONS
@pytest.mark.parametrize("operator", ["$contains", "$ends_with", "$starts_with", "$eq"])
def test_a_sixty_thousand_character_filter_text_is_a_filter_error(
    api: httpx.Client, version: str, operator: str
) -> None:
    body = json.dumps({"filter": {"name": {operator: "%_" * 30_000}}}).encode()
    response = send(api, "POST", "/v2/objects/people/records/query", version, body)
    assert_refused(api, response, 400, "filter_error", f"name.{operator}")


@AT_VERSIONS
def test_a_sixty_thousand_character_search_is_refused(api: httpx.Client, version: str) -> None:
    response = send(
        api, "POST", "/v2/objects/records/search", version, json.dumps({"query": "a" * 60_000}).encode()
    )
    assert response.status_code == 400, response.text
    assert_refused(api, response, 400, error_of(response)[0], "query")


@AT_VERSIONS
def test_a_text_value_over_ten_thousand_characters_is_refused(api: httpx.Client, version: str) -> None:
    body = json.dumps({"data": {"values": {"name": "Long", "description": "d" * 10_001}}}).encode()
    response = send(api, "POST", "/v2/objects/companies/records", version, body)
    assert_refused(api, response, 400, "invalid_value", "description", "10,000")


@AT_VERSIONS
def test_an_amount_beyond_int64_is_refused(api: httpx.Client, version: str) -> None:
    value = (
        {"amount_minor": SLOT, "currency_code": "EUR"}
        if version >= "2026-04-01"
        else {"currency_value": SLOT}
    )
    body = body_with({"data": {"values": {"name": "Huge deal", "value": value}}}, str(2**63))
    response = send(api, "POST", "/v2/objects/deals/records", version, body)
    assert response.status_code == 400, response.text
    assert_refused(api, response, 400, error_of(response)[0], "value")


@AT_VERSIONS
@pytest.mark.parametrize(
    ("slug", "value"),
    [
        ("ref", {"target_object": {"a": 1}, "target_record_id": NO_RECORD}),
        ("ref", {"target_object": ["people"], "target_record_id": NO_RECORD}),
        ("phone_numbers", {"original_phone_number": "+442079460958", "country_code": ["GB"]}),
        ("name", {"first_name": "x" * 300}),
        ("email_addresses", "a@" + "b" * 400 + ".com"),
    ],
    ids=["object as object", "object as array", "country as array", "long first name", "long email"],
)
def test_a_value_of_the_wrong_shape_is_invalid_value(
    api: httpx.Client, version: str, slug: str, value: Any
) -> None:
    body = json.dumps({"data": {"values": {slug: value}}}).encode()
    response = send(api, "POST", "/v2/objects/people/records", version, body)
    assert_refused(api, response, 400, "invalid_value", repr(slug))


# ------------------------------------------------------------------ methods


@AT_VERSIONS
@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/v2/objects"), ("PUT", "/v2/notes"), ("PATCH", "/v2/self")]
)
def test_a_wrong_method_is_405_with_allow(api: httpx.Client, version: str, method: str, path: str) -> None:
    response = send(api, method, path, version)
    assert response.headers["allow"]
    assert_refused(api, response, 405, "method_not_allowed", method)


# ------------------------------------------------------------------ big and slow clients


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_a_400_mb_body_is_refused_while_it_streams_in(api: httpx.Client) -> None:
    chunk, chunks = b"x" * 2**16, 400 * 16  # 400 MB, one chunk object sent again and again
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"data": {"values": {"name": "'
        for _ in range(chunks):
            sent += len(chunk)
            yield chunk
        yield b'"}}}'

    before = _rss_mb()
    response = api.post(
        "/v2/objects/people/records", content=body(), headers={"Content-Type": "application/json"}
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    assert response.status_code == 413 and error_of(response)[0] == "body_too_large"
    assert sent < 100 * 2**20, f"the server read {sent / 2**20:.0f} MB before refusing"
    assert peak - before < 100, f"memory grew from {before:.0f} MB to a peak of {peak:.0f} MB"
    assert api.get("/v2/self").status_code == 200  # the client reconnects; the server serves


def test_a_content_length_over_the_limit_is_refused_before_reading(sandbox: overlay.Sandbox) -> None:
    with _raw(sandbox) as conn:
        conn.sendall(
            _head("POST", "/v2/objects/people/records", sandbox.token, {"Content-Length": "3000000"})
        )
        reply = _read_until_closed(conn)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"body_too_large" in reply


def _raw(sandbox: overlay.Sandbox) -> socket.socket:
    host, port = sandbox.url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)))
    conn.settimeout(30)  # a guard against a hang only: the server closes well before
    return conn


def _head(method: str, path: str, token: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox", f"Authorization: Bearer {token}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_until_closed(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_a_half_sent_head_is_answered_408_and_closed(sandbox: overlay.Sandbox, api: httpx.Client) -> None:
    with _raw(sandbox) as conn:
        conn.sendall(b"POST /v2/objects/people/records HTTP/1.1\r\nHost: sandbox\r\n")  # no blank line
        assert _read_until_closed(conn).startswith(b"HTTP/1.1 408 ")
    assert api.get("/v2/self").status_code == 200


def test_a_connection_that_sends_nothing_is_closed(sandbox: overlay.Sandbox, api: httpx.Client) -> None:
    with _raw(sandbox) as conn:
        assert _read_until_closed(conn) == b""
    assert api.get("/v2/self").status_code == 200


def test_a_half_sent_head_after_a_served_request_is_closed(sandbox: overlay.Sandbox) -> None:
    with _raw(sandbox) as conn:
        conn.sendall(_head("GET", "/v2/self", sandbox.token, {}))
        first = conn.recv(65536)
        conn.sendall(b"GET /v2/self HTTP/1.1\r\nHost: sand")
        rest = _read_until_closed(conn)
    assert first.startswith(b"HTTP/1.1 200 ")
    assert b"HTTP/1.1 408 " in rest  # after the rest of the 200, if it came in a second segment


def test_a_body_that_stops_arriving_is_answered_408(sandbox: overlay.Sandbox, api: httpx.Client) -> None:
    with _raw(sandbox) as conn:
        head = _head(
            "POST",
            "/v2/objects/people/records",
            sandbox.token,
            {"Content-Type": "application/json", "Content-Length": "100"},
        )
        conn.sendall(head + b'{"data": ')
        reply = _read_until_closed(conn)
    assert reply.startswith(b"HTTP/1.1 408 ") and b"request_timeout" in reply
    assert api.get("/v2/self").status_code == 200


# ------------------------------------------------------------------ chaos


def test_chaos_429s_carry_the_configured_rate_limit(start_sandbox: Start) -> None:
    _, api = start_sandbox(chaos=Chaos(rate_limit_rate=1.0), read_rate=40.0, write_rate=7.0)
    read = api.get("/v2/self")
    write = api.post("/v2/objects/people/records", json={"data": {"values": {"name": "X"}}})
    assert (read.status_code, write.status_code) == (429, 429)
    assert read.headers["x-ratelimit-limit"] == "40" and write.headers["x-ratelimit-limit"] == "7"
    assert read.headers["retry-after"] == "1"


# ------------------------------------------------------------------ fuzz

HOSTILE_TEXTS = st.one_of(
    st.sampled_from(
        [DEEP, DEEP_OBJECT, LONE_SURROGATE, '"\\udc00x"', HUGE_INT, "-" + HUGE_INT, "1e400", "NaN"]
    ),
    st.sampled_from(["Infinity", "1.2e29", str(2**63), '"%_%_"', "[]", "{}", "null", "true"]),
    st.integers(1, 70_000).map(lambda n: json.dumps("%" * n)),
    st.integers(60, 400).map(lambda n: "[" * n + "]" * n),
    st.text(max_size=40).map(lambda t: json.dumps(t)),
    st.recursive(
        st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=10), st.booleans(), st.none()),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    ).map(json.dumps),
)


def fuzz_once(api: httpx.Client, endpoint: str, hostile: str, version: str) -> None:
    method, path, template = ENDPOINTS[endpoint]
    response = send(api, method, path, version, body_with(template, hostile))
    assert response.status_code < 500, response.text
    assert api.get("/v2/self").status_code == 200


def fuzz(examples: int) -> Callable[[Callable[..., None]], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@fuzz(40)
@given(st.sampled_from(sorted(ENDPOINTS)), HOSTILE_TEXTS, st.sampled_from(VERSIONS))
def test_hostile_values_in_random_endpoints_never_get_a_5xx(
    api: httpx.Client, endpoint: str, hostile: str, version: str
) -> None:
    fuzz_once(api, endpoint, hostile, version)


@pytest.mark.slow
@fuzz(3000)
@given(st.sampled_from(sorted(ENDPOINTS)), HOSTILE_TEXTS, st.sampled_from(VERSIONS))
def test_fuzzing_3000_hostile_requests_never_get_a_5xx(
    api: httpx.Client, endpoint: str, hostile: str, version: str
) -> None:
    fuzz_once(api, endpoint, hostile, version)
