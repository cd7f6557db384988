"""The import options that say how cells read (date formats, the timezone, the phone
region, the decimal mark), each checked once, before any row, with an error naming it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from .._errors import InvalidArgumentError
from ..phone import region_problem
from ._cells import Settings


def import_settings(
    *,
    date_formats: Iterable[str],
    dayfirst: bool,
    timezone: dt.tzinfo | str | None,
    phone_region: str | None,
    decimal: str,
    max_cell_chars: int,
) -> Settings:
    """The ``Settings`` cells are read with, from an import's options."""
    if decimal not in (".", ","):
        raise InvalidArgumentError(f"decimal is '.' or ',', got {decimal!r}.")
    if phone_region is not None and (problem := region_problem(phone_region)):
        raise InvalidArgumentError(f"phone_region: {problem}.")
    return Settings(
        date_formats_of(date_formats), dayfirst, timezone_of(timezone), phone_region, decimal, max_cell_chars
    )


def timezone_of(value: Any) -> dt.tzinfo:
    """``timezone`` as given to an import: a ``tzinfo``, an IANA name (``"Europe/London"``),
    or ``None`` for UTC; anything else is an error naming the option."""
    if value is None:
        return dt.UTC
    if isinstance(value, dt.tzinfo):
        return value
    if isinstance(value, str):
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidArgumentError(
        f"timezone is a tzinfo or an IANA zone name such as 'Europe/London', got {value!r}."
    )


# The directives strptime reads (Python 3.11); anything else after % is a typo.
STRPTIME_DIRECTIVES = frozenset("aAbBcdfGHIjmMpSuUVwWxXyYzZ%")
DIRECTIVE = re.compile(r"%(.?)")


def date_format_problem(form: str) -> str | None:
    """Why ``form`` is not a strptime format (``None`` when it is one)."""
    directives = DIRECTIVE.findall(form)
    if not directives:
        return f"{form!r} has no % directive (a format reads like '%d/%m/%Y')"
    for directive in directives:
        if directive not in STRPTIME_DIRECTIVES:
            bad = f"%{directive}" if directive else "a lone % at the end"
            return f"{form!r} holds {bad}, which strptime does not read"
    return None


def date_formats_of(value: Any, option: str = "date_formats") -> tuple[str, ...]:
    """``date_formats`` as given to an import: strptime formats, or an error naming the option."""
    try:
        formats = None if isinstance(value, str) else tuple(value)
    except TypeError:
        formats = None
    if formats is None or not all(isinstance(f, str) for f in formats):
        raise InvalidArgumentError(
            f"{option} is a list of strptime formats like ['%d/%m/%Y'], got {value!r}."
        )
    for form in formats:
        problem = date_format_problem(form)
        if problem:
            raise InvalidArgumentError(f"{option}: {problem}.")
    return formats
