"""overlay.migrations: declarations checked when defined, and payloads moved between versions.

The property tests draw instances from each older version's own schemas (its spec file),
upgrade them, and validate the result against the newer version's schema; where a
change is lossless, downgrading gives the instance back.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from overlay import InvalidArgumentError, cli, migrations
from overlay.migrations import (
    FieldRenamed,
    FieldTypeChanged,
    MigrationDefinitionError,
    Version,
    VersionBundle,
    VersionChange,
)
from tests._spec import load_spec

STEPS = list(zip(migrations.VERSIONS.dates, migrations.VERSIONS.dates[1:], strict=False))
# The schemas each step changes, and payloads that hold them.
SCHEMAS = {
    ("2025-01-01", "2025-08-01"): ["Task", "TaskWrite", "TaskPatch", "TaskPage", "WebhookDeliveryBody",
                                   "WebhookSubscription", "Error"],
    ("2025-08-01", "2026-04-01"): ["CurrencyValue", "CurrencyInput", "Note", "NoteWrite", "NotePage",
                                   "TaskPage", "WebhookPage", "Record", "RecordResponse",
                                   "RecordWriteRequest"],
    ("2026-04-01", "2026-12-01"): ["RecordBatchResponse", "WebhookResponse", "WebhookCreateRequest",
                                   "WebhookPage", "WebhookDeliveryBody"],
}  # fmt: skip

OLD_TASK = {
    "id": {"workspace_id": "w", "task_id": "t"}, "content_plaintext": "Call", "due_date": "2025-03-04",
    "is_completed": False, "linked_records": [], "assignees": [],
    "created_by_actor": {"type": "api-token", "id": "a"}, "created_at": "2025-01-01T09:00:00+00:00",
}  # fmt: skip


@cache
def schema_of(version: str, name: str) -> dict[str, Any]:
    spec = load_spec(version)
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


@cache
def instances(version: str, name: str) -> st.SearchStrategy[Any]:
    return from_schema(schema_of(version, name))


def lossless(older: str, newer: str, name: str) -> bool:
    """Whether every instruction of the step that ``name`` can hold is lossless."""
    from overlay.migrations._migrate import _reaching

    step = migrations.VERSIONS[newer]
    touched = {i.schema: i for change in step.changes for i in change.schema_instructions()}
    reach = _reaching(older, frozenset(touched))
    return name in reach and all(i.lossless for s, i in touched.items() if s in reach)


CASES = [(old, new, name) for (old, new), names in SCHEMAS.items() for name in names]


@pytest.mark.parametrize(("older", "newer", "name"), CASES, ids=[f"{n}@{o}" for o, _, n in CASES])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_upgraded_instances_validate_against_the_newer_schema(
    older: str, newer: str, name: str, data: st.DataObject
) -> None:
    instance = data.draw(instances(older, name))
    original = copy.deepcopy(instance)
    upgraded = migrations.upgrade(instance, name, from_version=older, to_version=newer)
    assert instance == original, "upgrade leaves its input alone"
    jsonschema.validate(upgraded, schema_of(newer, name))
    back = migrations.downgrade(upgraded, name, from_version=newer, to_version=older)
    jsonschema.validate(back, schema_of(older, name))
    if lossless(older, newer, name):
        assert back == original


def test_two_steps_at_once_and_the_examples_of_the_spec() -> None:
    task = OLD_TASK
    latest = migrations.upgrade(task, "Task", from_version="2025-01-01")
    assert latest["deadline_at"] == "2025-03-04T00:00:00+00:00" and "due_date" not in latest
    assert migrations.downgrade(latest, "Task", to_version="2025-01-01") == task
    money = {"attribute_type": "currency", "active_from": "2025-01-01T00:00:00+00:00", "active_until": None,
             "created_by_actor": {"type": "system", "id": None},
             "currency_value": 12.5, "currency_code": "BHD"}  # fmt: skip
    record = {"id": {"workspace_id": "w", "object_id": "o", "record_id": "r"},
              "created_at": "2025-01-01T00:00:00+00:00", "web_url": "https://app.crm.example/records/o/r",
              "values": {"price": [money]}}  # fmt: skip
    up = migrations.upgrade(record, "Record", from_version="2025-01-01")
    assert up["values"]["price"][0]["amount_minor"] == 12500 and up["updated_at"] == record["created_at"]
    assert "web_url" not in up
    assert migrations.downgrade(up, "Record", to_version="2025-01-01") == record
    body = {"webhook_id": "h", "events": [{"event_type": "list_entry_created", "id": {}, "actor": {}}]}
    assert (
        migrations.upgrade(body, "WebhookDeliveryBody", from_version="2025-01-01")["events"][0]["event_type"]
        == "list-entry.created"
    )
    error = migrations.upgrade(
        {"error": {"code": "not_found", "message": "No."}}, "Error", from_version="2025-01-01"
    )
    assert error == {
        "status_code": 404,
        "type": "invalid_request_error",
        "code": "not_found",
        "message": "No.",
    }


def test_written_amounts_convert_in_their_attributes_currency() -> None:
    """One value or several, bare or in full, with or without a code: each amount converts
    in its own currency, once its attribute's default is filled in."""
    body = {"data": {"values": {"budget": 1250, "price": [{"amount_minor": 1250}], "fee": {"amount_minor": 5},
                                "cost": [{"amount_minor": 5, "currency_code": "KWD"}], "rating": 3,
                                "plain": {"amount_minor": 1}}}}  # fmt: skip
    migrations.spell_out_currencies(
        body,
        "RecordWriteRequest",
        version="2026-04-01",
        currencies=lambda: {"budget": "JPY", "price": "USD", "fee": "BHD", "cost": "USD", "plain": None},
    )
    old = migrations.downgrade(body, "RecordWriteRequest", to_version="2025-01-01")
    assert old["data"]["values"] == {
        "budget": {"currency_value": 1250.0, "currency_code": "JPY"},
        "price": [{"currency_value": 12.5, "currency_code": "USD"}],
        "fee": {"currency_value": 0.005, "currency_code": "BHD"},
        "cost": [{"currency_value": 0.005, "currency_code": "KWD"}],
        "rating": 3,
        "plain": {"currency_value": 0.01},
    }
    assert migrations.upgrade(old, "RecordWriteRequest", from_version="2025-01-01") == body
    asked: list[int] = []
    untouched = {"data": {"values": {"name": "Acme", "tags": ["a", "b"]}}}
    migrations.spell_out_currencies(
        untouched, "RecordWriteRequest", version="2025-01-01", currencies=lambda: asked.append(1) or {}
    )
    assert asked == [] and untouched == {"data": {"values": {"name": "Acme", "tags": ["a", "b"]}}}


def _batch(*statuses: str) -> dict[str, Any]:
    results = [{"index": i, "status": s, "record": None, "error": None, "replayed": False}
               for i, s in enumerate(statuses)]  # fmt: skip
    return {"data": {"results": results}}


def test_an_unchanged_batch_item_reads_as_updated_at_older_versions() -> None:
    latest = _batch("created", "unchanged", "updated", "failed")
    for version in ("2026-04-01", "2025-01-01"):
        old = migrations.downgrade(latest, "RecordBatchResponse", to_version=version)
        assert [r["status"] for r in old["data"]["results"]] == ["created", "updated", "updated", "failed"]
        jsonschema.validate(old, schema_of(version, "RecordBatchResponse"))
    assert migrations.upgrade(_batch("updated"), "RecordBatchResponse", from_version="2026-04-01") == _batch(
        "updated"
    )


def test_a_subscription_to_a_family_reads_as_its_event_types_at_older_versions() -> None:
    webhook = {"id": {"workspace_id": "w", "webhook_id": "h"}, "target_url": "https://hooks.example/crm",
               "subscriptions": [{"event_type": "note.*", "filter": {"object_id": "o"}},
                                 {"event_type": "task.created", "filter": None}],
               "api_version": "2026-12-01", "status": "active",
               "created_at": "2026-12-02T00:00:00+00:00"}  # fmt: skip
    old = migrations.downgrade({"data": webhook}, "WebhookResponse", to_version="2026-04-01")["data"]
    assert old["subscriptions"] == [
        {"event_type": "note.created", "filter": {"object_id": "o"}},
        {"event_type": "note.deleted", "filter": {"object_id": "o"}},
        {"event_type": "task.created", "filter": None},
    ]
    oldest = migrations.downgrade({"data": webhook}, "WebhookResponse", to_version="2025-01-01")["data"]
    types = [s["event_type"] for s in oldest["subscriptions"]]
    assert types == ["note_created", "note_deleted", "task_created"]
    family = [{"event_type": "record.*"}]
    write = {"data": {"target_url": "https://hooks.example/crm", "subscriptions": family}}
    old_write = migrations.downgrade(write, "WebhookCreateRequest", to_version="2025-08-01")["data"]
    assert [s["event_type"] for s in old_write["subscriptions"]] == [
        "record.created",
        "record.updated",
        "record.deleted",
    ]


def test_test_events_carry_is_test_only_from_2026_12_01() -> None:
    test = {"event_type": "record.created", "actor": {"type": "system", "id": None}, "is_test": True,
            "id": {"workspace_id": "w", "object_id": "test_object", "record_id": "test_1"}}  # fmt: skip
    real = {"event_type": "task.deleted", "actor": {"type": "system", "id": None}, "is_test": False,
            "id": {"workspace_id": "w", "task_id": "t"}}  # fmt: skip
    body = {"webhook_id": "h", "events": [test, real]}
    old = migrations.downgrade(body, "WebhookDeliveryBody", to_version="2025-01-01")
    assert all("is_test" not in event for event in old["events"])
    assert old["events"][1]["event_type"] == "task_deleted"
    # An event shaped by an older version is a test when its ids are test ids.
    assert migrations.upgrade(old, "WebhookDeliveryBody", from_version="2025-01-01") == body


def test_an_unknown_schema_or_version_is_named() -> None:
    with pytest.raises(migrations.MigrationDefinitionError, match="unknown API version '2024-01-01'"):
        migrations.upgrade({}, "Task", from_version="2024-01-01")
    with pytest.raises(ValueError, match=r"No schema 'Tsk' in API version 2025-01-01\. Did you mean 'Task'"):
        migrations.upgrade({}, "Tsk", from_version="2025-01-01")


def test_changes_are_checked_when_defined() -> None:
    with pytest.raises(MigrationDefinitionError, match="needs a docstring"):

        class NoDoc(VersionChange):
            instructions = (FieldRenamed("Task", "a", "b"),)

    with pytest.raises(MigrationDefinitionError, match="renames 'a' to itself"):

        class Same(VersionChange):
            """Renames nothing."""

            instructions = (FieldRenamed("Task", "a", "a"),)

    with pytest.raises(MigrationDefinitionError, match="non-empty tuple"):

        class Empty(VersionChange):
            """Does nothing."""

    with pytest.raises(MigrationDefinitionError, match="converters both ways"):

        class OneWay(VersionChange):
            """Converts one way."""

            instructions = (FieldTypeChanged("Task", "a", str, None),)  # type: ignore[arg-type]

    class Fine(VersionChange):
        """Renames a to b."""

        instructions = (FieldRenamed("Task", "a", "b"),)

    with pytest.raises(MigrationDefinitionError, match="strictly ascending"):
        VersionBundle(Version("2025-02-01"), Version("2025-01-01", Fine))
    with pytest.raises(MigrationDefinitionError, match="the base: it has no changes"):
        VersionBundle(Version("2025-01-01", Fine))
    with pytest.raises(MigrationDefinitionError, match="in both 2025-02-01 and 2025-03-01"):
        VersionBundle(Version("2025-01-01"), Version("2025-02-01", Fine), Version("2025-03-01", Fine))
    with pytest.raises(MigrationDefinitionError, match=r"declared for \['2025-02-15'\], which no spec has"):
        VersionBundle.of_dates(["2025-01-01", "2025-02-01"], {"2025-02-15": (Fine,)})
    bundle = VersionBundle.of_dates(["2025-01-01", "2025-02-01", "2025-03-01"], {"2025-02-01": (Fine,)})
    assert bundle.dates == ("2025-01-01", "2025-02-01", "2025-03-01") and bundle["2025-03-01"].changes == ()


def test_the_versions_the_sdk_migrates_are_the_dated_specs_and_nothing_else() -> None:
    from crm_client.api_versions import VERSIONS as SPEC_VERSIONS
    from crm_sandbox.config import LATEST as SANDBOX_LATEST

    from overlay._config import LATEST_VERSION, SUPPORTED_VERSIONS

    openapi = Path(__file__).parents[2] / "openapi"
    specs = tuple(sorted(p.stem.removeprefix("crm-") for p in openapi.glob("crm-*.yaml")))
    assert tuple(SPEC_VERSIONS) == specs == migrations.VERSIONS.dates == tuple(SUPPORTED_VERSIONS)
    assert migrations.LATEST == LATEST_VERSION == SANDBOX_LATEST == specs[-1]


def test_the_changelog_lists_every_change_newest_first() -> None:
    log = migrations.changelog()
    dates = ["## 2026-12-01", "## 2026-04-01", "## 2025-08-01", "## 2025-01-01"]
    assert [log.index(d) for d in dates] == sorted(log.index(d) for d in dates)
    assert (
        "- Tasks: `due_date` (a date) is now `deadline_at` (a date-time); a date becomes midnight UTC." in log
    )
    assert log.count("\n- ") == 18


def test_crm_migrate_moves_each_line_and_lists_the_ones_it_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = OLD_TASK
    source = tmp_path / "tasks.jsonl"
    lines = [json.dumps(task), "not json", json.dumps({"due_date": "2025-13-45"}), "[1]"]
    tail = b"\n\xff\xfe tail\n" + b"[" * 3000 + b"\n" + json.dumps(task).encode() + b"\n"
    source.write_bytes("\n".join(lines).encode() + tail)
    out = tmp_path / "latest.jsonl"
    assert cli.main(["migrate", str(source), "--schema", "Task", "--from", "2025-01-01", "-o", str(out)]) == 1
    moved = [json.loads(line) for line in out.read_text().splitlines()]
    assert [m["deadline_at"] for m in moved] == ["2025-03-04T00:00:00+00:00"] * 2  # the last line still moves
    errors = [json.loads(line) for line in (tmp_path / "tasks.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["error"]) for e in errors] == [
        (2, "not JSON: Expecting value at column 1"),
        (3, "cannot move it: due_date must be a date (YYYY-MM-DD), got '2025-13-45'"),
        (4, "cannot move it: a JSON list, not a Task object"),
        (5, "not UTF-8 text: byte 1 is b'\\xff'"),
        (6, "not JSON this reads: nested too deeply"),
    ]
    said = capsys.readouterr().err
    assert f"2 Task payloads moved from 2025-01-01 to {migrations.LATEST}; 5 not moved" in said
    back = tmp_path / "back.jsonl"
    latest = migrations.LATEST
    assert cli.main(["migrate", str(out), "--schema", "Task", "--from", latest, "--to", "2025-01-01",
                     "-o", str(back)]) == 0  # fmt: skip
    assert [json.loads(line) for line in back.read_text().splitlines()] == [task, task]
    kept = source.read_bytes()
    assert (
        cli.main(["migrate", str(source), "--schema", "Task", "--from", "2025-01-01", "-o", str(source)]) == 2
    )
    assert "output is the file being read" in capsys.readouterr().err and source.read_bytes() == kept
    assert cli.main(["migrate", str(source), "--schema", "Tsk", "--from", "2025-01-01"]) == 2
    assert "Did you mean 'Task'?" in capsys.readouterr().err


def test_a_payload_the_instructions_cannot_read_is_an_invalid_argument_with_its_cause() -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"^The Task payload cannot move from 2025-01-01 to .*: due_date"
    ) as raised:
        migrations.upgrade({**OLD_TASK, "due_date": "garbage"}, "Task", from_version="2025-01-01")
    assert isinstance(raised.value.__cause__, ValueError)
    deep: Any = {}
    for _ in range(5000):
        deep = {"values": deep}
    with pytest.raises(InvalidArgumentError, match="nested too deeply"):
        migrations.downgrade({"id": {"record_id": "r"}, "values": deep}, "Record", to_version="2025-01-01")


def test_the_transport_rewrites_by_the_operation_the_client_names_not_by_the_url() -> None:
    from overlay._transport import OPERATION
    from overlay.migrations._http import VersionMigration

    migration = VersionMigration("2025-01-01", known=lambda *_: {}, remember=lambda *_: None)
    url = "https://api.test/v2/objects/people/records"
    named = httpx.Request("PUT", url, json={"data": {"values": {}}}, extensions={OPERATION: "upsert_record"})
    sent, op_id = migration.request(named)
    assert (op_id, sent.method) == ("upsert_record", "POST")
    assert sent.url.path == "/v2/objects/people/records/assert"
    unnamed = httpx.Request("PUT", url, json={"data": {"values": {}}})
    assert migration.request(unnamed) == (unnamed, None), "a request the client did not name passes as it is"
