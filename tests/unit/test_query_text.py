"""The text query language: round trips with expressions, and errors that point at the place."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import overlay
from overlay import F, from_text

from .test_query_expressions import expressions


@settings(max_examples=200, deadline=None)
@given(expressions)
def test_every_expression_writes_as_text_that_reads_back(expr: overlay.Expr) -> None:
    text = expr.to_text()
    assert from_text(text) == expr
    assert from_text(text).to_text() == text


def test_the_issue_example() -> None:
    expr = from_text(
        "name ~ 'ada' and (age >= 30 or email_addresses.email_domain = 'acme.com') and not tags in ['x', 'y']"
    )
    assert expr == (
        F.name.contains("ada")
        & ((F.age >= 30) | (F.email_addresses.email_domain == "acme.com"))
        & ~F.tags.in_(["x", "y"])
    )


@pytest.mark.parametrize(
    ("text", "expr"),
    [
        ("rating >= 3", F.rating >= 3),
        ('name ^= "Ad" or name $= "ce"', F.name.starts_with("Ad") | F.name.ends_with("ce")),
        ("company->companies.name ~ 'works'", F.company.via("companies").name.contains("works")),
        (
            "phone_numbers is set and not job_title is empty",
            F.phone_numbers.is_set() & ~F.job_title.is_empty(),
        ),
        ("stage not in ['Lost', 'Won']", ~F.stage.in_(["Lost", "Won"])),
        ("`set` = true and job-title != null", (F["set"] == True) & (F["job-title"] != None)),  # noqa: E712, E711
        ("note = 'it\\'s'", F.note == "it's"),
        ("value < -1.5e3", F.value < -1500.0),
        ("NAME = 'x' AND rating > 1", (F.NAME == "x") & (F.rating > 1)),
    ],
)
def test_the_grammar(text: str, expr: overlay.Expr) -> None:
    assert from_text(text) == expr


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("name ~ 'ada' and age >= ", 25, "a value after '>='"),
        ("(rating > 3", 12, "')' or 'and'/'or'"),
        ("rating >> 3", 9, "a value after '>'"),
        ("rating 3", 8, "an operator"),
        ("rating > 3 rating < 5", 12, "'and', 'or' or the end"),
        ("name ~ 3", 8, "text after '~'"),
        ("tags in ['a' 'b']", 14, "',' or ']'"),
        ("rating is 3", 11, "'set' or 'empty'"),
        ("company->", 10, "the object the reference leads to"),
        ("", 1, "a condition"),
        ("name = 'x' & rating > 1", 12, "a name, a value, an operator"),
    ],
)
def test_syntax_errors_show_where_and_what_was_expected(text: str, column: int, expected: str) -> None:
    with pytest.raises(overlay.QuerySyntaxError) as caught:
        from_text(text)
    error = caught.value
    assert error.position + 1 == column and expected in error.expected
    message = str(error)
    assert f"column {column}" in message
    assert message.splitlines()[-1] == "  " + " " * (column - 1) + "^"
    assert isinstance(error, overlay.InvalidArgumentError)
