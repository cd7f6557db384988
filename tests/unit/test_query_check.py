"""Filters checked against the schema before sending: every operator on every type, coercion."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

import overlay
from overlay import F
from overlay._dsl.check import METHODS, PSEUDO_OPERATORS, TYPE_OPERATORS, check
from overlay._dsl.expr import Cond
from tests._spec import load_spec

ROOT = Path(__file__).resolve().parents[2]

SCHEMAS = {
    "people": {
        "name": "personal-name",
        "email_addresses": "email-address",
        "company": "record-reference",
        "job_title": "text",
        "vip": "checkbox",
        "born": "date",
        "rating": "rating",
    },
    "companies": {"name": "text", "stage": "select", "revenue": "currency", "founded_at": "timestamp"},
}
OPTIONS = {("companies", "stage"): ["Lead", "Customer"]}
SAMPLES = {
    "number": 1,
    "rating": 1,
    "currency": 1,
    "checkbox": True,
    "date": "2026-01-01",
    "timestamp": "2026-01-01T00:00:00Z",
    "select": "Lead",
    "status": "Lead",
}


def sample(kind: str, prop: str, op: str) -> Any:
    if op == "$not_empty":
        return True
    if op in ("$contains", "$starts_with", "$ends_with"):
        return "a"
    value = 1 if prop == "amount_minor" else "a" if prop else SAMPLES.get(kind, "a")
    return (value,) if op == "$in" else value


def run(expr: overlay.Expr, root: str = "people") -> overlay.Expr:
    return check(expr, root, SCHEMAS, OPTIONS, list(SCHEMAS))


def cases() -> list[tuple[str, str, str, bool]]:
    return [
        (kind, prop, op, op in ops)
        for kind, props in TYPE_OPERATORS.items()
        for prop, ops in props.items()
        for op in METHODS
    ]


@pytest.mark.parametrize(("kind", "prop", "op", "allowed"), cases())
def test_every_operator_on_every_type(kind: str, prop: str, op: str, allowed: bool) -> None:
    schemas = {"things": {"x": kind}}
    field = F.x[prop] if prop else F.x
    expr = Cond(field, op, sample(kind, prop, op))
    options = {("things", "x"): ["Lead"]}
    if allowed:
        check(expr, "things", schemas, options)
    else:
        with pytest.raises(overlay.InvalidArgumentError, match=r"does not apply to .*use one of"):
            check(expr, "things", schemas, options)


def test_the_operator_table_is_the_specs_and_the_sandbox_serves_it() -> None:
    """One table, in the spec (x-crm-filter-operators on each value schema): the client checks
    filters by it, and the sandbox answers by it."""
    import sys

    from crm_client.api_versions import FILTER_OPERATORS, VERSIONS
    from crm_sandbox.values import TYPES

    sys.path.insert(0, str(ROOT / "scripts"))
    import schema_graph

    spec = load_spec(VERSIONS[-1])
    assert schema_graph.filter_operators(spec) == FILTER_OPERATORS
    assert set(FILTER_OPERATORS) == set(
        spec["components"]["schemas"]["AttributeValue"]["discriminator"]["mapping"]
    )
    assert set(TYPE_OPERATORS) == set(TYPES) == set(FILTER_OPERATORS)
    for kind, spec_props in FILTER_OPERATORS.items():
        declared = {prop: set(ops) for prop, ops in spec_props.items()}
        assert {prop: set(p.ops) for prop, p in TYPES[kind].props.items()} == declared, kind
        assert {prop: set(ops) for prop, ops in TYPE_OPERATORS[kind].items()} == declared, kind
    del spec["components"]["schemas"]["RatingValue"]["x-crm-filter-operators"]
    with pytest.raises(ValueError, match="RatingValue has no x-crm-filter-operators"):
        schema_graph.filter_operators(spec)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (F.emial == "x", "Unknown attribute 'emial' on 'people'. Did you mean 'email_addresses'?"),
        (F.name.frist_name == "x", "Unknown property 'frist_name' on 'name' .* Did you mean 'first_name'?"),
        (F.name > "A", "> / gt does not apply to 'name' \\(personal-name\\); use one of: == / eq, in_"),
        (F.record_id > "a", "does not apply to record_id"),
        (F.company.via("compnies").name == "x", "Unknown object 'compnies' .* Did you mean 'companies'?"),
        (F.job_title.via("companies").name == "x", "'job_title' on 'people' is text, not a reference"),
        (
            F.company.via("companies").stage == "Laed",
            "'Laed' is not an option of 'stage' .* Did you mean 'Lead'?",
        ),
        (F.rating >= "high", "compares with numbers, got 'high'"),
        (F.vip == "maybe", "compares with true or false"),
        (F.born < "the day after", "compares with a date"),
    ],
)
def test_each_mistake_is_named(expr: overlay.Expr, message: str) -> None:
    with pytest.raises(overlay.InvalidArgumentError, match=message):
        run(expr)


def test_values_are_coerced_to_what_the_api_compares() -> None:
    checked = run(
        (F.rating >= "4")
        & (F.vip == "yes")
        & (F.born < "2 March 1990")
        & (F.created_at >= datetime.date(2026, 1, 1))
        & F.company.via("companies").founded_at.gt("2026-01-01 09:30")
        & F.company.via("companies").revenue.amount_minor.gte("1250")
    )
    assert checked.to_filter("people")["$and"] == [
        {"rating": {"$gte": 4}},
        {"vip": {"$eq": True}},
        {"born": {"$lt": "1990-03-02"}},
        {"created_at": {"$gte": "2026-01-01T00:00:00+00:00"}},
        {
            "path": [["people", "company"], ["companies", "founded_at"]],
            "constraints": {"$gt": "2026-01-01T09:30:00+00:00"},
        },
        {
            "path": [["people", "company"], ["companies", "revenue"]],
            "constraints": {"amount_minor": {"$gte": 1250.0}},
        },
    ]


def test_select_titles_are_checked_only_where_titles_are_compared() -> None:
    assert run(F.stage.in_(["Lead", "Customer"]), "companies") == F.stage.in_(["Lead", "Customer"])
    assert run(F.stage.title.contains("ead"), "companies") == F.stage.title.contains("ead")
    assert set(PSEUDO_OPERATORS) == {"record_id", "created_at", "updated_at"}
