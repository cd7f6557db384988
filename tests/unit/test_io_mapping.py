"""Cells coerced by attribute type, and columns mapped to attributes (explicitly or by header)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from overlay import MappingError
from overlay.io import AttributeInfo, Column, Plan, Row, RowError, Settings
from overlay.io._cells import CellError, Lookup
from overlay.io._coerce import Coercer

PEOPLE = {
    "name": AttributeInfo("name", "Name", "personal-name"),
    "email_addresses": AttributeInfo("email_addresses", "Email addresses", "email-address", True, True),
    "phone_numbers": AttributeInfo("phone_numbers", "Phone numbers", "phone-number", True),
    "job_title": AttributeInfo("job_title", "Job title", "text"),
    "company": AttributeInfo("company", "Company", "record-reference", targets=("companies",)),
    "tags": AttributeInfo("tags", "Tags", "select", True, options=("VIP", "Sales, EMEA", "Churned")),
    "stage": AttributeInfo("stage", "Stage", "status", options=("Lead", "Won")),
    "value": AttributeInfo("value", "Deal value", "currency", default_currency="USD"),
    "born": AttributeInfo("born", "Born", "date"),
    "seen_at": AttributeInfo("seen_at", "Last seen", "timestamp"),
    "employees": AttributeInfo("employees", "Employees", "number"),
    "active": AttributeInfo("active", "Active", "checkbox"),
    "stars": AttributeInfo("stars", "Stars", "rating"),
    "website": AttributeInfo("website", "Website", "domain"),
}


def coerce(slug: str, cell: Any, settings: Settings | None = None, **parts: Any) -> Any:
    coercer = Coercer(PEOPLE[slug], settings or Settings(), {"companies": "domains"})
    return coercer.value({"": cell, **parts}, {})


@pytest.mark.parametrize(
    ("slug", "cell", "expected"),
    [
        ("employees", "1,234", 1234),
        ("employees", "1,234.50", 1234.5),
        ("employees", "(1,000)", -1000),
        ("employees", 42.0, 42.0),
        ("employees", "1e3", 1000),
        ("active", "Yes", True),
        ("active", "0", False),
        ("active", "x", True),
        ("stars", "4", 4),
        ("stars", 3.0, 3),
        ("born", "2025-03-01", "2025-03-01"),
        ("born", "1 March 2025", "2025-03-01"),
        ("born", "03/04/2025", "2025-03-04"),
        ("born", dt.datetime(2025, 3, 1), "2025-03-01"),
        ("seen_at", "2025-03-01T09:30:00Z", "2025-03-01T09:30:00.000000+00:00"),
        ("seen_at", "2025-03-01 10:30 +01:00", "2025-03-01T09:30:00.000000+00:00"),
        ("seen_at", dt.datetime(2025, 3, 1, 9, 30), "2025-03-01T09:30:00.000000+00:00"),
        ("value", "1,234.50 EUR", {"amount_minor": 123450, "currency_code": "EUR"}),
        ("value", "€12", {"amount_minor": 1200, "currency_code": "EUR"}),
        ("value", "JPY 500", {"amount_minor": 500, "currency_code": "JPY"}),
        ("value", "12.5", {"amount_minor": 1250, "currency_code": "USD"}),
        ("value", "1.250 BHD", {"amount_minor": 1250, "currency_code": "BHD"}),
        ("tags", "VIP; churned", ["VIP", "Churned"]),
        ("tags", "Sales, EMEA", ["Sales, EMEA"]),
        ("tags", ["VIP"], ["VIP"]),
        ("stage", " won ", "Won"),
        ("email_addresses", "Ada <Ada@Example.COM>, b@x.example", ["Ada@example.com", "b@x.example"]),
        ("email_addresses", "mailto:ada@example.com", ["ada@example.com"]),
        ("website", "https://www.Acme.com/about", "acme.com"),
        (
            "phone_numbers",
            "+44 20 7946 0958",
            [{"original_phone_number": "+44 20 7946 0958"}],
        ),
        (
            "phone_numbers",
            "0044 20 7946 0958",
            [{"original_phone_number": "+44 20 7946 0958"}],
        ),
        (
            "name",
            "Lovelace, Ada",
            {"first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace"},
        ),
        (
            "name",
            "Ada  King Lovelace",
            {"first_name": "Ada", "last_name": "King Lovelace", "full_name": "Ada King Lovelace"},
        ),
        (
            "company",
            "8A6C4E2F-0B1D-4F3A-9C5E-7D9F1B3C5E70",
            {"target_object": "companies", "target_record_id": "8a6c4e2f-0b1d-4f3a-9c5e-7d9f1b3c5e70"},
        ),
        ("company", "acme.com", Lookup("companies", "domains", "acme.com")),
        ("job_title", 42.0, "42"),
        ("job_title", "  ", None),
    ],
)
def test_cells_become_the_values_their_attribute_takes(slug: str, cell: Any, expected: Any) -> None:
    assert coerce(slug, cell) == expected


@pytest.mark.parametrize(
    ("slug", "cell", "message"),
    [
        ("employees", "1,23", "separators must group by thousands"),
        ("employees", "twelve", "is not a number"),
        ("active", "maybe", "is not true or false"),
        ("stars", "7", "from 0 to 5"),
        ("born", "next week", "is not a date"),
        ("born", "March 2025", "is not a full date"),
        ("born", "2025-03-01 09:30", "has a time of day"),
        ("value", "12.345 EUR", "more decimals than EUR has (2)"),
        ("tags", "VIPP", "Did you mean 'VIP'?"),
        ("email_addresses", "ada@", "is not an email address"),
        ("website", "not a domain", "is not a domain"),
        ("phone_numbers", "020 7946 0958", "has no country code"),
        ("phone_numbers", "+44 12", "is not a valid phone number"),
        ("stage", "Won; Lead", "is not an option of 'stage'"),
        ("job_title", "x" * 10_001, "at most 10,000"),
    ],
)
def test_bad_cells_say_what_is_wrong(slug: str, cell: Any, message: str) -> None:
    with pytest.raises(CellError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        coerce(slug, cell)


def test_settings_decide_the_ambiguous_cells() -> None:
    assert coerce("born", "03/04/2025", Settings(dayfirst=True)) == "2025-04-03"
    assert coerce("born", "03.04.25", Settings(date_formats=("%d.%m.%y",))) == "2025-04-03"
    assert coerce("employees", "1.234,5", Settings(decimal=",")) == 1234.5
    paris = dt.timezone(dt.timedelta(hours=1))
    assert (
        coerce("seen_at", "2025-03-01 10:30", Settings(timezone=paris)) == "2025-03-01T09:30:00.000000+00:00"
    )
    assert coerce("phone_numbers", "020 7946 0958", Settings(phone_region="gb")) == [
        {"original_phone_number": "020 7946 0958", "country_code": "GB"}
    ]


@pytest.mark.parametrize(
    ("cell", "region", "message"),
    [
        ("(555) 010-1234", "GB", "is not a valid phone number in GB"),
        ("020 7946 095", "GB", "is not a valid phone number in GB"),
        ("(555) 010-1234", "US", "is not a valid phone number in US"),
        ("+44 20 7946 09", None, "is not a valid phone number"),
        ("call me", "GB", "is not a phone number"),
    ],
)
def test_a_phone_number_that_is_not_valid_in_its_region_is_refused(
    cell: str, region: str | None, message: str
) -> None:
    with pytest.raises(CellError, match=message):
        coerce("phone_numbers", cell, Settings(phone_region=region))


def test_a_valid_national_phone_number_keeps_what_was_typed_and_reads_as_e164() -> None:
    import phonenumbers

    [value] = coerce("phone_numbers", "(202) 555-0143", Settings(phone_region="US"))
    assert value == {"original_phone_number": "(202) 555-0143", "country_code": "US"}
    number = phonenumbers.parse(value["original_phone_number"], value["country_code"])
    assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == "+12025550143"
    [british] = coerce("phone_numbers", "07911 123456", Settings(phone_region="GB"))
    assert british == {"original_phone_number": "07911 123456", "country_code": "GB"}


def test_a_row_reports_every_problem_of_its_cells_at_once() -> None:
    plan = Plan.build("people", PEOPLE, ["Email", "Stage", "Stars", "Job title"])
    row = Row(2, {"Email": "nope", "Stage": "Leed", "Stars": "9", "Job title": "Boss"}, None)
    with pytest.raises(RowError) as raised:
        plan.values(row)
    assert [column for column, _ in raised.value.problems] == ["Email", "Stage", "Stars"]
    assert raised.value.column == "Email"
    assert "is not an email address" in raised.value.reason
    assert "Did you mean 'Lead'" in raised.value.reason and "from 0 to 5" in raised.value.reason


def test_a_lone_surrogate_in_a_cell_is_a_problem_of_its_row_naming_the_column() -> None:
    plan = Plan.build("people", PEOPLE, ["Email", "Job title"])
    values, problems = plan.convert(Row(3, {"Email": "a@b.example", "Job title": "Bo\ud800ss"}, None))
    assert values == {"email_addresses": ["a@b.example"]}
    assert problems == [
        (
            "Job title",
            "column 'Job title' holds a lone surrogate (U+D800), which is not Unicode text"
            " and cannot be sent",
        )
    ]
    nested = plan.convert(Row(4, {"Email": ["a@b.example", "\udfff"], "Job title": "x"}, None))[1]
    assert [column for column, _ in nested] == ["Email"]


def test_properties_come_from_their_own_columns() -> None:
    assert coerce("value", "12.50", currency_code="eur") == {"amount_minor": 1250, "currency_code": "EUR"}
    coercer = Coercer(PEOPLE["name"], Settings())
    assert coercer.value({"first_name": "Ada", "last_name": "Lovelace"}, {}) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "full_name": "Ada Lovelace",
    }


def plan(columns: list[str], **options: Any) -> Plan:
    return Plan.build("people", PEOPLE, columns, unique={"companies": "domains"}, **options)


def test_headers_map_by_slug_title_prefix_and_near_spelling() -> None:
    built = plan(
        ["E-mail", "First name", "Last name", "Job Title", "phone", "Deal value", "Websit", "record_id"]
    )
    assert built.describe() == {
        "E-mail": "email_addresses",
        "First name": "name.first_name",
        "Last name": "name.last_name",
        "Job Title": "job_title",
        "phone": "phone_numbers",
        "Deal value": "value",
        "Websit": "website",
    }
    assert built.ignored == ["record_id"]


def test_an_unmapped_column_stops_the_import_and_names_the_nearest_attribute() -> None:
    with pytest.raises(
        MappingError,
        match=r"column .Emial adress. \(B\) matches no attribute of people\. Did you mean .email_addresses",
    ) as caught:
        plan(["Name", "Emial adress", "Shoe size"])
    assert caught.value.column == "Emial adress"
    assert "'Shoe size' (C)" in str(caught.value)
    assert plan(["Name", "Shoe size"], unmapped="ignore").ignored == ["Shoe size"]
    assert plan(["Name", "Shoe size"], ignore=["Shoe size"]).describe() == {"Name": "name"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mapping": {"Email": "emails"}}, "Did you mean 'email_addresses'"),
        ({"mapping": {"Nope": "job_title"}}, "The file has no column 'Nope'"),
        (
            {"mapping": {"Email": "name.middle"}},
            "has no property 'middle'; properties: first_name, last_name, full_name",
        ),
        (
            {"mapping": {"Email": "job_title", "Name": "job_title"}},
            "all map to 'job_title', which holds one value",
        ),
        ({"match": "job_title"}, "not a unique attribute of people; unique: email_addresses"),
        ({"match": "email_addresses", "ignore": ["Email"]}, "no column maps to it"),
        ({"constants": {"stars": "eleven"}}, r"constants\['stars'\]"),
        ({"mapping": {"Email": Column("email_addresses", transform="shout")}}, "unknown transform 'shout'"),
        ({"mapping": {"Name": 5}}, r"mapping\['Name'\] is an attribute slug \(or a Column\), got int 5"),
        ({"mapping": {"Name": ""}}, r"mapping\['Name'\] is an attribute slug"),
        ({"ignore": "Email"}, "ignore is a list of column names, got the text 'Email'"),
    ],
)
def test_bad_mappings_are_refused_before_any_row(options: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        plan(["Name", "Email"], **options)


def test_rows_become_values_with_transforms_constants_and_several_columns_into_one() -> None:
    built = plan(
        ["Name", "Work email", "Home email", "Tags", "Code"],
        mapping={
            "Work email": "email_addresses",
            "Home email": Column("email_addresses", transform="lower|strip"),
            "Tags": Column("tags", split="/"),
            "Code": Column("job_title", transform=lambda v: f"#{v}"),
        },
        constants={"stage": "lead"},
    )
    cells = {
        "Name": "Ada Lovelace",
        "Work email": "ada@work.example",
        "Home email": " ADA@HOME.EXAMPLE ",
        "Tags": "VIP/Churned",
        "Code": "7",
    }
    values = built.values(Row(2, cells, cells))
    assert values["email_addresses"] == ["ada@work.example", "ada@home.example"]
    assert values["tags"] == ["VIP", "Churned"]
    assert values["job_title"] == "#7"
    assert values["stage"] == "Lead"


def test_a_row_error_names_the_column_and_the_attribute() -> None:
    built = plan(["Name", "Born"])
    cells = {"Name": "Ada", "Born": "soon"}
    with pytest.raises(RowError) as caught:
        built.values(Row(7, cells, cells))
    assert caught.value.column == "Born"
    assert str(caught.value) == "column 'Born' (born): 'soon' is not a date"
    unknown = {"Name": "Ada", "Born": "2025-01-01", "Extra": "1"}
    with pytest.raises(RowError, match="'Extra' is not in the header"):
        built.values(Row(8, unknown, unknown))


def test_exported_formula_escapes_are_undone_for_csv_and_excel_sources() -> None:
    built = plan(["Job title"], unescape=True)
    cells = {"Job title": "'=SUM(A1)"}
    assert built.values(Row(2, cells, cells)) == {"job_title": "=SUM(A1)"}
