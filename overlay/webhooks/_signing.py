"""Signing and verifying deliveries: Standard Webhooks, and the legacy ``CRM-Signature``.

Standard Webhooks (every version from 2025-08-01): ``webhook-signature`` holds
space-separated ``v1,<base64>`` entries, each an HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}`` keyed with the decoded ``whsec_`` secret.

Legacy (2025-01-01): ``CRM-Signature`` is the hex HMAC-SHA256 of the body alone, keyed the
same way. It has no timestamp and no message id, so it cannot refuse a replay; it is
accepted only when asked for with ``legacy=True``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final, Literal

from .._errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidTimestampError,
    MalformedHeaderError,
    MissingHeaderError,
    ReplayedMessageError,
    SignatureMismatchError,
    TimestampOutsideWindowError,
)
from ._delivery import Delivery
from ._seen import MemorySeenStore, SeenStore

ID_HEADER: Final = "webhook-id"
TIMESTAMP_HEADER: Final = "webhook-timestamp"
SIGNATURE_HEADER: Final = "webhook-signature"
LEGACY_HEADER: Final = "crm-signature"
VERSION_HEADER: Final = "crm-version"

Secrets = str | bytes | Sequence[str | bytes]
Scheme = Literal["v1", "crm-signature"]


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
"""The default replay store: one in-memory store per ``Verifier`` (shared by ``verify()``)."""

_MAX_TIMESTAMP_DIGITS = 12


def decode_secret(secret: str | bytes, position: int = 1) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional); bytes are the key."""
    if isinstance(secret, bytes | bytearray):
        key = bytes(secret)
    elif isinstance(secret, str):
        text = secret.strip().removeprefix("whsec_")
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"webhook secret #{position} is not 'whsec_' followed by base64"
            ) from None
    else:
        raise ConfigurationError(f"webhook secret #{position} is a {type(secret).__name__}, not a str")
    if not key:
        raise ConfigurationError(f"webhook secret #{position} is empty")
    return key


def _keys(secrets: Secrets) -> list[bytes]:
    listed = [secrets] if isinstance(secrets, str | bytes | bytearray) else list(secrets)
    if not listed:
        raise ConfigurationError("no webhook secret given")
    return [decode_secret(secret, n) for n, secret in enumerate(listed, 1)]


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's value by its lower-case name, from any mapping, whatever its case."""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
            if isinstance(key, bytes) and key.lower() == name.encode():
                value = candidate
                break
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bytes):
        return value.decode("latin-1") or None
    raise MalformedHeaderError(f"{name} is a {type(value).__name__}, not text")


def _body(body: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    raise InvalidArgumentError(f"body must be the raw bytes of the request, not {type(body).__name__}")


class Verifier:
    """Checks deliveries against one or more secrets (several during a rotation).

    ``tolerance`` is how many seconds a signature's timestamp may differ from this clock,
    either way. ``seen`` remembers each accepted (message id, timestamp) until its window
    closes and refuses it after that: the default is an in-memory store, ``None`` turns
    the check off, and a ``SQLiteSeenStore`` shares it between processes. A sender's retry
    is signed anew with a fresh timestamp, so it is not a replay.
    """

    def __init__(
        self,
        secrets: Secrets,
        *,
        tolerance: float = 300,
        seen: SeenStore | None = DEFAULT,
        legacy: bool = False,
    ) -> None:
        self._keys = _keys(secrets)
        self._macs = [hmac.new(key, digestmod=hashlib.sha256) for key in self._keys]
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise ConfigurationError(f"tolerance must be a number of seconds >= 0, got {tolerance!r}")
        self.tolerance = tolerance
        self.seen = MemorySeenStore() if seen is DEFAULT else seen
        self.legacy = legacy

    def __repr__(self) -> str:
        legacy = ", legacy" if self.legacy else ""
        return f"<Verifier {len(self._keys)} secret(s), tolerance={self.tolerance}s{legacy}>"

    def verify(
        self,
        body: bytes | bytearray | memoryview | str,
        headers: Mapping[str, Any],
        *,
        now: float | None = None,
    ) -> Delivery:
        """The verified ``Delivery``; a ``WebhookVerificationError`` subclass says why not."""
        body = _body(body)
        message_id = _header(headers, ID_HEADER)
        timestamp = _header(headers, TIMESTAMP_HEADER)
        signature = _header(headers, SIGNATURE_HEADER)
        if message_id is None and timestamp is None and signature is None:
            return self._verify_legacy(body, headers)
        if message_id is None or timestamp is None or signature is None:
            absent = [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER][
                [message_id, timestamp, signature].index(None)
            ]
            raise MissingHeaderError(f"the delivery has no {absent} header")

        if not (len(timestamp) <= _MAX_TIMESTAMP_DIGITS and timestamp.isascii() and timestamp.isdigit()):
            raise InvalidTimestampError(f"{TIMESTAMP_HEADER} must be Unix seconds, got {timestamp[:24]!r}")
        signed_at = int(timestamp)
        clock = time.time() if now is None else now
        age = clock - signed_at
        if age > self.tolerance:
            raise TimestampOutsideWindowError(
                f"the delivery was signed {age:.0f} s ago, beyond the {self.tolerance:g} s tolerance"
            )
        if -age > self.tolerance:
            raise TimestampOutsideWindowError(
                f"the delivery was signed {-age:.0f} s in the future, beyond the {self.tolerance:g} s "
                "tolerance: check the clocks"
            )

        given = [entry[3:].encode("ascii", "replace") for entry in signature.split(" ") if entry[:3] == "v1,"]
        if not given:
            raise MalformedHeaderError(f"{SIGNATURE_HEADER} has no 'v1,<base64>' entry")
        prefix = f"{message_id}.{timestamp}.".encode("utf-8", "surrogatepass")
        if not self._matches(prefix, body, given):
            raise SignatureMismatchError(
                f"no signature in {SIGNATURE_HEADER} matches the body under the "
                f"{len(self._keys)} secret(s) given"
            )

        if self.seen is not None:
            closes = time.time() + (signed_at + self.tolerance - clock) + 1
            if not self.seen.claim(f"{message_id}.{timestamp}", closes):
                raise ReplayedMessageError(
                    f"message {message_id[:64]!r} signed at {timestamp} was already accepted"
                )
        return Delivery(body, message_id, signed_at, "v1", _header(headers, VERSION_HEADER))

    def _matches(self, prefix: bytes, body: bytes, given: list[bytes]) -> bool:
        for template in self._macs:
            mac = template.copy()
            mac.update(prefix)
            mac.update(body)
            expected = binascii.b2a_base64(mac.digest(), newline=False)
            for candidate in given:
                if hmac.compare_digest(expected, candidate):
                    return True
        return False

    def _verify_legacy(self, body: bytes, headers: Mapping[str, Any]) -> Delivery:
        signature = _header(headers, LEGACY_HEADER)
        if signature is None:
            raise MissingHeaderError(f"the delivery has no {SIGNATURE_HEADER} header")
        if not self.legacy:
            raise MissingHeaderError(
                f"the delivery has no {SIGNATURE_HEADER} header; it is signed with the legacy "
                "CRM-Signature scheme (API version 2025-01-01): pass legacy=True to accept it"
            )
        given = signature.strip().lower().encode("ascii", "replace")
        if len(given) != 64 or given.strip(b"0123456789abcdef"):
            raise MalformedHeaderError("CRM-Signature must be 64 hex digits")
        for key in self._keys:
            if hmac.compare_digest(hmac.new(key, body, hashlib.sha256).hexdigest().encode(), given):
                return Delivery(body, None, None, "crm-signature", _header(headers, VERSION_HEADER))
        raise SignatureMismatchError(
            f"CRM-Signature does not match the body under the {len(self._keys)} secret(s) given"
        )


_SHARED_SEEN = MemorySeenStore()


@lru_cache(maxsize=16)
def _cached_verifier(secrets: tuple[str | bytes, ...], tolerance: float, legacy: bool) -> Verifier:
    return Verifier(secrets, tolerance=tolerance, seen=_SHARED_SEEN, legacy=legacy)


def verify(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, Any],
    secrets: Secrets,
    *,
    tolerance: float = 300,
    seen: SeenStore | None = DEFAULT,
    legacy: bool = False,
    now: float | None = None,
) -> Delivery:
    """Verify one delivery: the raw body bytes, its headers, and the webhook's secret(s).

    Returns the ``Delivery`` (its ``events`` are typed); raises a subclass of
    ``WebhookVerificationError`` naming what failed. See ``Verifier`` for ``tolerance``,
    ``seen`` and ``legacy``; by default replays are refused with an in-memory store shared
    by every call in this process.
    """
    listed = (secrets,) if isinstance(secrets, str | bytes) else tuple(secrets)
    if seen is DEFAULT and all(isinstance(s, str | bytes) for s in listed):
        verifier = _cached_verifier(listed, tolerance, legacy)
    else:
        verifier = Verifier(listed, tolerance=tolerance, seen=seen, legacy=legacy)
    return verifier.verify(body, headers, now=now)


def new_message_id() -> str:
    return "msg_" + _secrets.token_urlsafe(18)


def sign(
    body: bytes | str,
    secrets: Secrets,
    *,
    message_id: str | None = None,
    timestamp: int | None = None,
    scheme: Scheme = "v1",
    api_version: str | None = None,
) -> dict[str, str]:
    """The headers that sign ``body``: for tests, and for anyone sending deliveries.

    ``v1`` gives ``webhook-id`` (a new ``msg_`` id unless given), ``webhook-timestamp`` (now
    unless given) and ``webhook-signature`` with one entry per secret; ``crm-signature``
    gives the legacy ``CRM-Signature`` of the first secret. ``api_version`` adds
    ``crm-version``.
    """
    raw = _body(body)
    keys = _keys(secrets)
    headers: dict[str, str] = {}
    if scheme == "crm-signature":
        headers["CRM-Signature"] = hmac.new(keys[0], raw, hashlib.sha256).hexdigest()
    elif scheme == "v1":
        message_id = message_id or new_message_id()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        content = f"{message_id}.{stamp}.".encode() + raw
        entries = [
            "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode() for key in keys
        ]
        headers.update({ID_HEADER: message_id, TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: " ".join(entries)})
    else:
        raise InvalidArgumentError(f"scheme must be 'v1' or 'crm-signature', got {scheme!r}")
    if api_version is not None:
        headers[VERSION_HEADER] = api_version
    return headers
