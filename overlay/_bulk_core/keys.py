"""An item's stable key, its identity within a run, its idempotency key, and the checks
an item passes before it is sent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import InvalidArgumentError


def content_key(item: Any) -> str:
    """A key for an item from its content: the same item always gets the same key."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


KeyFn = Callable[[Mapping[str, Any]], Any]


def readable(value: Any) -> str:
    """A key value as text a person recognises: ``["acme.com"]`` is ``acme.com``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        return readable(next(iter(value.values())))
    if isinstance(value, list | tuple) and value:
        return ",".join(readable(part) for part in value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def key_of(item: Mapping[str, Any], key: str | KeyFn | None) -> str:
    """The item's stable key: ``key(item)``, the value of attribute ``key``, or its content hash."""
    if key is None:
        return content_key(item)
    value = key(item) if callable(key) else item.get(key)
    if value is None or value == "" or value == [] or value == {}:
        raise InvalidArgumentError(f"The item has no value for the key {key!r}.")
    return readable(value)


# An item within a run: its key, and how many earlier items of the input had the same key.
Identity = tuple[str, int]


class Identities:
    """Gives each item of a run its identity: the n-th item with key ``k`` is ``(k, n)``.

    Two items with one key are two items (an upsert's versions of one record, say), each
    applied once; the input's order makes the numbering the same when a run resumes."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, key: str) -> Identity:
        repeat = self._seen.get(key, 0)
        self._seen[key] = repeat + 1
        return key, repeat


RUN_ID = re.compile(r"run_[0-9a-f]{16}")


def new_run_id() -> str:
    return "run_" + secrets.token_hex(8)


def idempotency_key(run_id: str, operation: str, object: str, item: Identity) -> str:
    """The item's idempotency key: the same within its run (and its resumes), new in another."""
    text = json.dumps([run_id, operation, object, *item])  # ASCII: lone surrogates are escaped
    return "bulk_" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date):  # datetimes too: what the request body writes as ISO 8601
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} value, which JSON cannot carry")


def encoded(body: Any) -> bytes:
    """The body as UTF-8 JSON, as the request will carry it; ``InvalidArgumentError`` naming
    what it cannot carry: text that is not valid Unicode (a lone surrogate such as
    ``"\\ud800"``), NaN or infinity, an integer of over 4,300 digits, a value of another type
    (bytes, a set), or nesting past Python's limit."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                          default=_json_default).encode()  # fmt: skip
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            _bad_text(body, "") or "The item holds text that is not valid Unicode."
        ) from None
    except RecursionError:
        raise InvalidArgumentError("The item nests lists and mappings too deeply to send.") from None
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"The item cannot be sent as JSON: {exc}.") from None


def _bad_text(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            char = value[exc.start]
            return (
                f"{where or 'The item'} holds a lone surrogate ({char!r} at character {exc.start}), "
                "which is not valid Unicode text."
            )
        return None
    if isinstance(value, Mapping):
        for name, part in value.items():
            problem = _bad_text(name, f"The name {name!r}") or _bad_text(part, _field(where, name))
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for position, part in enumerate(value):
            if problem := _bad_text(part, f"{where or 'The item'}[{position}]"):
                return problem
    return None


def _field(where: str, name: Any) -> str:
    return f"{where}.{name}" if where else f"The value of {name!r}"


def item_problem(
    item: Mapping[str, Any], types: Mapping[str, str], options: Mapping[str, list[str]]
) -> str | None:
    """What is wrong with an item for an object with these attribute ``types`` (None: nothing
    the schema can tell); select and status values must be among ``options``."""
    from .._metadata_core import hint

    for slug, value in item.items():
        if slug not in types:
            return f"Unknown attribute {slug!r}.{hint(slug, types)}"
        titles = options.get(slug)
        if titles is not None:
            for title in value if isinstance(value, list) else [value]:
                if isinstance(title, str) and title not in titles:
                    return f"{title!r} is not an option of {slug!r}.{hint(title, titles, 'Options')}"
    return None
