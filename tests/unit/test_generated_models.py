"""The generated models read everything the spec describes, and what a newer server may send.

- every example in the spec parses, round-trips, and serialises back to valid JSON;
- instances generated from every response schema do the same (hypothesis);
- values the client does not know (an enum value, an attribute type, an event type) survive.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import crm_client.models as models
import jsonschema
import pytest
from crm_client.types import UnknownVariant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests._spec import body_schema_names, load_spec

SPEC = load_spec()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def schema_of(name: str) -> dict[str, Any]:
    """A component schema as a standalone JSON Schema whose $refs resolve."""
    return {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema_of(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def with_discriminated_unions_as_any_of(node: Any) -> Any:
    """The same schema, with each discriminated ``oneOf`` written as ``anyOf``.

    Every branch fixes the discriminator with a ``const``, so at most one branch can match
    and both keywords accept the same instances; ``anyOf`` spares the generator from
    checking that exactly one branch matches, which is most of its time.
    """
    if isinstance(node, list):
        return [with_discriminated_unions_as_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: with_discriminated_unions_as_any_of(value) for key, value in node.items()}
    if "discriminator" in out and "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
        del out["discriminator"]
    return out


def inlined(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """The schema with every ``$ref`` replaced by its target (response schemas have no cycles)."""
    if isinstance(node, list):
        return [inlined(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        assert name not in seen, f"recursive schema: {' -> '.join((*seen, name))}"
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**inlined(SCHEMAS[name], (*seen, name)), **siblings}
    return {k: inlined(v, seen) for k, v in node.items() if k not in ("examples", "description")}


@functools.cache
def instances_of(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(with_discriminated_unions_as_any_of(inlined(SCHEMAS[name])))


def model_of(name: str) -> Any:
    return getattr(models, name)


def assert_round_trips(name: str, instance: dict[str, Any]) -> None:
    model = model_of(name)
    parsed = model.from_dict(copy.deepcopy(instance))
    assert model.from_dict(parsed.to_dict()) == parsed
    validator(name).validate(parsed.to_dict())


# ------------------------------------------------------------------ spec examples

SCHEMA_EXAMPLES = [
    pytest.param(name, example, id=f"{name}[{i}]")
    for name, schema in SCHEMAS.items()
    for i, example in enumerate(schema.get("examples", []))
]
RESPONSE_EXAMPLES = [
    pytest.param(content["schema"]["$ref"].rsplit("/", 1)[1], content["example"], id=f"{status}")
    for status, response in SPEC["components"]["responses"].items()
    for content in response["content"].values()
    if "example" in content
]


def test_the_spec_has_examples_on_the_main_schemas() -> None:
    with_examples = {name for name, schema in SCHEMAS.items() if schema.get("examples")}
    assert {"Record", "Attribute", "Object", "Note", "Task", "Webhook", "Error"} <= with_examples


@pytest.mark.parametrize(("name", "example"), SCHEMA_EXAMPLES + RESPONSE_EXAMPLES)
def test_every_spec_example_parses_and_round_trips(name: str, example: dict[str, Any]) -> None:
    validator(name).validate(example)
    assert_round_trips(name, example)


# ------------------------------------------------------------------ generated instances


RESPONSE_SCHEMAS = body_schema_names(SPEC)


def test_every_response_schema_has_a_model() -> None:
    assert len(RESPONSE_SCHEMAS) >= 25
    missing = [name for name in RESPONSE_SCHEMAS if not hasattr(models, name)]
    assert missing == []


BRANCH_SCHEMAS = sorted(
    ref["$ref"].rsplit("/", 1)[1]
    for union in ("AttributeValue", "WebhookEvent")
    for ref in SCHEMAS[union]["oneOf"]
)
FAST = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
THOROUGH = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", RESPONSE_SCHEMAS)
@FAST
@given(data=st.data())
def test_generated_response_instances_parse_and_round_trip(name: str, data: st.DataObject) -> None:
    assert_round_trips(name, data.draw(instances_of(name)))


@pytest.mark.parametrize("name", BRANCH_SCHEMAS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_values_and_events_parse_and_round_trip(name: str, data: st.DataObject) -> None:
    assert_round_trips(name, data.draw(instances_of(name)))


@pytest.mark.slow
@pytest.mark.parametrize("name", RESPONSE_SCHEMAS)
@THOROUGH
@given(data=st.data())
def test_many_generated_response_instances_round_trip(name: str, data: st.DataObject) -> None:
    assert_round_trips(name, data.draw(instances_of(name)))


# ------------------------------------------------------------------ what a newer server may send

VALUE_META = {
    "active_from": "2026-03-02T09:15:00Z",
    "active_until": None,
    "created_by_actor": {"type": "api-token", "id": "t1"},
}


def record_with(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": {"workspace_id": "w", "object_id": "o", "record_id": "r"},
        "created_at": "2026-03-02T09:15:00Z",
        "values": values,
    }


def test_values_dispatch_on_attribute_type() -> None:
    record = models.Record.from_dict(
        record_with(
            {
                "age": [{**VALUE_META, "attribute_type": "number", "value": 41}],
                "name": [
                    {
                        **VALUE_META,
                        "attribute_type": "personal-name",
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "full_name": "Ada Lovelace",
                    }
                ],
            }
        )
    )
    assert isinstance(record.values["age"][0], models.NumberValue)
    assert isinstance(record.values["name"][0], models.PersonalNameValue)
    assert record.values["name"][0].full_name == "Ada Lovelace"


def test_an_unknown_attribute_type_is_kept_whole() -> None:
    location = {
        **VALUE_META,
        "attribute_type": "location",
        "line_1": "1 Main St",
        "country_code": "GB",
    }
    body = record_with({"office": [location]})
    record = models.Record.from_dict(body)
    value = record.values["office"][0]
    assert isinstance(value, UnknownVariant)
    assert value.type == "location"
    assert value["line_1"] == "1 Main St"
    assert record.to_dict()["values"]["office"] == [location]


def test_an_unknown_enum_value_is_kept_and_readable() -> None:
    actor = models.Actor.from_dict({"type": "workflow", "id": "wf_1"})
    assert actor.type_ == "workflow"
    assert not actor.type_.is_known
    assert models.ActorType.SYSTEM.is_known
    assert actor.to_dict() == {"type": "workflow", "id": "wf_1"}


def test_an_attribute_of_an_unknown_type_parses() -> None:
    example = copy.deepcopy(SCHEMAS["Attribute"]["examples"][0])
    example["type"] = "location"
    attribute = models.Attribute.from_dict(example)
    assert attribute.type_ == "location"
    assert attribute.to_dict()["type"] == "location"


def test_an_unknown_webhook_event_is_kept() -> None:
    body = {
        "webhook_id": "wh",
        "events": [
            {
                "event_type": "comment.created",
                "id": {"comment_id": "c1"},
                "actor": {"type": "system", "id": None},
            },
            {
                "event_type": "note.deleted",
                "id": {"workspace_id": "w", "note_id": "n"},
                "parent_object_id": "o",
                "parent_record_id": "r",
                "actor": {"type": "system", "id": None},
            },
        ],
    }
    delivery = models.WebhookDeliveryBody.from_dict(body)
    unknown, known = delivery.events
    assert isinstance(unknown, UnknownVariant) and unknown.type == "comment.created"
    assert isinstance(known, models.NoteDeletedEvent)
    assert delivery.to_dict() == body


def test_unknown_fields_of_an_open_object_are_kept() -> None:
    body = {"type": "api-token", "id": "t1", "label": "CI token"}
    actor = models.Actor.from_dict(body)
    assert actor.additional_properties == {"label": "CI token"}
    assert actor.to_dict() == body


def test_a_value_with_a_wrong_discriminated_shape_is_rejected() -> None:
    with pytest.raises(KeyError):
        models.Record.from_dict(record_with({"age": [{**VALUE_META, "attribute_type": "number"}]}))


def test_a_field_renamed_for_python_reads_by_its_api_name_too() -> None:
    example = SCHEMAS["Attribute"]["examples"][0]
    attribute = models.Attribute.from_dict(example)
    assert attribute.type == attribute.type_ == models.AttributeType.EMAIL_ADDRESS
    ref = models.RecordRef.from_dict({"object": "people", "record_id": "r"})
    assert ref.object == ref.object_ == "people"
    subscription = models.WebhookSubscription.from_dict({"event_type": "record.*", "filter": None})
    assert subscription.filter is None and subscription.event_type == "record.*"
    assert models.Attribute.from_dict(attribute.to_dict()) == attribute  # an alias is not a field


def test_a_page_parses_with_the_garbage_collector_paused_and_restores_it_exactly() -> None:
    import gc

    from crm_client.models import RecordListResponse

    seen: list[bool] = []
    original = RecordListResponse._from_dict  # type: ignore[attr-defined]

    def spying(src: Any) -> Any:
        seen.append(gc.isenabled())
        return original(src)

    assert gc.isenabled()
    try:
        RecordListResponse._from_dict = spying  # type: ignore[attr-defined]
        assert RecordListResponse.from_dict({"data": []}).data == []
        assert seen == [False] and gc.isenabled()
        with pytest.raises(KeyError):
            RecordListResponse.from_dict({"no data": []})
        assert gc.isenabled(), "restored after an exception"
        gc.disable()
        RecordListResponse.from_dict({"data": []})
        assert not gc.isenabled(), "a collector the caller paused stays paused"
    finally:
        gc.enable()
        RecordListResponse._from_dict = original  # type: ignore[attr-defined]


def test_a_values_actor_is_parsed_on_first_read_and_compares_as_the_parsed_model() -> None:
    from crm_client.models import Actor, TextValue

    body = {
        "attribute_type": "text",
        "active_from": "2026-01-01T00:00:00+00:00",
        "active_until": None,
        "created_by_actor": {"type": "api-token", "id": "tok_1"},
        "value": "Ada",
    }
    lazy, read = TextValue.from_dict(body), TextValue.from_dict(body)
    assert read.created_by_actor == Actor.from_dict({"type": "api-token", "id": "tok_1"})
    assert lazy == read, "JSON not yet read equals the parsed model"
    out = lazy.to_dict()
    assert out == body and out["created_by_actor"] is not body["created_by_actor"], "a copy"
    assert "Actor(type_=" in repr(lazy)
    read.created_by_actor = Actor.from_dict({"type": "system", "id": None})
    assert read.to_dict()["created_by_actor"] == {"type": "system", "id": None}
    with pytest.raises(KeyError):
        TextValue.from_dict({**body, "created_by_actor": {"id": "tok_1"}})  # refused at once, as before
    with pytest.raises((TypeError, AttributeError)):
        TextValue.from_dict({**body, "created_by_actor": "tok_1"})
