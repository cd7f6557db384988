"""Attribute types: how a written value is checked and normalised, and how it is indexed.

A stored value is a dict of the type's own fields (``{"value": "Ada"}``, or
``{"email_address": ..., "email_domain": ...}``). Each value is also indexed as keys, one
per filterable property: ``(prop, sk, nk)`` where ``sk`` is the text form and ``nk`` the
numeric one. The property ``""`` is the value's main property, used by shorthand filters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from crm_client.api_versions import FILTER_OPERATORS

from .errors import bad_request

Stored = dict[str, Any]
Key = tuple[str, str | None, float | None]  # (property, text key, numeric key)

MAX_TEXT = 10_000  # characters of a text value (and of a filter's text operand)
MAX_NUMBER = 1e300  # magnitude of a number value: SQLite holds it as a float, finite
INT64 = (-(2**63), 2**63 - 1)  # amount_minor, as SQLite's integers


@dataclass(frozen=True)
class Prop:
    """A filterable property of a type: its operators and whether it compares as a number."""

    ops: frozenset[str]
    numeric: bool = False


class Context(Protocol):
    """What coercion may need to look up: select options and referenced records."""

    def option_id(self, attribute: dict[str, Any], ref: str) -> tuple[str, str]: ...

    def record_exists(self, object_slug: str, record_id: str) -> bool: ...


@dataclass(frozen=True)
class AttributeType:
    name: str
    props: dict[str, Prop]  # "" is the main property
    coerce: Callable[[Any, dict[str, Any], Context], Stored]
    keys: Callable[[Stored], list[Key]]


def _fail(attribute: dict[str, Any], expected: str, got: Any) -> Exception:
    return bad_request(
        "invalid_value",
        f"Attribute {attribute['api_slug']!r} ({attribute['type']}) expects {expected}, got {got!r}.",
    )


def _unwrap(value: Any, field: str) -> Any:
    if isinstance(value, dict):
        if set(value) != {field}:
            return _MISSING
        return value[field]
    return value


_MISSING = object()


def _text(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    if not isinstance(v, str) or len(v) > MAX_TEXT:
        raise _fail(attribute, f"a string of at most {MAX_TEXT:,} characters", _abridged(value))
    return {"value": v}


def _abridged(value: Any) -> Any:
    """A value to quote in a message: a long text cut to its start."""
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:40]}… ({len(value):,} characters)"
    return value


def is_bounded_number(v: Any) -> bool:
    """A JSON number the API stores: not a boolean, finite, magnitude at most ``MAX_NUMBER``
    (an integer such as 10**400 compares exactly, with no float conversion to overflow)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return -MAX_NUMBER <= v <= MAX_NUMBER


def _number(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    if not is_bounded_number(v):
        shown = "an integer beyond that" if isinstance(v, int) and not isinstance(v, bool) else value
        raise _fail(attribute, f"a finite number of magnitude at most {MAX_NUMBER:g}", shown)
    return {"value": v}


def _checkbox(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    if not isinstance(v, bool):
        raise _fail(attribute, "true or false", value)
    return {"value": v}


def _rating(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 5:
        raise _fail(attribute, "a whole number from 0 to 5", value)
    return {"value": v}


def _date(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    try:
        if not isinstance(v, str) or len(v) != 10:
            raise ValueError
        return {"value": dt.date.fromisoformat(v).isoformat()}
    except ValueError:
        raise _fail(attribute, "a date as YYYY-MM-DD", value) from None


def parse_timestamp(v: Any) -> dt.datetime | None:
    """An ISO 8601 instant with a UTC offset, or None."""
    if not isinstance(v, str) or len(v) > 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else None


def _timestamp(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "value")
    parsed = parse_timestamp(v)
    if parsed is None:
        raise _fail(attribute, "an ISO 8601 timestamp with a UTC offset", value)
    return {"value": parsed.isoformat(timespec="microseconds")}


def _currency(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    default = ((attribute.get("config") or {}).get("currency") or {}).get("default_currency_code")
    if isinstance(value, dict):
        if not set(value) <= {"amount_minor", "currency_code"} or "amount_minor" not in value:
            raise _fail(attribute, "{amount_minor, currency_code}", value)
        amount, code = value["amount_minor"], value.get("currency_code", default)
    else:
        amount, code = value, default
    if isinstance(amount, bool) or not isinstance(amount, int) or not INT64[0] <= amount <= INT64[1]:
        raise _fail(attribute, "a whole amount in minor units (a signed 64-bit integer)", value)
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
        raise _fail(attribute, "a currency_code such as EUR (no default is set)", value)
    return {"amount_minor": amount, "currency_code": code}


def _option(field: str) -> Callable[[Any, dict[str, Any], Context], Stored]:
    def coerce(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
        v = _unwrap(value, field)
        if not isinstance(v, str) or not v:
            raise _fail(attribute, f"an option title or id (or {{{field}: ...}})", value)
        option_id, title = ctx.option_id(attribute, v)
        return {"option_id": option_id, "title": title}

    return coerce


_EMAIL = re.compile(r"^[^@\s]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def root_domain(domain: str) -> str:
    return ".".join(domain.split(".")[-2:])


def _email(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "email_address")
    if not isinstance(v, str) or len(v) > 320 or not _EMAIL.match(v.strip()):
        raise _fail(attribute, "an email address", _abridged(value))
    original = v.strip()
    local, _, domain = original.rpartition("@")
    domain = domain.lower()
    return {
        "email_address": f"{local}@{domain}",
        "original_email_address": original,
        "email_domain": domain,
        "email_root_domain": root_domain(domain),
        "email_local_specifier": local.split("+")[0],
    }


_DOMAIN = re.compile(r"^([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


def _domain(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    v = _unwrap(value, "domain")
    if not isinstance(v, str):
        raise _fail(attribute, "a domain", value)
    domain = re.sub(r"^[a-z]+://", "", v.strip().lower()).split("/")[0].removeprefix("www.")
    if len(domain) > 253 or not _DOMAIN.match(domain):
        raise _fail(attribute, "a domain such as acme.com", _abridged(value))
    return {"domain": domain, "root_domain": root_domain(domain)}


def _phone(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    """A number checked and normalised to E.164 by ``overlay.phone``, the rule the importer
    applies too; ``original_phone_number`` keeps what was typed."""
    if isinstance(value, dict):
        if not set(value) <= {"original_phone_number", "country_code"}:
            raise _fail(attribute, "{original_phone_number, country_code}", value)
        original, country = value.get("original_phone_number"), value.get("country_code")
    else:
        original, country = value, None
    if not isinstance(original, str) or len(original) > 64:
        raise _fail(attribute, "a phone number as text of at most 64 characters", _abridged(value))
    if country is not None and not isinstance(country, str):
        raise _fail(attribute, "a country_code that is an ISO 3166-1 alpha-2 code such as GB", value)
    from overlay.phone import PhoneNumberError, international, parse_phone

    if country is None and not international(original).startswith("+"):
        raise _fail(attribute, "an international number (+...) or a country_code", value)
    try:
        number = parse_phone(original, country)
    except PhoneNumberError as exc:
        raise bad_request(
            "invalid_value", f"Attribute {attribute['api_slug']!r} (phone-number): {exc}."
        ) from None
    return {
        "phone_number": number.e164,
        "original_phone_number": original,
        "country_code": number.region or country,
    }


def _name(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    if isinstance(value, str) and len(value) <= 512:
        first, _, last = value.strip().partition(" ")
        if len(first) <= 256 and len(last) <= 256:
            return {"first_name": first, "last_name": last.strip(), "full_name": value.strip()}
    if isinstance(value, dict) and set(value) <= {"first_name", "last_name", "full_name"}:
        first, last = value.get("first_name", ""), value.get("last_name", "")
        full = value.get("full_name", f"{first} {last}".strip())
        texts = all(isinstance(x, str) for x in (first, last, full))
        if texts and max(len(first), len(last)) <= 256 and len(full) <= 512:
            return {"first_name": first, "last_name": last, "full_name": full}
    raise _fail(
        attribute, "a name or {first_name, last_name} (at most 256 characters each)", _abridged(value)
    )


def _reference(value: Any, attribute: dict[str, Any], ctx: Context) -> Stored:
    allowed = ((attribute.get("config") or {}).get("record_reference") or {}).get("allowed_objects") or []
    if isinstance(value, str) and len(allowed) == 1:
        target_object, record_id = allowed[0], value
    elif isinstance(value, dict) and set(value) == {"target_object", "target_record_id"}:
        target_object, record_id = value["target_object"], value["target_record_id"]
    else:
        raise _fail(attribute, "{target_object, target_record_id}", value)
    if not isinstance(target_object, str) or (allowed and target_object not in allowed):
        raise _fail(attribute, f"a record of {' or '.join(allowed) or 'an object'}", value)
    if (
        not isinstance(record_id, str)
        or len(record_id) > 64
        or not ctx.record_exists(target_object, record_id)
    ):
        raise bad_request(
            "unknown_record",
            f"Attribute {attribute['api_slug']!r}: no {target_object} record {record_id!r}.",
        )
    return {"target_object": target_object, "target_record_id": record_id}


def _main(field: str, numeric: bool = False) -> Callable[[Stored], list[Key]]:
    def keys(stored: Stored) -> list[Key]:
        v = stored[field]
        if numeric:
            return [("", None, float(v))]
        return [("", str(v) if not isinstance(v, bool) else ("true" if v else "false"), None)]

    return keys


def _many(main: str, *props: str) -> Callable[[Stored], list[Key]]:
    def keys(stored: Stored) -> list[Key]:
        out: list[Key] = [("", stored[main], None)]
        out += [(p, stored[p], None) for p in props if stored.get(p) is not None]
        return out

    return keys


def _currency_keys(stored: Stored) -> list[Key]:
    return [
        ("", None, float(stored["amount_minor"])),
        ("amount_minor", None, float(stored["amount_minor"])),
        ("currency_code", stored["currency_code"], None),
    ]


def _option_keys(stored: Stored) -> list[Key]:
    return [
        ("", stored["title"], None),
        ("option_id", stored["option_id"], None),
        ("title", stored["title"], None),
    ]


def _props(kind: str, numeric: frozenset[str] = frozenset()) -> dict[str, Prop]:
    """The filterable properties of ``kind`` and their operators, as the spec declares them
    (``x-crm-filter-operators``); those in ``numeric`` compare as numbers."""
    return {prop: Prop(frozenset(ops), prop in numeric) for prop, ops in FILTER_OPERATORS[kind].items()}


MAIN = frozenset({""})
TYPES: dict[str, AttributeType] = {
    t.name: t
    for t in [
        AttributeType("text", _props("text"), _text, _main("value")),
        AttributeType("number", _props("number", MAIN), _number, _main("value", numeric=True)),
        AttributeType("rating", _props("rating", MAIN), _rating, _main("value", numeric=True)),
        AttributeType("checkbox", _props("checkbox"), _checkbox, _main("value")),
        AttributeType("date", _props("date"), _date, _main("value")),
        AttributeType("timestamp", _props("timestamp"), _timestamp, _main("value")),
        AttributeType(
            "currency",
            _props("currency", frozenset({"", "amount_minor"})),
            _currency,
            _currency_keys,
        ),
        AttributeType("select", _props("select"), _option("option"), _option_keys),
        AttributeType("status", _props("status"), _option("status"), _option_keys),
        AttributeType(
            "email-address",
            _props("email-address"),
            _email,
            _many(
                "email_address",
                "email_address",
                "email_domain",
                "email_root_domain",
                "email_local_specifier",
            ),
        ),
        AttributeType(
            "domain",
            _props("domain"),
            _domain,
            _many("domain", "domain", "root_domain"),
        ),
        AttributeType(
            "phone-number",
            _props("phone-number"),
            _phone,
            _many("phone_number", "phone_number", "country_code"),
        ),
        AttributeType(
            "personal-name",
            _props("personal-name"),
            _name,
            _many("full_name", "first_name", "last_name", "full_name"),
        ),
        AttributeType(
            "record-reference",
            _props("record-reference"),
            _reference,
            _many("target_record_id", "target_record_id", "target_object"),
        ),
    ]
}


def render(attribute_type: str, stored: Stored, option: dict[str, Any] | None = None) -> dict[str, Any]:
    """The type-specific fields of a value as the API returns them."""
    if attribute_type in ("select", "status"):
        field = "option" if attribute_type == "select" else "status"
        return {field: option}
    return dict(stored)
