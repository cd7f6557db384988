"""Round trips: random records → export → import into a fresh sandbox → the same records, per format."""

from __future__ import annotations

import datetime as dt
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import overlay

TAGS = ["Alpha", "Beta", "Gamma", "Δelta"]
STAGES = ["Lead", "Won", "Lost"]
SCHEMA: list[dict[str, Any]] = [
    {"api_slug": "name", "title": "Name", "type": "personal-name"},
    {"api_slug": "email", "title": "Email", "type": "email-address", "is_unique": True},
    {"api_slug": "notes", "title": "Notes", "type": "text"},
    {"api_slug": "score", "title": "Score", "type": "number"},
    {"api_slug": "vip", "title": "VIP", "type": "checkbox"},
    {"api_slug": "since", "title": "Customer since", "type": "date"},
    {"api_slug": "seen_at", "title": "Last seen", "type": "timestamp"},
    {
        "api_slug": "budget",
        "title": "Budget",
        "type": "currency",
        "config": {"currency": {"default_currency_code": "USD"}},
    },
    {"api_slug": "tags", "title": "Tags", "type": "select", "is_multiselect": True},
    {"api_slug": "stage", "title": "Stage", "type": "status"},
    {"api_slug": "site", "title": "Website", "type": "domain"},
    {"api_slug": "phone", "title": "Phone", "type": "phone-number"},
    {"api_slug": "stars", "title": "Stars", "type": "rating"},
]


def create_schema(crm: overlay.Client) -> None:
    crm.objects.create(api_slug="contacts", singular_noun="Contact", plural_noun="Contacts")
    for attribute in SCHEMA:
        crm.attributes.create("contacts", **attribute)
    for title in TAGS:
        crm.attributes.create_option("contacts", "tags", title=title)
    for title in STAGES:
        crm.attributes.create_option("contacts", "stage", title=title)


letters = st.text(alphabet=string.ascii_letters + "éøßÅ", min_size=1, max_size=8)
text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30),
    st.sampled_from(["=1+1", "+33 1 23", "-minus", "@mention", "'=already", "line one\nline two", "42"]),
).filter(lambda s: s == s.strip() and s != "")
numbers = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False).filter(
        lambda f: abs(f) > 1e-6 or f == 0
    ),
)
instants = st.datetimes(dt.datetime(1971, 1, 1), dt.datetime(2099, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)
)


@st.composite
def records(draw: st.DrawFn, index: int) -> dict[str, Any]:
    optional = {
        "notes": text,
        "score": numbers,
        "vip": st.booleans(),
        "since": st.dates(dt.date(1901, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat),
        "seen_at": instants.map(lambda d: d.isoformat()),
        "budget": st.builds(
            lambda amount, code: {"amount_minor": amount, "currency_code": code},
            st.integers(-(10**9), 10**9),
            st.sampled_from(["USD", "EUR", "JPY", "BHD"]),
        ),
        "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True),
        "stage": st.sampled_from(STAGES),
        "site": letters.map(lambda w: f"{w.lower()}.example").filter(lambda d: d.isascii()),
        "phone": st.integers(0, 10**7 - 1).map(lambda n: f"+44207{n:07d}"),  # valid London numbers
        "stars": st.integers(0, 5),
    }
    record: dict[str, Any] = {
        "name": {"first_name": draw(letters), "last_name": draw(letters)},
        "email": f"contact{index}@example.com",
    }
    for slug, strategy in optional.items():
        if draw(st.booleans()):
            record[slug] = draw(strategy)
    return record


@st.composite
def datasets(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [draw(records(i)) for i in range(draw(st.integers(1, 6)))]


def comparable(record: overlay.Record) -> dict[str, Any]:
    """A record's plain values, with money and instants in a form that compares exactly."""
    out: dict[str, Any] = {}
    for slug in record.slugs():
        values = []
        for value in record.all(slug):
            if hasattr(value, "amount_minor"):
                value = (value.amount_minor, value.currency_code)
            elif isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC)
            values.append(value)
        out[slug] = values
    return out


def snapshot(crm: overlay.Client) -> dict[str, dict[str, Any]]:
    return {record["email"]: comparable(record) for record in crm.records("contacts").where()}


EDGES = [
    {
        "name": {"first_name": "Zoë", "last_name": "van der Berg"},
        "email": "edge0@example.com",
        "notes": '=HYPERLINK("http://x")',
        "score": -1234.5,
        "budget": {"amount_minor": -500, "currency_code": "JPY"},
        "tags": ["Δelta", "Alpha"],
        "phone": "+442079460958",
        "seen_at": "2025-03-01T09:30:00+00:00",
    },
    {
        "name": {"first_name": "Ada", "last_name": "Lovelace"},
        "email": "edge1@example.com",
        "notes": "'+already quoted",
        "score": 10**12,
        "vip": False,
        "since": "1901-01-01",
        "budget": {"amount_minor": 1250, "currency_code": "BHD"},
        "stage": "Won",
        "site": "acme.example",
        "stars": 0,
    },
    {
        "name": {"first_name": "Line", "last_name": "Break"},
        "email": "edge2@example.com",
        "notes": "one\ntwo; three, four",
    },
]


@pytest.mark.parametrize("suffix", ["csv", "jsonl.gz", "xlsx", "parquet"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
@example(data=EDGES)
def test_export_then_import_into_a_fresh_sandbox_gives_the_same_records(
    suffix: str, data: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contacts.{suffix}"
        with overlay.Sandbox(read_rate=None, write_rate=None) as source, source.connect() as crm:
            create_schema(crm)
            written = crm.bulk.create("contacts", data, raise_on_error=True)
            assert written.succeeded == len(data)
            before = snapshot(crm)
            exported = crm.records("contacts").export(path)
            assert exported.rows == len(data) and exported.files == [str(path)]
        with overlay.Sandbox(read_rate=None, write_rate=None) as target, target.connect() as crm:
            create_schema(crm)
            report = crm.import_file(path, "contacts", match="email")
            assert (report.total, report.accepted, report.rejected) == (len(data), len(data), 0), report
            assert report.created == len(data)
            assert snapshot(crm) == before


def test_a_dataframe_round_trips_through_to_pandas_and_import_rows() -> None:
    with overlay.Sandbox(read_rate=None, write_rate=None) as source, source.connect() as crm:
        create_schema(crm)
        data = [
            {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "score": 3.5,
                "since": "2025-03-01",
                "tags": ["Alpha", "Beta"],
            },
            {
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "seen_at": "2025-03-01T09:30:00+00:00",
                "vip": True,
            },
        ]
        crm.bulk.create("contacts", data, raise_on_error=True)
        before = snapshot(crm)
        frame = crm.records("contacts").to_pandas()
        assert list(frame["email"]) == ["ada@example.com", "grace@example.com"]
        assert str(frame["seen_at"].dtype) == "datetime64[us, UTC]" or "datetime64" in str(
            frame["seen_at"].dtype
        )
    with overlay.Sandbox(read_rate=None, write_rate=None) as target, target.connect() as crm:
        create_schema(crm)
        report = crm.import_rows(frame, "contacts", match="email")
        assert (report.total, report.accepted, report.rejected) == (2, 2, 0), report
        assert snapshot(crm) == before
