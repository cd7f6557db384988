"""Sorts from short keys: ``order_by("-created_at", "name.last_name")``, where a leading
``-`` sorts descending and a dot names a property."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._errors import InvalidArgumentError

_SORT = re.compile(r"^(-?)([A-Za-z_][\w-]*)(?:\.([a-z][a-z0-9_]*))?$")


def sorts_of(keys: Sequence[str]) -> list[dict[str, str]]:
    """The API's sorts for ``"-created_at"``-style keys."""
    sorts: list[dict[str, str]] = []
    for key in keys:
        match = _SORT.match(key) if isinstance(key, str) else None
        if match is None:
            raise InvalidArgumentError(
                f"Cannot sort by {key!r}: use 'slug', '-slug' (descending) or 'slug.property'."
            )
        descending, attribute, prop = match.groups()
        sort = {"attribute": attribute, "direction": "desc" if descending else "asc"}
        if prop:
            sort["field"] = prop
        sorts.append(sort)
    return sorts
