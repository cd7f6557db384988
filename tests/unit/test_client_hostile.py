"""Malformed answers, hostile input and misuse end in the overlay's own errors, carrying the
request id, and never print the key (over httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import overlay
from overlay._clock import ManualClock

from .test_client import KEY, URL, Script, clock, make, no_environment, ok, record

__all__ = ["clock", "make", "no_environment"]  # the fixtures, shared with test_client

Make = Callable[..., overlay.Client]
DEEP = b'{"a":' * 1000 + b"1" + b"}" * 1000


def answer(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content, headers={"x-request-id": f"req_{status}"})


# ------------------------------------------------------------------ malformed answers


def test_json_nested_a_thousand_deep_in_a_success_is_a_parse_error_with_the_request_id(make: Make) -> None:
    with pytest.raises(overlay.ResponseParseError, match="nested too deeply") as caught:
        make(Script(answer(200, DEEP))).records("people").get("r1")
    assert caught.value.request_id == "req_200"


def test_json_nested_a_thousand_deep_in_a_page_is_a_parse_error(make: Make) -> None:
    with pytest.raises(overlay.ResponseParseError, match="nested too deeply") as caught:
        make(Script(answer(200, DEEP))).records("people").query(check=False).to_list()
    assert caught.value.request_id == "req_200"


def test_a_pinned_client_reads_a_body_nested_too_deeply_as_a_parse_error(make: Make) -> None:
    """The version migration reads the body before the client does: it must not leak either."""
    with pytest.raises(overlay.ResponseParseError, match="nested too deeply"):
        make(Script(answer(200, DEEP)), api_version="2025-01-01").records("people").get("r1")


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, overlay.BadRequestError), (409, overlay.ConflictError), (503, overlay.InternalServerError)],
)
def test_json_nested_a_thousand_deep_in_an_error_keeps_the_status_family(
    make: Make, status: int, cls: type[overlay.APIStatusError]
) -> None:
    """The retry loop reads the error's code too: it must not trip over the depth either."""
    script = Script(answer(status, DEEP))
    with pytest.raises(cls, match="nested too deeply") as caught:
        make(script).records("people").create({"name": "Ada"})
    assert caught.value.request_id == f"req_{status}" and caught.value.code == f"http_{status}"


def test_a_conflict_whose_code_is_a_list_is_a_conflict_error_after_its_retries(make: Make) -> None:
    body = {
        "status_code": 409,
        "type": "invalid_request_error",
        "code": ["uniqueness_conflict"],
        "message": "m",
    }
    script = Script(httpx.Response(409, json=body, headers={"x-request-id": "req_409"}))
    with pytest.raises(overlay.ConflictError) as caught:
        make(script).records("people").create({"name": "Ada"})
    assert (caught.value.code, caught.value.message, caught.value.request_id) == ("http_409", "m", "req_409")
    assert caught.value.body["code"] == ["uniqueness_conflict"]
    assert len(script.seen) == 3  # an unreadable code is not a permanent one: retried like any 409


def test_a_create_answered_200_with_an_error_body_is_a_parse_error(make: Make) -> None:
    body = {"status_code": 400, "type": "invalid_request_error", "code": "bad", "message": "m"}
    script = Script(httpx.Response(200, json=body, headers={"x-request-id": "req_odd"}))
    with pytest.raises(overlay.ResponseParseError, match="error's body") as caught:
        make(script).records("people").create({"name": "Ada"})
    assert caught.value.request_id == "req_odd"


def test_a_raw_response_that_is_not_json_is_a_parse_error() -> None:
    from overlay._response import RawResponse

    raw = RawResponse(answer(200, DEEP), lambda: None)
    with pytest.raises(overlay.ResponseParseError) as caught:
        raw.json()
    assert caught.value.request_id == "req_200"


# ------------------------------------------------------------------ misuse and hostile input


def test_a_closed_client_says_it_was_closed(make: Make) -> None:
    client = make(Script(ok(record())))
    client.close()
    with pytest.raises(overlay.ClientClosedError, match="closed"):
        client.records("people").get("r1")
    with pytest.raises(overlay.ClientClosedError):
        client.with_options(max_retries=0)
    assert issubclass(overlay.ClientClosedError, overlay.CRMError)


def test_a_closed_async_client_says_it_was_closed() -> None:
    async def run() -> None:
        transport = httpx.MockTransport(Script(ok(record())))
        async with overlay.AsyncClient(api_key=KEY, base_url=URL, transport=transport) as client:
            pass
        await client.records("people").get("r1")

    with pytest.raises(overlay.ClientClosedError):
        asyncio.run(run())


def test_a_copy_keeps_working_after_the_original_is_closed(make: Make) -> None:
    script = Script(ok(record()))
    client = make(script)
    copy = client.with_options(max_retries=0)
    client.close()
    assert copy.records("people").get("r1").id == "r1"


@pytest.mark.parametrize(
    ("key", "problem"), [("clé-7", "non-ASCII character at position 2"), ("a\nb", "line break")]
)
def test_an_idempotency_key_that_is_not_ascii_text_is_refused(make: Make, key: str, problem: str) -> None:
    script = Script(ok(record(), 201))
    with pytest.raises(overlay.InvalidArgumentError, match=f"Idempotency-Key.*{problem}"):
        make(script).records("people").create({"name": "Ada"}, idempotency_key=key)
    assert script.seen == []


def test_a_lone_surrogate_in_a_value_is_an_invalid_argument_naming_the_field(make: Make) -> None:
    script = Script(ok(record(), 201))
    with pytest.raises(overlay.InvalidArgumentError, match=r"'values\.description'.*lone surrogate"):
        make(script).records("people").create({"name": "Ada", "description": "ok \ud800"})
    assert script.seen == []


def test_a_lone_surrogate_in_a_slug_is_an_invalid_argument(make: Make) -> None:
    with pytest.raises(overlay.InvalidArgumentError, match="lone surrogate"):
        make(Script(ok(record()))).records("peo\udcffple").get("r1")


# ------------------------------------------------------------------ the key


def test_a_key_with_surrounding_whitespace_is_stripped(make: Make) -> None:
    script = Script(ok(record()))
    make(script, api_key=f"  {KEY}\r\n").records("people").get("r1")
    assert script.seen[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (f"{KEY}\x00x", f"a NUL character at position {len(KEY)}"),
        ("sk_live_é_secret", "a non-ASCII character at position 8"),
        ("sk_live\nsecret", "a line break at position 7"),
        ("sk_live\x1bsecret", "a control character at position 7"),
    ],
)
def test_a_key_http_cannot_carry_is_refused_by_what_is_wrong_not_by_its_text(key: str, problem: str) -> None:
    with pytest.raises(overlay.ConfigurationError, match=problem) as caught:
        overlay.Client(api_key=key, base_url=URL)
    shown = "".join(traceback.format_exception(caught.value))
    assert "secret" not in shown and "sk_live" not in shown
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_a_malformed_key_from_with_options_is_refused_too(make: Make) -> None:
    with pytest.raises(overlay.ConfigurationError, match="non-ASCII"):
        make(Script(ok(record()))).with_options(api_key="sk_é")


def test_foreign_exception_text_is_redacted_before_it_is_wrapped(make: Make) -> None:
    leak = httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY} '")
    leak.__context__ = ValueError(f"while sending Bearer {KEY}")
    with pytest.raises(overlay.APIConnectionError) as caught:
        make(Script(leak), max_retries=0).records("people").get("r1")
    shown = "".join(traceback.format_exception(caught.value))
    assert KEY not in shown and "[redacted]" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.LocalProtocolError)


# ------------------------------------------------------------------ hooks and the clock


def test_a_single_hook_is_accepted_without_a_list(make: Make) -> None:
    seen: list[str] = []
    client = make(Script(ok(record())), on_request=lambda r: seen.append(r.method), on_response=print)
    client.records("people").get("r1")
    assert seen == ["GET"]
    assert len(client.options.on_request) == 1 and len(client.options.on_response) == 1


def test_a_hook_that_is_not_callable_is_refused_by_position() -> None:
    with pytest.raises(overlay.ConfigurationError, match=r"on_response\[1\] is not callable"):
        overlay.Client(api_key=KEY, base_url=URL, on_response=[print, "print"])  # type: ignore[list-item]


def test_rate_limit_pacing_waits_on_the_clients_clock(make: Make) -> None:
    limited = {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0"}
    clock = ManualClock()
    client = make(Script(ok(record(), **limited)), clock=clock)
    for _ in range(3):
        client.records("people").get("r1")
    assert clock.slept == pytest.approx([0.5, 0.5])


def test_non_ascii_text_in_a_value_is_sent_as_given(make: Make) -> None:
    script = Script(ok(record(), 201))
    make(script).records("people").create({"name": "Zoë"})
    body: dict[str, Any] = json.loads(script.seen[0].content)
    assert body == {"data": {"values": {"name": "Zoë"}}}
