"""overlay.Client over httpx.MockTransport: settings, headers, errors, retries, logging, paging."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import overlay
from overlay._clock import ManualClock
from overlay._config import LATEST_VERSION

from .test_errors import STATUS_ERRORS

URL = "http://api.test"
KEY = "tok_live_secret_value"
RECORD_ID = {"workspace_id": "w", "object_id": "o", "record_id": "r1"}
OPTION_ID = {"workspace_id": "w", "attribute_id": "a", "option_id": "1"}


def record(record_id: str = "r1", name: str = "Ada Lovelace", **values: Any) -> dict[str, Any]:
    meta = {
        "active_from": "2026-01-01T00:00:00Z",
        "active_until": None,
        "created_by_actor": {"type": "system"},
    }
    full = {
        "name": [
            {"attribute_type": "personal-name", **meta, "first_name": "", "last_name": "", "full_name": name}
        ],
        **values,
    }
    return {"id": {**RECORD_ID, "record_id": record_id}, "created_at": "2026-01-01T00:00:00Z", "values": full}


def error(status: int, code: str, message: str = "m") -> httpx.Response:
    kind = "api_error" if status >= 500 else "invalid_request_error"
    body = {"status_code": status, "type": kind, "code": code, "message": message}
    return httpx.Response(status, json=body, headers={"x-request-id": f"req_{status}"})


Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A mock API answering with each response (or raising each exception) in turn."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_API_KEY", "CRM_BASE_URL", "CRM_VERSION", "CRM_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> ManualClock:
    """The clock every client of ``make`` waits on: retries and pacing take no real time."""
    return ManualClock()


@pytest.fixture
def make(clock: ManualClock) -> Iterator[Callable[..., overlay.Client]]:
    made: list[overlay.Client] = []

    def build(script: Script, **options: Any) -> overlay.Client:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", URL)
        options.setdefault("clock", clock)
        client = overlay.Client(transport=httpx.MockTransport(script), **options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


def ok(data: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"data": data}, headers={"x-request-id": "req_ok", **headers})


# ------------------------------------------------------------------ settings


def test_a_missing_key_names_the_setting_and_points_to_the_sandbox() -> None:
    with pytest.raises(overlay.ConfigurationError, match=r"CRM_API_KEY.*overlay\.Sandbox"):
        overlay.Client(base_url=URL)
    with pytest.raises(overlay.ConfigurationError, match=r"CRM_BASE_URL.*overlay\.Sandbox"):
        overlay.Client(api_key=KEY)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_API_KEY", KEY)
    monkeypatch.setenv("CRM_BASE_URL", URL + "/")
    script = Script(ok({"active": True}))
    with overlay.Client(transport=httpx.MockTransport(script)) as client:
        assert client.options.base_url == URL
        assert client.options.timeout == httpx.Timeout(60.0, connect=5.0)
        assert client.options.max_retries == 2


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"api_version": "2024-01-01"}, "not supported"),
        ({"base_url": "api.test"}, "http://"),
        ({"max_retries": -1}, "max_retries"),
        ({"log": "loud"}, "log must be"),
        ({"api_key": 12345}, r"^api_key is text \(str\), got int\.$"),
        ({"api_key": b"sk_SECRET"}, r"^api_key is text \(str\), got bytes\.$"),
        ({"base_url": 5}, r"^base_url is text \(str\), got int\.$"),
        ({"timeout": "x"}, r"^timeout is a number of seconds above 0 or an httpx\.Timeout, got str\.$"),
        ({"timeout": -1}, r"got -1\.$"),
        ({"max_retries": "2"}, r"^max_retries is a whole number, got str\.$"),
        ({"metadata_ttl": -5}, r"^metadata_ttl is a number of seconds, 0 or more, got -5\.$"),
        ({"on_request": 5}, r"^on_request is a callable or a list of them, got int\.$"),
        ({"log": 3}, r"^log is a level name, got int\.$"),
        ({"timeout": float("inf")}, r"^timeout is a number of seconds above 0 .* got inf\.$"),
        ({"metadata_ttl": float("nan")}, r"^metadata_ttl is a number of seconds, 0 or more, got nan\.$"),
        ({"max_retries": 10**30}, r"^max_retries is at most 100"),
        ({"clock": 1}, r"^clock is an overlay clock .* got int\.$"),
        ({"transport": 1}, r"^transport is an httpx\.BaseTransport, got int\.$"),
        ({"http_client": 1}, r"^http_client is an httpx\.Client, got int\.$"),
    ],
)
def test_unusable_settings_are_refused(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(overlay.ConfigurationError, match=problem):
        overlay.Client(**{"api_key": KEY, "base_url": URL, **options})


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("http://[::1", "not a valid URL (Invalid IPv6 URL)"),
        ("http://127.0.0.1:99999", "Port out of range"),
        ("http://api.test:port", "Port could not be cast"),
        ("127.0.0.1:8000", "it has no scheme"),
        ("api.test/v2", "it has no scheme"),
        ("ftp://api.test", "its scheme 'ftp' is not http or https"),
        ("http://", "it has no host"),
        ("https://api .test", "a space or control character at position 11"),
        ("http://api.test:0", "port 0"),
        ("http://api.test/v2?region=eu", "it has a query string"),
        ("http://api.test/#top", "or fragment"),
    ],
)
def test_a_base_url_that_is_not_a_url_is_refused_at_construction_by_setting_and_problem(
    base_url: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(overlay.ConfigurationError, match=r"base_url \(CRM_BASE_URL\)") as given:
        overlay.Client(api_key=KEY, base_url=base_url)
    assert problem in str(given.value)
    monkeypatch.setenv("CRM_BASE_URL", base_url)
    with pytest.raises(overlay.ConfigurationError, match=re.escape(problem)):
        overlay.AsyncClient(api_key=KEY)
    with overlay.Client(api_key=KEY, base_url=URL) as client, pytest.raises(overlay.ConfigurationError):
        client.with_options(base_url=base_url)


def test_a_password_or_query_secret_in_a_url_shows_in_no_repr_log_line_or_error(
    make: Callable[..., overlay.Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target = "https://hooks.example/in?token=tok_in_query&api_key=k_in_query&region=eu"
    webhook = {
        "id": {"workspace_id": "w", "webhook_id": "h"},
        "target_url": target,
        "subscriptions": [{"event_type": "record.created", "filter": None}],
        "api_version": "2026-04-01",
        "status": "active",
        "created_at": "2026-01-01T00:00:00Z",
    }
    refused = httpx.ConnectError("cannot reach http://ada:hunter2pw@proxy.test?secret=s_in_query")
    client = make(Script(ok(webhook), refused), log="debug", max_retries=0)
    assert client.webhooks.get("h").target_url == target  # what the caller asked for stays whole
    with pytest.raises(overlay.APIConnectionError) as caught:
        client.whoami()
    shown = [repr(client), repr(client.options), str(caught.value), str(caught.value.__cause__), caplog.text]
    bad_urls = (
        "http://ada:hunter2pw@api.test",
        "http://ada:hunter2pw@api.test:99999",
        "http://hunter2pw@api.test",
        "http://api.test/v2?token=tok_in_query",
    )
    for url in bad_urls:
        with pytest.raises(overlay.ConfigurationError) as userinfo:
            overlay.Client(api_key=KEY, base_url=url)
        shown.append(str(userinfo.value))
    assert "user name or password, which would replace the API key" in shown[-2]
    assert "'http://api.test/v2?token=[redacted]' cannot be used: it has a query string" in shown[-1]
    assert "in?token=[redacted]&api_key=[redacted]&region=eu" in caplog.text
    assert "ada:[redacted]@proxy.test?secret=[redacted]" in str(caught.value)
    for secret in ("hunter2pw", "tok_in_query", "k_in_query", "s_in_query"):
        assert [text for text in shown if secret in text] == []


def test_the_key_never_shows_in_reprs(make: Callable[..., overlay.Client]) -> None:
    client = make(Script(ok({})))
    assert KEY not in repr(client) and KEY not in repr(client.options)


def test_every_request_carries_the_key_the_version_and_a_user_agent(
    make: Callable[..., overlay.Client],
) -> None:
    script = Script(ok(record()))
    make(script).records("people").get("r1")
    sent = script.seen[0]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["crm-version"] == LATEST_VERSION
    assert sent.headers["user-agent"].startswith("crm-sdk-python/")
    assert sent.url == f"{URL}/v2/objects/people/records/r1"


def test_with_options_changes_a_copy_and_shares_the_connections(make: Callable[..., overlay.Client]) -> None:
    script = Script(error(503, "unavailable"))
    client = make(script)
    patient = client.with_options(max_retries=5, timeout=3)
    assert (client.options.max_retries, patient.options.max_retries) == (2, 5)
    assert patient.options.timeout.connect == 3
    with pytest.raises(overlay.InternalServerError):
        patient.records("people").get("r1")
    assert len(script.seen) == 6
    patient.close()
    with pytest.raises(overlay.InternalServerError):
        client.with_options(max_retries=0).records("people").get("r1")


@pytest.mark.parametrize("cls", [overlay.Client, overlay.AsyncClient])
def test_with_options_takes_every_constructor_argument(cls: type[Any]) -> None:
    """As openai's ``copy()`` test does: a setting added to ``__init__`` must reach ``with_options``."""
    made = inspect.signature(cls.__init__).parameters
    copied = inspect.signature(cls.with_options).parameters
    assert list(copied) == list(made)
    for name in made:
        if name != "self":
            assert copied[name].kind is inspect.Parameter.KEYWORD_ONLY, name
            assert copied[name].default is None, name


def test_with_options_changes_the_account_hooks_and_metadata_ttl(make: Callable[..., overlay.Client]) -> None:
    script = Script(ok(record()))
    client = make(script)
    seen: list[str] = []
    other = client.with_options(
        api_key=" tok_other\n",
        base_url="http://other.test/",
        metadata_ttl=5.0,
        on_request=lambda r: seen.append(str(r.url)),
    )
    other.records("people").get("r1")
    client.records("people").get("r1")
    assert [r.headers["authorization"] for r in script.seen] == ["Bearer tok_other", f"Bearer {KEY}"]
    assert seen == ["http://other.test/v2/objects/people/records/r1"]
    assert other.options.metadata_ttl == 5.0 and client.options.metadata_ttl == 300.0
    assert other._shared.limiter is not client._shared.limiter  # another account, another limit
    assert other._shared.pool is client._shared.pool  # the same connections


def test_with_options_can_give_a_copy_its_own_transport(make: Callable[..., overlay.Client]) -> None:
    first, second = Script(ok(record("r1"))), Script(ok(record("r2")))
    client = make(first)
    copy = client.with_options(transport=httpx.MockTransport(second))
    assert copy.records("people").get("x").id == "r2" and client.records("people").get("x").id == "r1"
    copy.close()
    assert client.records("people").get("x").id == "r1"


def test_a_callers_http_client_is_used_and_left_open() -> None:
    script = Script(ok(record()))
    mine = httpx.Client(transport=httpx.MockTransport(script))
    with overlay.Client(api_key=KEY, base_url=URL, http_client=mine) as client:
        assert client.records("people").get("r1").id == "r1"
    assert not mine.is_closed and len(script.seen) == 1
    mine.close()


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("status", "cls"), STATUS_ERRORS)
def test_each_status_family_has_its_error(
    make: Callable[..., overlay.Client], status: int, cls: type[overlay.APIStatusError]
) -> None:
    client = make(Script(error(status, "some_code", "what happened")), max_retries=0)
    with pytest.raises(cls) as caught:
        client.records("people").get("r1")
    err = caught.value
    assert (err.status, err.code, err.message, err.request_id) == (
        status,
        "some_code",
        "what happened",
        f"req_{status}",
    )
    assert err.body["code"] == "some_code" and isinstance(err, overlay.CRMError)


def test_connection_failures_and_timeouts_are_overlay_errors(make: Callable[..., overlay.Client]) -> None:
    with pytest.raises(overlay.APITimeoutError):
        make(Script(httpx.ReadTimeout("slow"))).records("people").get("r1")
    with pytest.raises(overlay.APIConnectionError) as caught:
        make(Script(httpx.ConnectError("refused"))).records("people").get("r1")
    assert not isinstance(caught.value, overlay.APIStatusError)


def test_a_body_that_does_not_fit_is_a_parse_error_with_the_request_id(
    make: Callable[..., overlay.Client],
) -> None:
    client = make(Script(ok({"id": RECORD_ID})))
    with pytest.raises(overlay.ResponseParseError, match="created_at") as caught:
        client.records("people").get("r1")
    assert caught.value.request_id == "req_ok"


def test_an_html_error_page_still_maps_to_the_status_family(make: Callable[..., overlay.Client]) -> None:
    page = httpx.Response(502, text="<html>Bad gateway</html>")
    with pytest.raises(overlay.InternalServerError, match="Bad gateway"):
        make(Script(page), max_retries=0).records("people").get("r1")


def test_an_unknown_attribute_gets_the_nearest_known_slug(make: Callable[..., overlay.Client]) -> None:
    attribute = {
        "id": {"workspace_id": "w", "object_id": "o", "attribute_id": "a"},
        "title": "Email addresses",
        "api_slug": "email_addresses",
        "type": "email-address",
        "is_system_attribute": True,
        "is_writable": True,
        "is_required": False,
        "is_unique": True,
        "is_multiselect": True,
        "is_archived": False,
        "config": {},
        "created_at": "2026-01-01T00:00:00Z",
    }
    people = {
        "id": {"workspace_id": "w", "object_id": "o"},
        "api_slug": "people",
        "singular_noun": "Person",
        "plural_noun": "People",
        "created_at": "2026-01-01T00:00:00Z",
    }

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/objects":
            return ok([people])
        if request.url.path == "/v2/objects/people/attributes":
            return ok([attribute])
        return error(400, "unknown_attribute", "Unknown attribute 'emial_addresses'.")

    script = Script(api)
    client = make(script)
    with pytest.raises(overlay.BadRequestError) as caught:
        client.records("people").create({"emial_addresses": ["ada@example.com"]})
    assert caught.value.suggestion == "email_addresses"
    assert "Did you mean 'email_addresses'?" in str(caught.value)
    # The metadata is cached: a second mistake costs one request, not three.
    with pytest.raises(overlay.BadRequestError):
        client.records("people").create({"emial_addresses": ["b@example.com"]})
    assert len(script.seen) == 4


def test_an_unknown_object_gets_the_nearest_known_slug(make: Callable[..., overlay.Client]) -> None:
    people = {"id": {"workspace_id": "w", "object_id": "o"}, "api_slug": "people", "singular_noun": "Person"}
    people |= {"plural_noun": "People", "created_at": "2026-01-01T00:00:00Z"}

    def api(request: httpx.Request) -> httpx.Response:
        return (
            ok([people])
            if request.url.path == "/v2/objects"
            else error(404, "not_found", "No object 'peple'.")
        )

    with pytest.raises(overlay.NotFoundError) as caught:
        make(Script(api)).records("peple").get("r1")
    assert caught.value.suggestion == "people"


def test_arguments_that_cannot_make_a_request_name_the_problem(make: Callable[..., overlay.Client]) -> None:
    with pytest.raises(overlay.InvalidArgumentError, match="values"):
        make(Script(ok({}))).records("people").create(values=None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ retries and idempotency


def test_the_retry_schedule_backs_off_and_honours_retry_after_forms(
    make: Callable[..., overlay.Client], clock: ManualClock
) -> None:
    script = Script(
        error(503, "down"),
        httpx.Response(429, headers={"retry-after-ms": "1500"}),
        ok(record()),
    )
    make(script, max_retries=3).records("people").get("r1")
    assert len(script.seen) == 3
    assert 0.375 <= clock.slept[0] <= 0.5 and clock.slept[1] == 1.5


def test_a_write_is_retried_with_one_idempotency_key(make: Callable[..., overlay.Client]) -> None:
    script = Script(error(500, "boom"), httpx.RemoteProtocolError("dropped"), ok(record(), 201))
    created = make(script).records("people").create({"name": "Ada Lovelace"})
    assert created.id == "r1"
    keys = {r.headers["idempotency-key"] for r in script.seen}
    assert len(script.seen) == 3 and len(keys) == 1


def test_a_write_without_a_key_is_not_retried(make: Callable[..., overlay.Client]) -> None:
    script = Script(error(503, "down"), ok(record(), 201))
    with pytest.raises(overlay.InternalServerError):
        make(script, idempotency_keys=False).records("people").create({"name": "Ada"})
    assert len(script.seen) == 1


def test_a_callers_idempotency_key_is_sent(make: Callable[..., overlay.Client]) -> None:
    script = Script(ok(record(), 201))
    make(script).records("people").create({"name": "Ada"}, idempotency_key="import-row-7")
    assert script.seen[0].headers["idempotency-key"] == "import-row-7"


def test_an_async_hook_on_the_sync_client_is_refused() -> None:
    async def hook(request: httpx.Request) -> None:
        return None

    with pytest.raises(overlay.ConfigurationError, match="AsyncClient"):
        overlay.Client(api_key=KEY, base_url=URL, on_request=[hook])


def test_hooks_see_each_logical_request_once(make: Callable[..., overlay.Client]) -> None:
    requests: list[str] = []
    statuses: list[int] = []
    script = Script(error(503, "down"), ok(record()))
    client = make(
        script,
        on_request=[lambda r: requests.append(r.url.path)],
        on_response=[lambda r: statuses.append(r.status_code)],
    )
    client.records("people").get("r1")
    assert requests == ["/v2/objects/people/records/r1"] and statuses == [200]


# ------------------------------------------------------------------ logging


def test_debug_logs_redact_the_key_and_webhook_secrets(
    make: Callable[..., overlay.Client], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "whsec_c2VjcmV0IHNpZ25pbmcga2V5"
    webhook = {
        "id": {"workspace_id": "w", "webhook_id": "h"},
        "target_url": "https://example.com/hook",
        "subscriptions": [{"event_type": "record.created", "filter": None}],
        "api_version": "2026-04-01",
        "status": "active",
        "created_at": "2026-01-01T00:00:00Z",
        "secret": secret,
    }
    caplog.set_level(logging.DEBUG, logger="overlay")
    client = make(Script(ok(webhook, 201)), log="debug")
    created = client.webhooks.create(
        target_url="https://example.com/hook", subscriptions=[{"event_type": "record.created"}]
    )
    assert created.secret == secret and secret not in repr(created)
    assert "POST /v2/webhooks -> 201" in caplog.text
    assert KEY not in caplog.text and secret not in caplog.text
    assert "[redacted]" in caplog.text


# ------------------------------------------------------------------ records and pages


def test_records_read_as_plain_values(make: Callable[..., overlay.Client]) -> None:
    meta = {
        "active_from": "2026-01-01T00:00:00Z",
        "active_until": None,
        "created_by_actor": {"type": "system"},
    }

    def email(address: str) -> dict[str, Any]:
        parts = {"original_email_address": address, "email_domain": "x.io", "email_root_domain": "x.io"}
        return {
            "attribute_type": "email-address",
            **meta,
            "email_address": address,
            **parts,
            "email_local_specifier": "a",
        }

    emails = [email("ada@x.io"), email("lovelace@x.io")]
    stage = [
        {
            "attribute_type": "select",
            **meta,
            "option": {"id": OPTION_ID, "title": "Lead", "is_archived": False},
        }
    ]
    rec = make(Script(ok(record(email_addresses=emails, stage=stage)))).records("people").get("r1")
    assert rec["name"] == "Ada Lovelace" and rec["stage"] == "Lead"
    assert rec.first("email_addresses") == "ada@x.io"
    assert rec.all("email_addresses") == ["ada@x.io", "lovelace@x.io"]
    assert rec.first("missing") is None and rec.all("missing") == []
    with pytest.raises(KeyError):
        rec["missing"]
    assert rec.to_dict()["values"]["stage"][0]["option"]["title"] == "Lead"
    assert rec.request_id == "req_ok" and rec.object == "people"


def test_offset_pages_are_followed_until_a_short_page(make: Callable[..., overlay.Client]) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        start, limit = body["offset"], body["limit"]
        return ok([record(f"r{i}", f"P{i}") for i in range(start, min(start + limit, 5))])

    script = Script(api)
    people = make(script).records("people").query({"name": {"$not_empty": True}}, page_size=2).to_list()
    assert people.pluck("name") == ["P0", "P1", "P2", "P3", "P4"]
    assert [json.loads(r.content)["offset"] for r in script.seen] == [0, 2, 4]
    assert people.find_by(name="P3") is people[3] and people.find_by(name="nobody") is None


def test_max_items_stops_early_and_asks_for_no_more_than_needed(make: Callable[..., overlay.Client]) -> None:
    script = Script(lambda r: ok([record(f"r{i}") for i in range(json.loads(r.content)["limit"])]))
    pages = list(make(script).records("people").query(page_size=4, max_items=6).pages())
    assert [len(p.items) for p in pages] == [4, 2]
    assert [json.loads(r.content)["limit"] for r in script.seen] == [4, 2]
    assert pages[0].request_id == "req_ok"


def test_cursor_pages_are_followed_until_next_cursor_is_null(make: Callable[..., overlay.Client]) -> None:
    def note(i: int) -> dict[str, Any]:
        return {
            "id": {"workspace_id": "w", "note_id": f"n{i}"},
            "parent": {"object": "people", "record_id": "r1"},
            "title": f"Note {i}",
            "format": "plaintext",
            "content_plaintext": "",
            "created_by_actor": {"type": "system"},
            "created_at": "2026-01-01T00:00:00Z",
        }

    def api(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor", "0"))
        following = str(start + 2) if start + 2 < 5 else None
        body = {
            "data": [note(i) for i in range(start, min(start + 2, 5))],
            "pagination": {"next_cursor": following},
        }
        return httpx.Response(200, json=body)

    script = Script(api)
    titles = [n.title for n in make(script).notes.list(page_size=2)]
    assert titles == [f"Note {i}" for i in range(5)]
    assert [r.url.params.get("cursor") for r in script.seen] == [None, "2", "4"]


def test_with_raw_response_gives_status_headers_and_a_parse(make: Callable[..., overlay.Client]) -> None:
    raw = make(Script(ok(record()))).records("people").with_raw_response.get("r1")
    assert isinstance(raw, overlay.RawResponse)
    assert (raw.status_code, raw.request_id) == (200, "req_ok")
    assert raw.parse()["name"] == "Ada Lovelace"


def test_the_async_client_behaves_the_same() -> None:
    script = Script(error(503, "down"), ok(record(), 201))
    clock = ManualClock()
    seen: list[str] = []

    async def on_response(response: httpx.Response) -> None:
        seen.append(f"async {response.status_code}")

    async def run() -> overlay.Record:
        async with overlay.AsyncClient(
            api_key=KEY,
            base_url=URL,
            transport=httpx.MockTransport(script),
            on_request=[lambda request: seen.append(request.method)],  # a plain function works too
            on_response=[on_response],
            clock=clock,
        ) as client:
            return await client.records("people").create({"name": "Ada Lovelace"})

    created = asyncio.run(run())
    assert created["name"] == "Ada Lovelace" and seen == ["POST", "async 201"]
    assert len({r.headers["idempotency-key"] for r in script.seen}) == 1 and len(script.seen) == 2
    assert len(clock.slept) == 1


def test_query_records_parse_their_values_when_read(make: Callable[..., overlay.Client]) -> None:
    broken = record("r2", "Bad")
    broken["values"]["name"][0].pop("full_name")
    client = make(Script(ok([record("r1"), broken])))
    first, second = client.records("people").query(check=False).to_list()
    assert first["name"] == "Ada Lovelace" and second.id == "r2"  # the id needs no parsing
    with pytest.raises(overlay.ResponseParseError, match="full_name") as caught:
        second["name"]
    assert caught.value.request_id == "req_ok"
    assert first.to_dict() == record("r1") and first.raw.id.record_id == "r1"


def test_a_page_item_without_the_shape_of_a_record_fails_at_once(make: Callable[..., overlay.Client]) -> None:
    client = make(Script(ok([{"id": {"record_id": "r1"}}])))
    with pytest.raises(overlay.ResponseParseError, match=r"id\.record_id, created_at and values"):
        client.records("people").query(check=False).to_list()


# ------------------------------------------------------------------ pinned to an older version


def test_a_pinned_client_reads_the_currency_attributes_once(make: Callable[..., overlay.Client]) -> None:
    """An amount without a code is in its attribute's default currency, which the conversion
    to 2025-01-01's major units needs: the client reads it once, then keeps it."""
    attributes = [
        {"api_slug": "budget", "type": "currency", "config": {"currency": {"default_currency_code": "JPY"}}},
        {"api_slug": "name", "type": "text", "config": {"currency": None}},
    ]
    script = Script(ok(attributes), ok(record(), 201), ok(record(), 201))
    deals = make(script, api_version="2025-01-01").records("deals")
    deals.create({"budget": 1250})
    deals.create({"budget": [{"amount_minor": 7}], "name": "Kept"})
    assert [(r.method, r.url.path) for r in script.seen] == [
        ("GET", "/v2/objects/deals/attributes"),
        ("POST", "/v2/objects/deals/records"),
        ("POST", "/v2/objects/deals/records"),
    ]
    sent = [json.loads(r.content)["data"]["values"] for r in script.seen[1:]]
    assert sent == [
        {"budget": {"currency_value": 1250, "currency_code": "JPY"}},
        {"budget": [{"currency_value": 7, "currency_code": "JPY"}], "name": "Kept"},
    ]


def test_a_failed_currency_look_up_fails_the_write(make: Callable[..., overlay.Client]) -> None:
    missing = httpx.Response(404, json={"error": {"code": "not_found", "message": "No object 'dealz'."}})
    script = Script(missing)
    with pytest.raises(overlay.NotFoundError, match="No object 'dealz'"):
        make(script, api_version="2025-01-01").records("dealz").create({"budget": 1250})
    assert {r.method for r in script.seen} == {"GET"}, "the write was not sent"
    script = Script(httpx.Response(200, text="<html>"), ok(record(), 201))
    make(script, api_version="2025-01-01").records("deals").create({"budget": {"amount_minor": 1250}})
    assert json.loads(script.seen[1].content)["data"]["values"] == {"budget": {"currency_value": 12.5}}


def test_clients_share_one_ssl_context_and_make_their_connection_pool_on_first_use() -> None:
    from overlay._transport import LazyHTTPTransport, shared_ssl_context

    first = overlay.Client(api_key="sk_test", base_url="https://api.example.com")
    second = overlay.Client(api_key="sk_other", base_url="https://eu.api.example.com")
    lazy = [c._shared.pool.transport for c in (first, second)]
    assert all(isinstance(t, LazyHTTPTransport) and t._inner is None for t in lazy), "nothing built yet"
    pools = [t._transport()._pool for t in lazy]
    assert pools[0] is not pools[1]
    assert pools[0]._ssl_context is pools[1]._ssl_context is shared_ssl_context()
    assert shared_ssl_context().verify_mode is ssl.CERT_REQUIRED and shared_ssl_context().check_hostname
    first.close()
    second.close()
