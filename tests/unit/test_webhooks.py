"""Webhook verification: the published vector, interop with standardwebhooks, every refusal,
rotation, the legacy scheme, replay stores, typed deliveries, and fuzzing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from crm_client.models import RecordCreatedEvent
from crm_client.types import UnknownVariant
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import overlay
from overlay import webhooks
from overlay.webhooks import (
    InvalidTimestampError,
    MalformedHeaderError,
    MemorySeenStore,
    MissingHeaderError,
    ReplayedMessageError,
    SignatureMismatchError,
    SQLiteSeenStore,
    TimestampOutsideWindowError,
    WebhookVerificationError,
)

# The Standard Webhooks specification's published test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret of 24 byte").decode()
NOW = 1_800_000_000


def delivery_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"webhook_id": "wh_1", "events": list(events)}).encode()


RECORD_CREATED = {
    "event_type": "record.created",
    "id": {"workspace_id": "ws", "object_id": "obj", "record_id": "rec"},
    "actor": {"type": "api-token", "id": "tok"},
}
BODY = delivery_body(RECORD_CREATED)


def signed(body: bytes = BODY, secrets: Any = VECTOR_SECRET, **options: Any) -> dict[str, str]:
    options.setdefault("timestamp", NOW)
    return webhooks.sign(body, secrets, **options)


def check(
    body: bytes | bytearray | str, headers: dict[str, str], secrets: Any = VECTOR_SECRET, **options: Any
) -> Any:
    options.setdefault("now", NOW)
    options.setdefault("seen", None)
    return webhooks.verify(body, headers, secrets, **options)


# ---------------------------------------------------------------------- the published vector
def test_sign_reproduces_the_published_vector() -> None:
    headers = webhooks.sign(VECTOR_BODY, VECTOR_SECRET, message_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_verify_accepts_the_published_vector() -> None:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    delivery = check(VECTOR_BODY, headers, now=VECTOR_TIMESTAMP)
    assert delivery.message_id == VECTOR_ID
    assert delivery.signed_at == dt.datetime(2021, 2, 25, 15, 2, 10, tzinfo=dt.UTC)
    assert delivery.json() == {"test": 2432232314}
    assert delivery.scheme == "v1"


# ---------------------------------------------------------------------- interop
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
message_ids = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=40
)
raw_secrets = st.binary(min_size=1, max_size=64)


@settings(max_examples=150)
@given(body=texts, message_id=message_ids, key=raw_secrets)
def test_what_standardwebhooks_signs_verifies_here(body: str, message_id: str, key: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    now = dt.datetime.now(dt.UTC)
    signature = standardwebhooks.Webhook(secret).sign(message_id, now, body)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    delivery = webhooks.verify(body.encode(), headers, [secret], seen=None)
    assert delivery.body == body.encode()


@settings(max_examples=150)
@given(body=texts, message_id=message_ids, keys=st.lists(raw_secrets, min_size=1, max_size=3))
def test_what_we_sign_verifies_with_standardwebhooks(body: str, message_id: str, keys: list[bytes]) -> None:
    secrets = ["whsec_" + base64.b64encode(key).decode() for key in keys]
    headers = webhooks.sign(body, secrets, message_id=message_id)
    for secret in secrets:  # one signature per secret: each verifies on its own
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)


# ---------------------------------------------------------------------- refusals
def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(name: str) -> None:
    with pytest.raises(MissingHeaderError, match=f"no {name} header"):
        check(BODY, without(signed(), name))
    with pytest.raises(MissingHeaderError, match=f"no {name} header"):
        check(BODY, {**signed(), name: ""})


def test_no_headers_at_all_names_the_signature_header() -> None:
    with pytest.raises(MissingHeaderError, match="no webhook-signature header"):
        check(BODY, {"content-type": "application/json"})


@pytest.mark.parametrize(
    "stamp", ["soon", "-5", "1.5e9", "1800000000.0", "١٨٠٠٠٠٠٠٠٠", " 1800000000", "9" * 13]
)
def test_a_timestamp_that_is_not_unix_seconds_is_refused(stamp: str) -> None:
    with pytest.raises(InvalidTimestampError, match="must be Unix seconds"):
        check(BODY, {**signed(), "webhook-timestamp": stamp})


def test_the_window_is_checked_in_both_directions() -> None:
    headers = signed()
    assert check(BODY, headers, now=NOW + 300).message_id  # exactly at the tolerance: accepted
    assert check(BODY, headers, now=NOW - 300).message_id
    with pytest.raises(TimestampOutsideWindowError, match="signed 301 s ago, beyond the 300 s tolerance"):
        check(BODY, headers, now=NOW + 301)
    with pytest.raises(TimestampOutsideWindowError, match="301 s in the future"):
        check(BODY, headers, now=NOW - 301)
    assert check(BODY, headers, now=NOW + 3000, tolerance=3600).message_id


@pytest.mark.parametrize("signature", ["", "v2,abc", "v1abc", "sig", "v1a,AAAA"])
def test_a_signature_header_without_a_v1_entry_is_malformed(signature: str) -> None:
    headers = {**signed(), "webhook-signature": signature}
    error = MissingHeaderError if signature == "" else MalformedHeaderError
    with pytest.raises(error):
        check(BODY, headers)


def test_any_change_to_the_signed_content_is_a_mismatch() -> None:
    headers = signed()
    sig = headers["webhook-signature"]
    tampered = sig[:3] + ("B" if sig[3] == "A" else "A") + sig[4:]
    for body, changed in (
        (BODY + b" ", headers),
        (BODY, {**headers, "webhook-id": "msg_other"}),
        (BODY, {**headers, "webhook-timestamp": str(NOW + 1)}),
        (BODY, {**headers, "webhook-signature": tampered}),
    ):
        with pytest.raises(SignatureMismatchError, match="no signature in webhook-signature matches"):
            check(body, changed)
    with pytest.raises(SignatureMismatchError, match="under the 1 secret"):
        check(BODY, headers, OTHER_SECRET)


def test_unknown_signature_versions_are_skipped_beside_a_valid_one() -> None:
    headers = signed()
    headers["webhook-signature"] = "v1a,c2lnbmVk garbage " + headers["webhook-signature"]
    assert check(BODY, headers).message_id == headers["webhook-id"]


def test_an_exact_replay_is_refused_but_a_resigned_retry_is_not() -> None:
    store = MemorySeenStore()
    first = signed(message_id="msg_1")
    assert check(BODY, first, seen=store).message_id == "msg_1"
    with pytest.raises(ReplayedMessageError, match="'msg_1' signed at 1800000000 was already accepted"):
        check(BODY, first, seen=store)
    retry = signed(message_id="msg_1", timestamp=NOW + 30)  # the sender's retry: same id, new signature
    assert check(BODY, retry, seen=store, now=NOW + 30).message_id == "msg_1"


def test_verify_refuses_replays_by_default() -> None:
    headers = webhooks.sign(BODY, VECTOR_SECRET)
    webhooks.verify(BODY, headers, [VECTOR_SECRET])
    with pytest.raises(ReplayedMessageError):
        webhooks.verify(BODY, headers, [VECTOR_SECRET])
    assert webhooks.verify(BODY, headers, [VECTOR_SECRET], seen=None).message_id == headers["webhook-id"]


def test_every_refusal_is_one_of_ours_and_names_its_code() -> None:
    codes = {
        MissingHeaderError: "missing_header",
        MalformedHeaderError: "malformed_header",
        InvalidTimestampError: "invalid_timestamp",
        TimestampOutsideWindowError: "timestamp_outside_window",
        SignatureMismatchError: "signature_mismatch",
        ReplayedMessageError: "replayed",
    }
    for cls, code in codes.items():
        assert issubclass(cls, WebhookVerificationError) and issubclass(cls, overlay.CRMError)
        assert cls.code == code


# ---------------------------------------------------------------------- headers, bodies, secrets
def test_headers_are_found_whatever_their_case_and_type() -> None:
    headers = signed()
    title_case = {k.title(): v for k, v in headers.items()}
    assert check(BODY, title_case).message_id == headers["webhook-id"]
    as_bytes = {k.encode(): v.encode() for k, v in headers.items()}
    assert check(BODY, as_bytes).message_id == headers["webhook-id"]  # type: ignore[arg-type]
    assert check(bytearray(BODY), headers).body == BODY
    assert check(BODY.decode(), headers).body == BODY


def test_a_body_that_is_not_bytes_is_an_argument_error() -> None:
    with pytest.raises(overlay.InvalidArgumentError, match="raw bytes of the request, not dict"):
        check({"events": []}, signed())  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "", "whsec_A"])
def test_a_bad_secret_is_a_configuration_error_that_does_not_echo_it(secret: str) -> None:
    with pytest.raises(overlay.ConfigurationError) as caught:
        webhooks.Verifier([VECTOR_SECRET, secret])
    assert "#2" in str(caught.value)
    assert secret.removeprefix("whsec_") not in str(caught.value) or not secret.removeprefix("whsec_")


def test_secrets_may_omit_the_prefix_or_be_raw_bytes() -> None:
    key = webhooks.decode_secret(VECTOR_SECRET)
    headers = signed()
    assert check(BODY, headers, VECTOR_SECRET.removeprefix("whsec_")).message_id
    assert check(BODY, headers, [key]).message_id


def test_no_secret_or_signature_shows_in_reprs_or_messages() -> None:
    verifier = webhooks.Verifier([VECTOR_SECRET, OTHER_SECRET])
    router = webhooks.Router([VECTOR_SECRET])
    headers = signed()
    texts = [repr(verifier), repr(router)]
    for bad in ({**headers, "webhook-id": "x"}, {**headers, "webhook-timestamp": "1"}):
        with pytest.raises(WebhookVerificationError) as caught:
            verifier.verify(BODY, bad, now=NOW)
        texts.append(str(caught.value))
    for text in texts:
        assert "MfKQ9r8" not in text and headers["webhook-signature"][3:] not in text
    assert repr(verifier) == "<Verifier 2 secret(s), tolerance=300s>"


# ---------------------------------------------------------------------- rotation
def test_during_a_rotation_either_secret_verifies_the_doubly_signed_delivery() -> None:
    headers = signed(secrets=[VECTOR_SECRET, OTHER_SECRET])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secrets in ([VECTOR_SECRET], [OTHER_SECRET], [OTHER_SECRET, VECTOR_SECRET]):
        assert check(BODY, headers, secrets).message_id
    only_new = signed(secrets=[OTHER_SECRET])
    assert check(BODY, only_new, [OTHER_SECRET, VECTOR_SECRET]).message_id  # the receiver keeps both
    with pytest.raises(SignatureMismatchError):
        check(BODY, only_new, [VECTOR_SECRET])


# ---------------------------------------------------------------------- the legacy scheme
def test_the_legacy_scheme_is_the_hex_hmac_of_the_body() -> None:
    headers = signed(scheme="crm-signature", api_version="2025-01-01")
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    assert headers == {
        "CRM-Signature": hmac.new(key, BODY, hashlib.sha256).hexdigest(),
        "crm-version": "2025-01-01",
    }
    delivery = check(BODY, headers, legacy=True)
    assert (delivery.scheme, delivery.message_id, delivery.signed_at, delivery.api_version) == (
        "crm-signature",
        None,
        None,
        "2025-01-01",
    )
    assert (
        check(BODY, {"crm-signature": headers["CRM-Signature"].upper()}, legacy=True).scheme
        == "crm-signature"
    )


def test_the_legacy_scheme_is_refused_unless_asked_for() -> None:
    headers = signed(scheme="crm-signature")
    with pytest.raises(MissingHeaderError, match=r"legacy CRM-Signature scheme .* pass legacy=True"):
        check(BODY, headers)
    with pytest.raises(SignatureMismatchError, match="CRM-Signature does not match"):
        check(BODY + b"x", headers, legacy=True)
    with pytest.raises(MalformedHeaderError, match="64 hex digits"):
        check(BODY, {"CRM-Signature": "xyz"}, legacy=True)


# ---------------------------------------------------------------------- seen stores
def new_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A seen store of ``kind``; a Redis one talks to the real redis-server of the session."""
    if kind == "memory":
        return MemorySeenStore()
    if kind == "sqlite":
        return SQLiteSeenStore(tmp_path / "seen.db")
    return webhooks.RedisSeenStore(request.getfixturevalue("redis_url"))


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_seen_store_claims_once_until_expiry_or_release(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = new_store(kind, tmp_path, request)
    later = time.time() + 60
    assert store.claim("a", later) is True
    assert store.claim("a", later) is False
    assert store.claim("b", time.time() - 1) is True
    assert store.claim("b", later) is True, "an expired claim can be taken again"
    store.release("a")
    assert store.claim("a", later) is True
    assert isinstance(store, webhooks.SeenStore)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_lease_is_in_progress_until_completed_then_done(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = new_store(kind, tmp_path, request)
    later = time.time() + 60
    assert store.acquire("msg", "worker-a", later) == "acquired"
    assert store.acquire("msg", "worker-b", later) == "in_progress"
    store.complete("msg", "worker-a", later)
    assert store.acquire("msg", "worker-b", later) == "done"
    assert store.claim("msg", later) is False, "a done key is seen"
    store.release("msg", "worker-a")
    assert store.acquire("msg", "worker-b", later) == "done", "releasing a done key changes nothing"


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_lease_is_released_only_by_its_owner_and_taken_over_once_expired(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = new_store(kind, tmp_path, request)
    later = time.time() + 60
    assert store.acquire("failed", "worker-a", later) == "acquired"
    store.release("failed", "worker-b")  # someone else's lease: kept
    assert store.acquire("failed", "worker-b", later) == "in_progress"
    store.release("failed", "worker-a")  # the handler failed: the next attempt gets it
    assert store.acquire("failed", "worker-b", later) == "acquired"

    assert store.acquire("crashed", "dead-worker", time.time() - 1) == "acquired"  # its lease ran out
    assert store.acquire("crashed", "worker-b", later) == "acquired"
    store.release("crashed", "dead-worker")  # the late release of a taken-over lease is ignored
    assert store.acquire("crashed", "worker-c", later) == "in_progress"


def test_a_seen_file_from_before_leases_keeps_its_keys_done(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
        db.execute("INSERT INTO seen VALUES ('msg_old', ?)", (time.time() + 60,))
    store = SQLiteSeenStore(path)
    assert store.acquire("msg_old", "worker", time.time() + 60) == "done"
    assert store.acquire("msg_new", "worker", time.time() + 60) == "acquired"


def test_sqlite_claims_are_shared_by_every_store_on_the_same_file(tmp_path: Path) -> None:
    one, two = SQLiteSeenStore(tmp_path / "seen.db"), SQLiteSeenStore(tmp_path / "seen.db")
    headers = signed()
    check(BODY, headers, seen=one)
    with pytest.raises(ReplayedMessageError):
        check(BODY, headers, seen=two)


def test_a_corrupt_seen_file_is_a_seen_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    path.write_bytes(b"this is not a SQLite database, only garbage bytes" * 100)
    with pytest.raises(webhooks.SeenStoreError, match="could not open: file is not a database") as caught:
        SQLiteSeenStore(path)
    assert caught.value.path == str(path) and str(path) in str(caught.value)
    assert isinstance(caught.value, overlay.CRMError) and isinstance(caught.value.__cause__, sqlite3.Error)


def _locked_or_read_only_or_closed(kind: str, tmp_path: Path) -> SQLiteSeenStore:
    store = SQLiteSeenStore(tmp_path / "seen.db", timeout=0.01)
    if kind == "locked":  # another process holds the write lock past the store's timeout
        holder = sqlite3.connect(tmp_path / "seen.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        store._holder = holder  # type: ignore[attr-defined]  # kept open for the test
    elif kind == "read-only":  # as a file the process may read but not write
        store._db.execute("PRAGMA query_only = ON")
    else:
        store.close()
    return store


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("locked", "database is locked"), ("read-only", "readonly"), ("closed", "closed database")],
)
def test_verify_with_a_seen_store_that_cannot_be_used_raises_a_seen_store_error(
    kind: str, reason: str, tmp_path: Path
) -> None:
    store = _locked_or_read_only_or_closed(kind, tmp_path)
    with pytest.raises(webhooks.SeenStoreError, match=f"could not claim a message id: .*{reason}") as caught:
        check(BODY, signed(), seen=store)
    assert caught.value.path == str(tmp_path / "seen.db")
    for operation in (
        lambda: store.acquire("k", "me", time.time() + 5),
        lambda: store.complete("k", "me", time.time() + 5),
        lambda: store.release("k"),
    ):
        with pytest.raises(webhooks.SeenStoreError):
            operation()


def test_a_router_on_a_locked_seen_file_answers_503_with_retry_after(tmp_path: Path) -> None:
    store = _locked_or_read_only_or_closed("locked", tmp_path)
    router = webhooks.Router([VECTOR_SECRET], dedupe=store)
    reply = router.handle(BODY, webhooks.sign(BODY, VECTOR_SECRET))
    assert (reply.status, json.loads(reply.body)) == (503, {"error": "seen_store_unavailable"})
    assert "retry-after" in reply.headers


def test_any_seen_store_that_fails_in_verify_is_a_seen_store_error() -> None:
    class Broken(MemorySeenStore):
        def claim(self, key: str, expires_at: float) -> bool:
            raise ConnectionError("redis down at redis://:s3cretpw@cache:6379")

    with pytest.raises(webhooks.SeenStoreError, match="Broken could not claim a message id") as caught:
        check(BODY, signed(), seen=Broken())
    assert "s3cretpw" not in str(caught.value) and isinstance(caught.value.__cause__, ConnectionError)
    assert overlay.SeenStoreError is webhooks.SeenStoreError


def test_the_memory_store_sweeps_expired_keys() -> None:
    store = MemorySeenStore()
    for n in range(1023):
        store.claim(f"old{n}", time.time() - 1)
    assert len(store) == 1023
    store.claim("live", time.time() + 60)  # the 1,024th key sweeps the expired ones
    assert len(store) == 1
    assert store.claim("live", time.time() + 60) is False


# ---------------------------------------------------------------------- typed events
def test_events_are_typed_and_unknown_types_are_kept() -> None:
    future = {"event_type": "deal.won", "id": {"deal_id": "d1"}, "amount": 5}
    body = delivery_body(RECORD_CREATED, future)
    delivery = check(body, signed(body, api_version="2026-04-01"))
    created, unknown = delivery.events
    assert isinstance(created, RecordCreatedEvent) and created.id.record_id == "rec"
    assert isinstance(unknown, UnknownVariant) and unknown.data == future
    assert [webhooks.event_type(e) for e in delivery.events] == ["record.created", "deal.won"]
    assert delivery.webhook_id == "wh_1" and delivery.api_version == "2026-04-01"


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"not json", "not JSON"), (b"[]", "expected a JSON object"), (b'{"events": []}', "missing field")],
)
def test_a_verified_body_without_the_delivery_shape_is_a_parse_error(body: bytes, reason: str) -> None:
    delivery = check(body, signed(body))
    with pytest.raises(overlay.ResponseParseError, match=reason):
        _ = delivery.events


# ---------------------------------------------------------------------- fuzzing
def oracle(body: bytes, headers: dict[str, str], key: bytes) -> bool:
    """True when the headers carry the genuine signature of this exact id, timestamp and body."""
    signed_content = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    genuine = "v1," + base64.b64encode(hmac.new(key, signed_content, hashlib.sha256).digest()).decode()
    return genuine in str(headers.get("webhook-signature", "")).split(" ")


def mutate(text: str, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["keep", "flip", "cut", "append", "replace"]))
    if how == "keep" or not text:
        return text
    at = data.draw(st.integers(0, len(text) - 1))
    if how == "flip":
        return text[:at] + chr((ord(text[at]) ^ data.draw(st.integers(1, 127))) % 0x110000) + text[at + 1 :]
    if how == "cut":
        return text[:at]
    if how == "append":
        return text + data.draw(st.text(max_size=8))
    return data.draw(st.text(max_size=60))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    data = draw(st.data())
    body = draw(st.binary(max_size=120) | st.just(BODY))
    stamp = NOW + draw(st.integers(-400, 400))
    headers = webhooks.sign(body, VECTOR_SECRET, message_id=draw(message_ids), timestamp=stamp)
    if draw(st.booleans()):
        body = draw(st.binary(max_size=120)) if draw(st.booleans()) else body + b"x"
    fuzzed: dict[str, str] = {}
    for name, value in headers.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # drop the header
        fuzzed[draw(st.sampled_from([name, name.upper()]))] = mutate(value, data)
    if draw(st.booleans()):
        fuzzed[draw(st.text(max_size=20))] = draw(st.text(max_size=40))
    return body, fuzzed


def fuzz_once(body: bytes, headers: dict[str, str]) -> None:
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    try:
        delivery = check(body, headers)
    except WebhookVerificationError:
        return
    lowered = {k.lower(): v for k, v in headers.items()}
    assert oracle(body, lowered, key), "accepted a delivery whose signature is not genuine"
    assert abs(int(lowered["webhook-timestamp"]) - NOW) <= 300
    assert delivery.body == body


def test_the_fuzzer_also_generates_deliveries_that_must_pass() -> None:
    def accepted(case: tuple[bytes, dict[str, str]]) -> bool:
        try:
            check(*case)
        except WebhookVerificationError:
            return False
        return True

    body, headers = find(deliveries(), accepted, settings=settings(database=None))
    assert check(body, headers).body == body


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_fuzzed_deliveries_never_pass_falsely_and_raise_only_our_errors(
    case: tuple[bytes, dict[str, str]],
) -> None:
    fuzz_once(*case)


@pytest.mark.slow
@settings(max_examples=100_000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(deliveries())
def test_fuzzing_100k_deliveries(case: tuple[bytes, dict[str, str]]) -> None:
    fuzz_once(*case)


@settings(max_examples=500)
@given(st.dictionaries(st.text(max_size=30), st.text(max_size=80), max_size=6), st.binary(max_size=80))
def test_arbitrary_headers_raise_only_our_errors(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        check(body, headers, legacy=True)
