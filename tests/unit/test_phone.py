"""overlay.phone: the one rule the importer and the sandbox apply to phone numbers."""

from __future__ import annotations

import pytest

from overlay import InvalidArgumentError
from overlay.phone import PhoneNumber, PhoneNumberError, parse_phone


def test_a_british_number_typed_without_its_trunk_zero_is_refused() -> None:
    with pytest.raises(PhoneNumberError, match=r"not a valid phone number in GB .*starts with 0"):
        parse_phone("(555) 010-1234", "GB")


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("020 7946 0958", "gb", PhoneNumber("+442079460958", "GB", "020 7946 0958")),
        ("07911 123456", "GB", PhoneNumber("+447911123456", "GB", "07911 123456")),
        ("(202) 555-0143", "US", PhoneNumber("+12025550143", "US", "(202) 555-0143")),
        ("0044 20 7946 0958", None, PhoneNumber("+442079460958", "GB", "+44 20 7946 0958")),
        ("+44 20 7946 0958", "US", PhoneNumber("+442079460958", "GB", "+44 20 7946 0958")),
        ("+800 1234 5678", None, PhoneNumber("+80012345678", None, "+800 1234 5678")),
    ],
)
def test_a_valid_number_reads_as_e164_in_its_own_country(
    typed: str, region: str | None, expected: PhoneNumber
) -> None:
    assert parse_phone(typed, region) == expected


@pytest.mark.parametrize(
    ("typed", "region", "reason"),
    [
        ("020 7946 0958", None, "has no country code"),
        ("020 7946 095", "GB", "is not a valid phone number in GB"),
        ("+44 20 7946 09", None, "is not a valid phone number"),
        ("call me", "GB", "is not a phone number"),
        ("020 7946 0958", "XX", "'XX' is not a country code"),
        ("1" * 65, "US", "at most 64 characters"),
    ],
)
def test_what_is_wrong_with_a_number_is_named(typed: str, region: str | None, reason: str) -> None:
    with pytest.raises(PhoneNumberError, match=reason) as caught:
        parse_phone(typed, region)
    assert isinstance(caught.value, InvalidArgumentError)
