"""The README's and the docs' code runs as written: every python block, and the shell lines that
run the ``crm`` command against the sandbox. A block that uses a name it does not define
(``crm``, ``sb``, a payload) gets it from ``Prelude``, as the page's prose defines it."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import importlib.util
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import overlay
from overlay import F, cli, migrations
from overlay.migrations import FieldRenamed, FieldTypeChanged, VersionChange
from overlay.migrations._versions import _day_to_instant, _instant_to_day

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FRAMEWORKS = {"flask": "from flask import", "fastapi": "from fastapi import"}

# A file for the Import section: two rows update seeded people, two create, three fail
# (an address that is not one, a repeated address, a row without its match value).
CONTACTS = """\
Name,E-mail,Job title
Ada Lovelace,ada@analytical.example,Countess
Grace Hopper,grace@cobol.example,Admiral
Alan Turing,alan@bletchley.example,Mathematician
Joan Clarke,joan@bletchley.example,Cryptanalyst
Nobody,not an address,Clerk
Ada Again,ada@analytical.example,Poet
No Mail,,Porter
"""


def code_blocks(page: Path, language: str) -> list[tuple[int, str]]:
    """(line, code) of each fenced block of ``language`` on a page, in its order."""
    text = page.read_text()
    return [
        (text[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(rf"^```{language}\n(.*?)^```", text, re.S | re.M)
    ]


def test_the_pages_hold_the_blocks_the_tests_run() -> None:
    counts = {page.name: len(code_blocks(page, "python")) for page in PAGES}
    assert sum(counts.values()) >= 20 and counts["README.md"] >= 1, counts


class Prelude:
    """The names the README's blocks take as given, against one seeded sandbox."""

    def __init__(self, sandbox: overlay.Sandbox) -> None:
        self.sandbox = sandbox
        crm = sandbox.client
        task = crm.tasks.create(content="Call", deadline_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        person = crm.records("people").where().first()
        assert person is not None
        self.names: dict[str, Any] = {
            "overlay": overlay,
            "F": F,
            "dt": dt,
            "migrations": migrations,
            "sb": sandbox,
            "old_task": migrations.downgrade(task.to_dict(), "Task", to_version="2025-01-01"),
            "record": person.to_dict(),
            "response_bytes": json.dumps(person.to_dict()).encode(),
            "VersionChange": VersionChange,
            "FieldRenamed": FieldRenamed,
            "FieldTypeChanged": FieldTypeChanged,
            "day_to_instant": _day_to_instant,
            "instant_to_day": _instant_to_day,
        }

    def namespace(self) -> dict[str, Any]:
        return {"__name__": "readme", **self.names, "crm": self.sandbox.client}


@pytest.fixture
def prelude(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str) -> Iterator[Prelude]:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sandbox:
        monkeypatch.setenv("CRM_API_KEY", sandbox.token)
        monkeypatch.setenv("CRM_BASE_URL", sandbox.url)
        monkeypatch.delenv("CRM_VERSION", raising=False)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "contacts.csv").write_text(CONTACTS)
        prelude = Prelude(sandbox)
        prelude.names["REDIS_URL"] = redis_url  # "your Redis", as the pages say
        yield prelude


def run_block(page: Path, code: str, line: int, namespace: dict[str, Any]) -> None:
    """Run one block; a block with a top-level ``await`` runs in an event loop."""
    source = "\n" * (line - 1) + code  # tracebacks point at the page's own lines
    compiled = compile(source, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)  # the README's own code
    if asyncio.iscoroutine(result):
        asyncio.run(result)


EXPECTED_OUTPUT = {
    "README.md": ["30 created at the token's pace"],
    "workers.md": ["RedisRateLimit('redis://127.0.0.1:", "<RedisSeenStore redis://127.0.0.1:"],
    "client.md": ["task_id takes the id as text", "unknown_attribute email_addresses"],
    "webhooks.md": ["record.created RecordIdentifier("],
    "import-export.md": [
        "contacts.csv (utf-8, ',') → people: would import 4 of 7 rows (2 created, 2 updated"
    ],
    "bulk.md": ["upsert companies: 249 unchanged, 1 failed"],
    "mirror.md": ["record.updated people ['job_title']", "1 event applied"],
}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_runs_as_written(
    page: Path, prelude: Prelude, capsys: pytest.CaptureFixture[str]
) -> None:
    for line, code in code_blocks(page, "python"):
        needs = [name for name, marker in FRAMEWORKS.items() if marker in code]
        if any(importlib.util.find_spec(name) is None for name in needs):
            compile(code, str(page), "exec")  # not a dependency of the SDK: the page says to install it
            continue
        try:
            run_block(page, code, line, prelude.namespace())
        except Exception as exc:
            raise AssertionError(f"{page.name} block at line {line} failed: {exc!r}") from exc
    out = capsys.readouterr().out
    for expected in EXPECTED_OUTPUT.get(page.name, []):
        assert expected in out, (page.name, expected)
    if page.name == "import-export.md":
        people = prelude.sandbox.client.records("people")
        assert people.where("email_addresses = 'alan@bletchley.example'").count() == 1, "the import wrote"


def test_the_readme_crm_query_lines_run_against_the_sandbox(
    prelude: Prelude, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        shlex.split(text, comments=True)
        for page in PAGES
        for _, code in code_blocks(page, "sh")
        for text in code.splitlines()
        if text.startswith(("crm query", "crm --version"))
    ]
    assert len(lines) >= 5
    for argv in lines:
        assert argv[0] == "crm"
        code = cli.main(argv[1:])
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)
        assert out and not err, (argv, err)
        if "--json" in argv:
            assert all(json.loads(row) for row in out.splitlines())
