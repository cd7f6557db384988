"""The metadata cache's storage and the nearest-slug suggestions drawn from it (no I/O).

Objects, attributes and select options change rarely and are needed often (to suggest a
slug, to check a query, to coerce an imported cell), so the client keeps them for
``metadata_ttl`` seconds. ``client.metadata.refresh()`` drops them at once, and the
client drops what its own writes change.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Error codes that name something unknown, and so deserve a suggestion.
SUGGESTIBLE = frozenset({"unknown_attribute", "unknown_select_option", "not_found", "unknown_object"})


class TTLCache:
    """Values by key, each forgotten ``ttl`` seconds after it was stored."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)

    def drop(self, *prefix: str) -> None:
        """Forget every key that starts with ``prefix`` (everything when empty)."""
        with self._lock:
            for key in [k for k in self._entries if k[: len(prefix)] == prefix]:
                del self._entries[key]


@dataclass(frozen=True)
class AttributeInfo:
    """What validation and coercion need to know of a live attribute (``metadata.attribute_infos``)."""

    slug: str
    title: str
    type: str
    multiselect: bool = False
    unique: bool = False
    required: bool = False
    writable: bool = True
    options: tuple[str, ...] = ()  # the titles of a select's or status's options
    default_currency: str | None = None
    targets: tuple[str, ...] = ()  # the objects a record reference may point to


class CurrencyMemo:
    """The default currency code of each currency attribute of an object or list, as a
    client pinned to an older version learns them, kept in the metadata ``cache`` (so
    ``metadata.refresh()`` forgets them with the rest of that object)."""

    def __init__(self, cache: TTLCache) -> None:
        self._cache = cache

    def known(self, parent: str, slug: str) -> dict[str, str | None] | None:
        found: dict[str, str | None] | None = self._cache.get(("attributes", slug, "currencies", parent))
        return found

    def remember(self, parent: str, slug: str, currencies: dict[str, str | None]) -> None:
        self._cache.put(("attributes", slug, "currencies", parent), currencies)


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known slug most like ``name``, if any is close enough to be a likely typo.

    A slug is compared whole and by its start, so ``emial`` finds ``email_addresses``.
    """
    name = str(name)  # a caller's int or None still gets a suggestion, not an AttributeError
    candidates = [str(k) for k in known if k != name]
    lowered = {k.lower(): k for k in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    starts = {k[: len(name)].lower(): k for k in reversed(candidates) if len(k) > len(name)}
    close = difflib.get_close_matches(name.lower(), list(starts), n=1, cutoff=0.75)
    return starts[close[0]] if close else None


MAX_NAMED_DEPTH = 64  # how deep a filter is searched for the names it uses (the API reads 64)


@dataclass
class Names:
    """What a request named, so that an error about an unknown one can suggest a known one."""

    object: str | None = None
    attributes: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of_values(cls, object: str, values: Mapping[str, Any] | None) -> Names:
        """The attributes of a write, and the titles written to each (candidate options)."""
        values = values or {}
        options: dict[str, list[str]] = {}
        for slug, value in values.items():
            items = value if isinstance(value, list) else [value]
            titles = [v for v in items if isinstance(v, str)]
            if titles:
                options[slug] = titles
        return cls(object, list(values), options)

    @classmethod
    def of_filter(cls, object: str, filter: Any, sorts: Any = None) -> Names:
        """The attributes a filter (and its sorts) name, at any depth."""
        found: list[str] = []

        def walk(node: Any, depth: int) -> None:
            if depth > MAX_NAMED_DEPTH:  # deeper than the API reads: nothing to suggest there
                return
            if isinstance(node, list):
                for item in node:
                    walk(item, depth + 1)
            elif isinstance(node, dict):
                for key, value in node.items():
                    if key == "path" and isinstance(value, list):
                        found.extend(step[1] for step in value if isinstance(step, list) and len(step) == 2)
                    elif not isinstance(key, str):
                        continue
                    elif key.startswith("$") or key in ("constraints",):
                        walk(value, depth + 1)
                    elif key not in found:
                        found.append(key)

        walk(filter, 0)
        for sort in sorts or ():
            if isinstance(sort, dict) and isinstance(sort.get("attribute"), str):
                found.append(sort["attribute"])
        return cls(object, found)


def hint(name: str, known: Iterable[str], listing: str = "Known") -> str:
    """`` Did you mean 'x'?`` for the nearest known name, else `` Known: a, b.`` (``listing``)."""
    known = list(known)
    close = nearest(name, known)
    return f" Did you mean {close!r}?" if close else f" {listing}: {', '.join(sorted(known)) or 'none'}."


def first_unknown(names: Iterable[str], known: Iterable[str]) -> str | None:
    """The nearest known name to the first of ``names`` that is not known."""
    known = set(known)
    for name in names:
        if name not in known:
            return nearest(name, known)
    return None
