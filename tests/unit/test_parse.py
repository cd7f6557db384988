"""``overlay.parse`` builds typed models and raises only the overlay's own errors."""

import json

import pytest
from crm_client.models import Record, TextValue

import overlay

RECORD = {
    "id": {"workspace_id": "w", "object_id": "o", "record_id": "r"},
    "created_at": "2026-03-02T09:15:00+00:00",
    "values": {
        "job_title": [
            {
                "attribute_type": "text",
                "active_from": "2026-03-02T09:15:00+00:00",
                "active_until": None,
                "created_by_actor": {"type": "system", "id": None},
                "value": "Analyst",
            }
        ]
    },
}


@pytest.mark.parametrize("body", [RECORD, json.dumps(RECORD), json.dumps(RECORD).encode()])
def test_parse_accepts_bytes_text_and_mappings(body: object) -> None:
    record = overlay.parse(Record, body)  # type: ignore[arg-type]
    value = record.values["job_title"][0]
    assert isinstance(value, TextValue)
    assert value.value == "Analyst"


def test_not_json_names_the_model_and_the_request() -> None:
    with pytest.raises(overlay.ResponseParseError) as info:
        overlay.parse(Record, b"<html>502</html>", request_id="req_123")
    assert info.value.model == "Record"
    assert info.value.request_id == "req_123"
    assert "not JSON" in str(info.value) and "req_123" in str(info.value)


def test_missing_field_is_named() -> None:
    body = {k: v for k, v in RECORD.items() if k != "created_at"}
    with pytest.raises(overlay.ResponseParseError, match="missing field 'created_at'"):
        overlay.parse(Record, body)


def test_wrong_type_is_a_parse_error_not_a_type_error() -> None:
    body = {**RECORD, "values": {"job_title": ["not an object"]}}
    with pytest.raises(overlay.ResponseParseError, match="expected an object"):
        overlay.parse(Record, body)


def test_bad_timestamp_is_a_parse_error() -> None:
    body = {**RECORD, "created_at": "yesterday"}
    with pytest.raises(overlay.ResponseParseError, match="Invalid isoformat"):
        overlay.parse(Record, body)


def test_json_array_is_rejected_with_a_reason() -> None:
    with pytest.raises(overlay.ResponseParseError, match="expected a JSON object, got list"):
        overlay.parse(Record, "[]")


def test_parse_errors_are_crm_errors() -> None:
    assert issubclass(overlay.ResponseParseError, overlay.CRMError)


def test_json_nested_past_the_recursion_limit_is_a_parse_error() -> None:
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    with pytest.raises(overlay.ResponseParseError, match="nested too deeply") as info:
        overlay.parse(Record, deep, request_id="req_deep")
    assert info.value.request_id == "req_deep"
