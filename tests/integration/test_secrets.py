"""Secrets never printed: one run with malformed keys and a valid one, against the sandbox,
collects every message, repr, traceback, log line (debug on, httpx and httpcore included),
error file and CLI output, and finds neither the key nor a webhook secret in any of them."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import overlay
import overlay.cli

KEY = "sk_live_7Hq2mR9xVb4KpT1wQz"
WRONG_KEY = "sk_live_Wr0ngButWellFormed42"
MALFORMED_KEYS = [f"{KEY}\x00", f"{KEY}é", f"{KEY}\nX-Injected: 1", f"sk\x07{KEY}"]


class Seen:
    """Every text the run showed, in one place to grep."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, *values: Any) -> None:
        for value in values:
            self.texts.append(value if isinstance(value, str) else repr(value))

    def error(self, exc: BaseException) -> None:
        self.add(str(exc), repr(exc), "".join(traceback.format_exception(exc)))
        cause = exc.__cause__ or exc.__context__
        while cause is not None:
            self.add(str(cause), repr(cause), cause.args)
            cause = cause.__cause__ or cause.__context__

    def raised(self, fn: Callable[[], Any], expected: type[BaseException]) -> BaseException:
        with pytest.raises(expected) as caught:
            fn()
        self.error(caught.value)
        return caught.value

    def hits(self, secret: str) -> list[str]:
        return [text for text in self.texts if secret in text]


def cli(seen: Seen, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    code = overlay.cli.main(list(argv))
    out = capsys.readouterr()
    seen.add(out.out, out.err)
    return code


@pytest.fixture
def sandbox() -> Any:
    with overlay.Sandbox(tokens=(KEY,), seed_data=True, read_rate=None, write_rate=None) as sb:
        yield sb


def test_no_key_or_webhook_secret_shows_anywhere(
    sandbox: overlay.Sandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: overlay, httpx, httpcore
    seen = Seen()
    secrets: list[str] = []

    # Malformed keys: refused before anything is sent, by what is wrong with them.
    for bad in MALFORMED_KEYS:
        error = seen.raised(
            lambda bad=bad: overlay.Client(api_key=bad, base_url=sandbox.url), overlay.ConfigurationError
        )
        assert "position" in str(error)
        seen.raised(lambda bad=bad: sandbox.connect_async(api_key=bad), overlay.ConfigurationError)

    # A well-formed key the server does not know: a 401, from the server's words only.
    with sandbox.connect(api_key=WRONG_KEY, log="debug") as stranger:
        seen.raised(stranger.whoami, overlay.AuthenticationError)

    # A valid key read from a file, trailing newline and all.
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"{KEY}\n")
    with overlay.Client(api_key=key_file.read_text(), base_url=sandbox.url, log="debug") as crm:
        seen.add(crm, crm.options, crm.whoami())
        people = crm.records("people").query(max_items=3).to_list()
        seen.add(people, [p.to_dict() for p in people])
        seen.raised(
            lambda: crm.records("people").get("00000000-0000-0000-0000-000000000000"), overlay.NotFoundError
        )
        seen.raised(lambda: crm.records("peple").query().to_list(), overlay.NotFoundError)
        seen.raised(lambda: crm.with_options(api_key=f"{KEY}é"), overlay.ConfigurationError)

        # A hook that puts the key into a header HTTP cannot carry: httpcore refuses it (and
        # logs the refusal at debug), the overlay wraps the refusal.
        def leaky(request: httpx.Request) -> None:
            request.headers["X-Echo"] = f"Bearer {KEY}\n"

        seen.raised(lambda: crm.with_options(on_request=leaky).whoami(), overlay.APIConnectionError)

        created = crm.webhooks.create(target_url="http://127.0.0.1:9/hooks", subscriptions=["record.created"])
        secrets.append(created.secret)
        seen.add(created, crm.webhooks.get(created.id.webhook_id), crm.webhooks.list().to_list())
        rotated = crm.webhooks.rotate_secret(created.id.webhook_id, overlap_seconds=60)
        secrets.append(rotated.secret)
        seen.add(rotated, crm.webhooks.with_raw_response.get(created.id.webhook_id))

        errors = tmp_path / "bulk.errors.jsonl"
        report = crm.bulk.create(
            "companies",
            [{"name": "Secretless Ltd"}, {"name": "Bad domain", "domains": "not a domain !!"}],
            error_file=errors,
            journal=tmp_path / "bulk.journal",
        )
        assert report.failed == 1
        seen.add(report, report.errors, errors.read_text(), (tmp_path / "bulk.journal").read_text())
        seen.raised(
            lambda: crm.bulk.create("companies", [{"name": "x", "domains": "x y"}], raise_on_error=True),
            overlay.BulkError,
        )

    # The command line, with the key from the environment as a file would give it.
    monkeypatch.setenv("CRM_BASE_URL", sandbox.url)
    monkeypatch.setenv("CRM_API_KEY", f"{KEY}\n")
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", secrets[-1])
    assert cli(seen, capsys, "query", "people", "--limit", "2") == 0
    rows = tmp_path / "companies.csv"
    rows.write_text("name,domains\nGood Co,good.example\nBad Co,not a domain !!\n")
    assert cli(seen, capsys, "import", str(rows), "--object", "companies", "--quiet") == 1
    seen.add(*(p.read_text() for p in tmp_path.glob("companies.errors.*")))
    assert cli(seen, capsys, "export", "companies", "-o", str(tmp_path / "out.jsonl"), "--quiet") == 0
    for bad in (f"{KEY}é", f"{KEY}\x07"):
        monkeypatch.setenv("CRM_API_KEY", bad)
        assert cli(seen, capsys, "query", "people") != 0

    seen.add(caplog.text, *(record.getMessage() for record in caplog.records))
    assert any("httpcore" in record.name for record in caplog.records), "httpcore's debug log was captured"
    assert any("send_request_headers.failed" in record.getMessage() for record in caplog.records)
    assert len(secrets) == 2 and all(s.startswith("whsec_") for s in secrets)
    for secret in (
        KEY,
        KEY.removeprefix("sk_live_"),
        WRONG_KEY,
        *secrets,
        *(s.removeprefix("whsec_") for s in secrets),
    ):
        assert seen.hits(secret) == [], f"{secret[:6]}... shown"


def test_no_password_or_query_secret_of_a_url_shows_anywhere(
    sandbox: overlay.Sandbox,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A base URL with a password is refused by name (httpx would send it instead of the key);
    a URL with ``?token=`` in a webhook's target shows redacted in the debug log."""
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    password, token = "hunter2pw", "tok_q_5Jm8Zr"
    with_password = sandbox.url.replace("http://", f"http://user:{password}@")
    error = seen.raised(
        lambda: overlay.Client(api_key=KEY, base_url=with_password, log="debug"), overlay.ConfigurationError
    )
    assert "base_url (CRM_BASE_URL)" in str(error) and "user:[redacted]@" in str(error)

    monkeypatch.setenv("CRM_LOG", "debug")
    monkeypatch.setenv("CRM_API_KEY", KEY)
    for url in (with_password, "http://user:hunter2pw@127.0.0.1:9", f"{sandbox.url}/?api_key={token}"):
        monkeypatch.setenv("CRM_BASE_URL", url)
        assert cli(seen, capsys, "query", "people") != 0
    assert "CRM_BASE_URL" in seen.texts[-1]

    with sandbox.connect(api_key=KEY, log="debug") as crm:
        target = f"http://127.0.0.1:9/hooks?token={token}&api_key={token}&region=eu"
        hook = crm.webhooks.create(target_url=target, subscriptions=["record.created"])
        assert crm.webhooks.get(hook.id).target_url == target  # kept whole where the caller asked
        seen.add(repr(crm), repr(crm.options))
    seen.add(caplog.text, *(record.getMessage() for record in caplog.records))
    assert "hooks?token=[redacted]&api_key=[redacted]&region=eu" in caplog.text
    for secret in (password, token):
        assert seen.hits(secret) == [], f"{secret[:4]}... shown"
