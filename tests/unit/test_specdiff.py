"""scripts/specdiff.py: every breaking change between the specs is migrated; a planted one is caught."""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from overlay import migrations
from tests._spec import ROOT, SPEC_DIR, load_spec

sys.path.insert(0, str(ROOT / "scripts"))
import specdiff


def test_the_committed_specs_have_no_unmigrated_breaking_change() -> None:
    changes, missing = specdiff.uncovered(load_spec("2025-08-01"), load_spec("2026-04-01"), "2026-04-01")
    assert missing == [] and len(changes) >= 10
    kinds = {c.kind for c in changes}
    assert {"removed field", "new required field", "type changed", "pagination changed"} <= kinds
    changes, missing = specdiff.uncovered(load_spec("2025-01-01"), load_spec("2025-08-01"), "2025-08-01")
    assert missing == []
    assert {
        "enum value removed",
        "constant changed",
        "endpoint moved",
        "webhook signature headers changed",
    } <= {c.kind for c in changes}
    changes, missing = specdiff.uncovered(load_spec("2026-04-01"), load_spec("2026-12-01"), "2026-12-01")
    assert missing == [] and [str(c) for c in changes] == [
        "type changed: WebhookSubscription.event_type (WebhookEventType → WebhookSubscriptionEventType)"
    ]


def test_a_planted_unmigrated_change_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planted = copy.deepcopy(load_spec("2026-12-01"))
    task = planted["components"]["schemas"]["Task"]
    task["properties"]["is_done"] = task["properties"].pop("is_completed")  # a rename nobody declared
    task["required"] = ["is_done" if r == "is_completed" else r for r in task["required"]]
    planted["components"]["schemas"]["NoteFormat"]["enum"].pop()  # an enum value dropped
    for version in ("2025-01-01", "2025-08-01", "2026-04-01"):
        shutil.copy(SPEC_DIR / f"crm-{version}.yaml", tmp_path)
    (tmp_path / "crm-2026-12-01.yaml").write_text(yaml.safe_dump(planted))
    assert specdiff.main(["--spec-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "NOT MIGRATED  removed field: Task.is_completed" in out
    assert "NOT MIGRATED  new required field: Task.is_done" in out
    assert "NOT MIGRATED  enum value removed: NoteFormat" in out
    assert out.count("NOT MIGRATED") == 3


def test_the_changelog_file_must_match_the_declarations(tmp_path: Path) -> None:
    stale = tmp_path / "CHANGELOG.md"
    stale.write_text("# API changelog\n")
    assert specdiff.main(["--check", str(stale)]) == 1
    assert specdiff.main(["--changelog", str(stale), "--check", str(stale)]) == 0
    assert stale.read_text() == (SPEC_DIR / "CHANGELOG.md").read_text()


@pytest.mark.parametrize(
    "version", [p.stem.removeprefix("crm-") for p in sorted(SPEC_DIR.glob("crm-*.yaml"))]
)
def test_each_specs_links_lead_to_its_own_operations(version: str) -> None:
    """A link to an operation the version lacks (one added later) breaks stateful testing."""
    spec = load_spec(version)
    operations = {
        op["operationId"] for item in spec["paths"].values() for op in item.values() if "operationId" in op
    }
    links = {
        (f"{method.upper()} {path} -> {status}", name, link["operationId"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for status, answer in op.get("responses", {}).items()
        for name, link in answer.get("links", {}).items()
    }
    assert links, "the spec has links"
    assert [link for link in links if link[2] not in operations] == []


@pytest.mark.parametrize("version", migrations.VERSIONS.dates)
def test_every_spec_declares_the_limits_the_server_enforces_at_every_version(version: str) -> None:
    spec = load_spec(version)
    schemas = spec["components"]["schemas"]
    assert schemas["RecordQueryRequest"]["properties"]["offset"]["maximum"] == 2**31 - 1
    money = schemas["CurrencyInput"]["properties"]
    if "amount_minor" in money:
        assert (money["amount_minor"]["minimum"], money["amount_minor"]["maximum"]) == (-(2**63), 2**63 - 1)
    operators = schemas["FilterOperators"]["properties"]
    assert operators["$contains"]["maxLength"] == schemas["FilterScalar"]["maxLength"] == 10000
    assert operators["$gt"]["maximum"] == schemas["FilterScalar"]["maximum"] == 1e300
    assert schemas["SearchRequest"]["properties"]["query"]["maxLength"] == 1000
    assert schemas["WebhookFilter"]["additionalProperties"]["maxLength"] == 1000
    allowed = schemas["RecordReferenceConfig"]["properties"]["allowed_objects"]
    assert (allowed["maxItems"], allowed["items"]["maxLength"]) == (100, 64)
    assert schemas["WebhookApiVersion"]["enum"] == list(migrations.VERSIONS.dates)
    assert "cannot be unique" in schemas["Attribute"]["description"]
    for name in ("too_deeply_nested", "invalid_unicode", "64 levels"):
        assert name in spec["info"]["description"]
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            answers = operation["responses"]
            assert "405" in answers and ("415" in answers) == ("requestBody" in operation), operation[
                "operationId"
            ]
    older = version != migrations.LATEST
    assert ("unknown `CRM-Version`" in spec["info"]["description"]) == older
