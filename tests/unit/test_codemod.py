"""crm migrate-code: code written for 2025-01-01 rewritten for the latest, from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from overlay import cli
from overlay.migrations import FieldRenamed
from overlay.migrations._codemod import CodeChanges, python_name, rewrite_source

OLD = """\
task = crm.tasks.create(content="Call", due_date=dt.date(2026, 5, 1))  # keeps this comment
print(task.due_date, task.content_plaintext)
for note in crm.notes.list():
    print(note.parent_object, note.parent_record_id)
print(money.currency_value, record.web_url)
crm.webhooks.create(target_url="https://x", subscriptions=['record_created', "list_entry_updated"])
stored = {"due_date": "2026-05-01", "parent_object": "people"}
print(stored["due_date"], stored.get('due_date'), b"due_date", "due_date is a field")
"""

NEW = """\
task = crm.tasks.create(content="Call", deadline_at=dt.date(2026, 5, 1))  # keeps this comment
print(task.deadline_at, task.content_plaintext)
for note in crm.notes.list():
    print(note.parent.object_, note.parent.record_id)
print(money.amount_minor, record.web_url)
crm.webhooks.create(target_url="https://x", subscriptions=['record.created', "list-entry.updated"])
stored = {"deadline_at": "2026-05-01", "parent_object": "people"}
print(stored["deadline_at"], stored.get('deadline_at'), b"due_date", "due_date is a field")
"""


def test_renamed_fields_nested_fields_and_event_names_are_rewritten() -> None:
    code, edits = rewrite_source(OLD, CodeChanges.between("2025-01-01", "2026-04-01"))
    assert code == NEW
    rewritten = [(e.line, e.before, e.after) for e in edits if e.after is not None]
    assert rewritten == [
        (1, "due_date=", "deadline_at="),
        (2, ".due_date", ".deadline_at"),
        (4, ".parent_object", ".parent.object_"),
        (4, ".parent_record_id", ".parent.record_id"),
        (5, ".currency_value", ".amount_minor"),
        (6, "'record_created'", "'record.created'"),
        (6, "'list_entry_updated'", "'list-entry.updated'"),
        (7, "'due_date'", "'deadline_at'"),
        (8, "'due_date'", "'deadline_at'"),
        (8, "'due_date'", "'deadline_at'"),
    ]
    review = {(e.line, e.before): e.note for e in edits if e.note}
    assert "a date-time" in review[1, "due_date="] and "minor unit" in review[5, ".currency_value"]
    assert "web_url` is gone" in review[5, ".web_url"]
    assert "parent: {object, record_id}" in review[7, "'parent_object'"]  # a key cannot be nested
    assert (4, ".parent_object") not in review  # the attribute path is exact


def test_only_the_changes_between_the_two_versions_apply() -> None:
    code, _ = rewrite_source(OLD, CodeChanges.between("2025-08-01", "2026-04-01"))
    assert "task.due_date" in code and "'record_created'" in code  # 2025-08-01 code had neither
    assert "money.amount_minor" in code
    assert rewrite_source(OLD, CodeChanges.between("2026-04-01", "2026-04-01"))[0] == OLD
    with pytest.raises(ValueError, match="Code moves forward only: 2026-04-01 is newer than 2025-01-01"):
        CodeChanges.between("2026-04-01", "2025-01-01")


def test_renames_across_versions_compose_and_reserved_names_get_an_underscore() -> None:
    changes = CodeChanges()
    changes._add((FieldRenamed("Task", "a", "b"),), "a is b")
    changes._add((FieldRenamed("Task", "b", "type"),), "b is type")
    assert changes.keys == {"a": "type", "b": "type"}
    assert changes.attributes == {"a": ("type_",), "b": ("type_",)}
    assert python_name("object") == "object_" and python_name("id") == "id"
    assert rewrite_source("x.a, f(a=1), d['a']\n", changes)[0] == "x.type_, f(type_=1), d['type']\n"


def test_the_command_writes_in_place_or_shows_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "app" / "sync.py"
    code.parent.mkdir()
    code.write_text(OLD)
    (tmp_path / "app" / "broken.py").write_text("def broken(:\n")
    assert cli.main(["migrate-code", str(tmp_path / "app"), "--from", "2025-01-01", "--diff"]) == 1
    out, err = capsys.readouterr()
    assert "-print(task.due_date, task.content_plaintext)" in out and code.read_text() == OLD
    assert f"{code}:2: .due_date → .deadline_at" in err and "broken.py: not Python" in err
    assert "2 files read, 1 changed (10 edits, shown, nothing written); 8 places to review" in err
    assert "1 could not be read" in err
    assert cli.main(["migrate-code", str(code), "--from", "2025-01-01"]) == 0
    assert code.read_text() == NEW
    assert cli.main(["migrate-code", str(code), "--from", "2025-01-01"]) == 0  # nothing left to do
    assert code.read_text() == NEW
    assert cli.main(["migrate-code", str(tmp_path / "nowhere"), "--from", "2025-01-01"]) == 2
    assert cli.main(["migrate-code", str(code), "--from", "2024-01-01"]) == 2
    assert "unknown API version '2024-01-01'" in capsys.readouterr().err
