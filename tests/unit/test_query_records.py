"""Reading records: pseudo-attributes read like attributes, a reference reads as its target's id."""

from __future__ import annotations

import datetime
from typing import Any

from overlay import Record, RecordList

WHEN = "2026-01-01T09:30:00+00:00"
LATER = "2026-02-01T10:00:00+00:00"
ACTOR = {"type": "system"}


def reference(record_id: str) -> dict[str, Any]:
    return {
        "attribute_type": "record-reference",
        "active_from": WHEN,
        "active_until": None,
        "created_by_actor": ACTOR,
        "target_object": "companies",
        "target_record_id": record_id,
    }


def text(value: str) -> dict[str, Any]:
    return {
        "attribute_type": "text",
        "active_from": WHEN,
        "active_until": None,
        "created_by_actor": ACTOR,
        "value": value,
    }


def person(record_id: str = "p1", company: str = "c1", **extra: Any) -> Record:
    data = {
        "id": {"workspace_id": "w", "object_id": "people", "record_id": record_id},
        "created_at": WHEN,
        "updated_at": LATER,
        "values": {"job_title": [text("Analyst")], "company": [reference(company)], **extra},
    }
    return Record.from_json(data, "req_1", "people")


def company(record_id: str) -> Record:
    data = {
        "id": {"workspace_id": "w", "object_id": "companies", "record_id": record_id},
        "created_at": WHEN,
        "values": {"name": [text("Acme")]},
    }
    return Record.from_json(data, "req_2", "companies")


def test_record_id_created_at_and_updated_at_read_like_attributes() -> None:
    rec = person()
    created = datetime.datetime(2026, 1, 1, 9, 30, tzinfo=datetime.UTC)
    assert rec["record_id"] == "p1" and rec.first("created_at") == created == rec.created_at
    assert rec.all("updated_at") == [datetime.datetime(2026, 2, 1, 10, tzinfo=datetime.UTC)]
    assert "created_at" in rec and "record_id" in rec and rec.values("created_at") == []
    assert "created_at" not in rec.slugs()
    records = RecordList([rec, person("p2")])
    assert records.pluck("created_at") == [created, created]
    assert records.find_by(record_id="p2") is records[1]


def test_updated_at_is_absent_when_the_api_did_not_send_it() -> None:
    rec = company("c1")
    assert rec.first("updated_at", "none") == "none" and "updated_at" not in rec and rec.updated_at is None


def test_an_attribute_named_like_a_pseudo_attribute_wins() -> None:
    rec = person(created_at=[text("typed by hand")])
    assert rec["created_at"] == "typed by hand"


def test_a_reference_reads_as_its_target_record_id() -> None:
    rec = person()
    assert rec.first("company") == "c1" == rec["company"] and rec.all("company") == ["c1"]
    assert RecordList([rec]).find_by(company="c1") is not None


def test_an_included_reference_reads_as_the_record_or_none_when_it_was_deleted() -> None:
    kept, gone = person("p1", "c1"), person("p2", "c-deleted")
    found = {("companies", "c1"): company("c1")}
    for rec in (kept, gone):
        rec.include(["company"], found)
    assert isinstance(kept["company"], Record) and kept["company"]["name"] == "Acme"
    assert gone["company"] is None and gone.first("company", "default") is None
    assert gone.references("company") == [("companies", "c-deleted")]  # the id stays readable
