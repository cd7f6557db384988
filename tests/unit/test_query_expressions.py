"""Filter expressions: JSON that fits the spec, read back unchanged, reprs that rebuild them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import overlay
from overlay import F, from_filter
from tests._spec import load_spec

SLUGS = ["name", "email_addresses", "rating", "job_title", "company", "for", "eq", "job-title", "created_at"]
PROPERTIES = ["email_domain", "first_name", "last_name", "target_record_id"]
OBJECTS = ["companies", "people", "deals"]
scalars = st.one_of(st.text(max_size=8), st.integers(-1000, 1000), st.booleans(), st.none())
ordered = st.one_of(st.text(max_size=8), st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))


@st.composite
def fields(draw: st.DrawFn) -> overlay.Field:
    slug = draw(st.sampled_from(SLUGS))
    if draw(st.booleans()):
        via: Any = F
        for _ in range(draw(st.integers(1, 2))):
            via = via[draw(st.sampled_from(SLUGS))].via(draw(st.sampled_from(OBJECTS)))
        field: overlay.Field = via[slug]
    else:
        field = F[slug]
    return field[draw(st.sampled_from(PROPERTIES))] if draw(st.booleans()) else field


@st.composite
def conditions(draw: st.DrawFn) -> overlay.Expr:
    field = draw(fields())
    kind = draw(st.sampled_from(["eq", "ne", "cmp", "text", "in", "set"]))
    if kind == "eq":
        return field == draw(scalars)
    if kind == "ne":
        return field != draw(scalars)
    if kind == "cmp":
        value = draw(ordered)
        return draw(st.sampled_from([field < value, field <= value, field > value, field >= value]))
    if kind == "text":
        method = draw(st.sampled_from(["contains", "starts_with", "ends_with"]))
        result: overlay.Expr = getattr(field, method)(draw(st.text(max_size=8)))
        return result
    if kind == "in":
        return field.in_(draw(st.lists(scalars, max_size=4)))
    return field.is_set() if draw(st.booleans()) else field.is_empty()


expressions = st.recursive(
    conditions(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ),
    max_leaves=8,
)


def filter_validator() -> Draft202012Validator:
    spec = load_spec()
    return Draft202012Validator({"$ref": "#/components/schemas/Filter", "components": spec["components"]})


VALIDATOR = filter_validator()


@settings(max_examples=150, deadline=None)
@given(expressions)
def test_expressions_compile_to_filters_the_spec_accepts_and_read_back(expr: overlay.Expr) -> None:
    compiled = expr.to_filter(object="people")
    assert [e.message for e in VALIDATOR.iter_errors(compiled)] == []
    assert from_filter(compiled).to_filter(object="people") == compiled


@settings(max_examples=150, deadline=None)
@given(expressions)
def test_the_repr_rebuilds_the_expression(expr: overlay.Expr) -> None:
    assert eval(repr(expr), {"F": F}) == expr


@settings(max_examples=100, deadline=None)
@given(expressions, expressions, expressions)
def test_and_and_or_flatten(a: overlay.Expr, b: overlay.Expr, c: overlay.Expr) -> None:
    assert (a & (b & c)).to_filter("people") == ((a & b) & c).to_filter("people")
    for combined, key in (((a & b) & c, "$and"), ((a | b) | c, "$or")):
        items = combined.to_filter("people")[key]
        assert all(key not in item for item in items)


def test_the_issue_example() -> None:
    expr = F.name.contains("ada") & (F.age >= 30) | ~F.email_addresses.email_domain.eq("spam.com")
    assert expr.to_filter() == {
        "$or": [
            {"$and": [{"name": {"$contains": "ada"}}, {"age": {"$gte": 30}}]},
            {"$not": {"email_addresses": {"email_domain": {"$eq": "spam.com"}}}},
        ]
    }
    path = F.company.via("companies").name.starts_with("Ac")
    assert path.to_filter("people") == {
        "path": [["people", "company"], ["companies", "name"]],
        "constraints": {"$starts_with": "Ac"},
    }


def test_shorthand_filters_read_as_their_verbose_form() -> None:
    assert from_filter({"name": "Ada"}) == (F.name == "Ada")
    assert from_filter({"email_addresses": {"email_domain": "x.io"}}) == F.email_addresses.email_domain.eq(
        "x.io"
    )
    assert from_filter({"rating": {"$gte": 3, "$lt": 5}, "record_id": {"$in": ["a"]}}) == (
        (F.rating >= 3) & (F.rating < 5) & F.record_id.in_(["a"])
    )


def test_expressions_are_values() -> None:
    a = F.name.contains("x")
    assert a == F.name.contains("x") and hash(a) == hash(F.name.contains("x"))
    assert a != F.name.contains("y")
    with pytest.raises(AttributeError):
        a.op = "$eq"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: bool(F.a == 1), "no truth value"),
        (lambda: (F.a == 1) and (F.b == 2), "no truth value"),
        (lambda: (F.a == 1) & F.b, "Expected a filter expression"),
        (lambda: F.name.first_name.more, "do not nest"),
        (lambda: F.name.first_name.via("x"), "only an attribute"),
        (lambda: F.tags.in_("abc"), "takes a list"),
        (lambda: F.company.via("companies").name.eq("x").to_filter(), "to_filter\\(object='people'\\)"),
        (lambda: from_filter({"name": {"$regex": "a"}}), "Unknown operator '\\$regex'"),
        (lambda: from_filter({"$xor": []}), "Unknown combinator"),
        (lambda: from_filter({}), "empty filter"),
        (lambda: from_filter({"path": [["people"]], "constraints": {}}), "path filter is"),
    ],
)
def test_mistakes_get_clear_errors(make: Any, message: str) -> None:
    with pytest.raises(overlay.InvalidArgumentError, match=message):
        make()
