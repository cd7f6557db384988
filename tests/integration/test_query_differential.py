"""Differential: random queries over random datasets in the sandbox return exactly the records a
pure-Python evaluator of the same expression picks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import overlay
from overlay import F
from overlay._dsl.expr import And, Cond, Expr, Not, Or

WORDS = ["ada", "alan", "grace", "linus", "barbara", "edsger", "ad", "la"]
DOMAINS = ["acme.example", "globex.example", "initech.example"]
KINDS = ["Gadget", "Gizmo", "Doohickey"]


def dataset(seed: int, size: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(size):
        row: dict[str, Any] = {"label": rng.choice(WORDS) + rng.choice(["", "x", "ada"])}
        if rng.random() < 0.8:
            row["size"] = rng.randint(0, 20)
        if rng.random() < 0.7:
            row["active"] = rng.random() < 0.5
        row["contacts"] = [f"{rng.choice(WORDS)}{i}@{rng.choice(DOMAINS)}" for i in range(rng.randint(0, 2))]
        if rng.random() < 0.8:
            row["kind"] = rng.choice(KINDS)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ the reference evaluator


def values_of(row: dict[str, Any], cond: Cond) -> list[Any]:
    value = row.get(cond.field.attribute)
    values = value if isinstance(value, list) else [] if value is None else [value]
    if cond.field.property == "email_domain":
        values = [v.split("@")[1] for v in values]
    return values


def compare(op: str, value: Any, operand: Any) -> bool:
    if op == "$eq":
        return bool(value == operand)
    if op == "$in":
        return value in operand
    if op == "$contains":
        return operand.lower() in value.lower()
    if op == "$starts_with":
        return bool(value.lower().startswith(operand.lower()))
    if op == "$ends_with":
        return bool(value.lower().endswith(operand.lower()))
    return {
        "$lt": value < operand,
        "$lte": value <= operand,
        "$gt": value > operand,
        "$gte": value >= operand,
    }[op]


def matches(expr: Expr, row: dict[str, Any]) -> bool:
    if isinstance(expr, And):
        return all(matches(item, row) for item in expr.items)
    if isinstance(expr, Or):
        return any(matches(item, row) for item in expr.items)
    if isinstance(expr, Not):
        return not matches(expr.item, row)
    assert isinstance(expr, Cond)
    values = values_of(row, expr)
    if expr.op == "$not_empty":
        return bool(values) == expr.value
    return any(compare(expr.op, v, expr.value) for v in values)


# ------------------------------------------------------------------ random queries

text_ops = st.sampled_from(["contains", "starts_with", "ends_with"])
conditions = st.one_of(
    st.builds(lambda m, w: getattr(F.label, m)(w), text_ops, st.sampled_from(WORDS)),
    st.builds(lambda w: F.label == w, st.sampled_from([w + s for w in WORDS for s in ("", "x")])),
    st.builds(lambda ws: F.label.in_(ws), st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)),
    st.builds(
        lambda op, n: getattr(F.size, op)(n),
        st.sampled_from(["eq", "lt", "lte", "gt", "gte"]),
        st.integers(-1, 21),
    ),
    st.builds(lambda ns: F.size.in_(ns), st.lists(st.integers(0, 20), min_size=1, max_size=3)),
    st.builds(lambda b: F.active == b, st.booleans()),
    st.builds(lambda d: F.contacts.email_domain == d, st.sampled_from(DOMAINS)),
    st.builds(
        lambda s: F.contacts.email_domain.ends_with(s),
        st.sampled_from(["example", "acme.example", "tech.example"]),
    ),
    st.builds(lambda k: F.kind == k, st.sampled_from(KINDS)),
    st.sampled_from(
        [F.size.is_set(), F.size.is_empty(), F.contacts.is_set(), F.active.is_empty(), F.kind.is_set()]
    ),
)
queries = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ),
    max_leaves=5,
)


@pytest.fixture(scope="module", params=[1, 2])
def loaded(request: pytest.FixtureRequest) -> Iterator[tuple[overlay.Client, dict[str, dict[str, Any]]]]:
    with overlay.Sandbox(read_rate=None, write_rate=None) as sb, sb.connect() as crm:
        crm.objects.create(api_slug="widgets", singular_noun="Widget", plural_noun="Widgets")
        crm.attributes.create("widgets", title="Label", api_slug="label", type="text")
        crm.attributes.create("widgets", title="Size", api_slug="size", type="number")
        crm.attributes.create("widgets", title="Active", api_slug="active", type="checkbox")
        crm.attributes.create(
            "widgets", title="Contacts", api_slug="contacts", type="email-address", is_multiselect=True
        )
        crm.attributes.create("widgets", title="Kind", api_slug="kind", type="select")
        for kind in KINDS:
            crm.attributes.create_option("widgets", "kind", title=kind)
        rows = dataset(request.param)
        by_id = {crm.records("widgets").create(row).id: row for row in rows}
        yield crm, by_id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
def test_the_sandbox_agrees_with_the_reference_evaluator(
    loaded: tuple[overlay.Client, dict[str, dict[str, Any]]], query: Expr
) -> None:
    crm, rows = loaded
    expected = {record_id for record_id, row in rows.items() if matches(query, row)}
    found = {record.id for record in crm.records("widgets").where(query)}
    assert found == expected, query.to_text()
    assert crm.records("widgets").where(query.to_text()).count() == len(expected)
