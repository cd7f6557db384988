"""Phone numbers as the API reads them, checked and normalised with ``phonenumbers``.

One rule for the importer and the reference server, so both accept and refuse the same
numbers: a number is international (``+44 20 7946 0958``, ``0044 ...``) or national in a
given country, it must be a valid number there, and a national number of a country whose
numbers are written with a trunk prefix (``0`` in GB, FR, DE...) carries it, so
``(555) 010-1234`` read in GB is refused rather than stored as ``+445550101234``.

``phonenumbers`` is imported on the first number parsed: its metadata is large.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._errors import InvalidArgumentError

__all__ = ["PhoneNumber", "PhoneNumberError", "international", "parse_phone"]

MAX_CHARS = 64  # the API's longest original_phone_number


class PhoneNumberError(InvalidArgumentError):
    """A text that is not a valid phone number; the message says why, quoting the text."""


@dataclass(frozen=True)
class PhoneNumber:
    """A checked number: ``e164`` (``+442079460958``), the ``region`` it belongs to (``GB``;
    ``None`` for a non-geographic number) and the text as ``typed`` (``00`` read as ``+``)."""

    e164: str
    region: str | None
    typed: str


def international(text: str) -> str:
    """``text`` with a leading ``00`` read as ``+``."""
    return re.sub(r"^00\s*", "+", text.strip())


def region_problem(region: Any) -> str | None:
    """Why ``region`` is not a country phone numbers can be read in (``None`` when it is one)."""
    import phonenumbers

    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        return f"{region!r} is not a country code such as GB"
    return None


def parse_phone(text: str, region: str | None = None) -> PhoneNumber:
    """Check ``text`` as a phone number, national numbers read in ``region`` (ISO 3166-1
    alpha-2, any case); raise ``PhoneNumberError`` naming the problem."""
    import phonenumbers

    shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
    typed = international(text)
    if len(typed) > MAX_CHARS:
        raise PhoneNumberError(f"{shown} is not a phone number (at most {MAX_CHARS} characters)")
    is_national = not typed.startswith("+")
    country = region.upper() if region else None
    problem = region_problem(region) if region is not None else None
    if problem is not None:
        raise PhoneNumberError(problem)
    if is_national and country is None:
        raise PhoneNumberError(f"{shown} has no country code: write +<code>, or give its country")
    try:
        number = phonenumbers.parse(typed, country)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(f"{shown} is not a phone number") from None
    where = f" in {country}" if is_national else ""
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(f"{shown} is not a valid phone number{where}")
    if is_national and country is not None:
        prefix = _trunk_prefix(country)
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if prefix and _digits(written).startswith(prefix) and not _digits(typed).startswith(prefix):
            raise PhoneNumberError(
                f"{shown} is not a valid phone number{where} (a national number there starts "
                f"with {prefix}; write a number of another country with +<code>)"
            )
    # A national number belongs to the country it was read in (07911 123456 in GB, though
    # Guernsey shares the numbering plan); an international one to its numbering plan's owner.
    owner = country if is_national else phonenumbers.region_code_for_number(number)
    return PhoneNumber(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=owner if owner and owner != "001" else None,
        typed=typed,
    )


def _trunk_prefix(country: str) -> str | None:
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    return metadata.national_prefix if metadata is not None else None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)
