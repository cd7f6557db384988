"""The latest spec, for tests that check the generated client against it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "openapi"


def latest_spec_path() -> Path:
    return sorted(SPEC_DIR.glob("crm-????-??-??.yaml"))[-1]


@cache
def load_spec(version: str | None = None) -> dict[str, Any]:
    """The spec of ``version`` (the latest by default)."""
    path = SPEC_DIR / f"crm-{version}.yaml" if version else latest_spec_path()
    with path.open() as f:
        spec: dict[str, Any] = yaml.load(f, Loader=yaml.CSafeLoader)
    return spec


def body_schema_names(spec: dict[str, Any]) -> list[str]:
    """Every schema that is the body of a response, or of a webhook delivery."""
    contents = [
        response.get("content", {})
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "responses" in operation
        for response in operation["responses"].values()
    ]
    contents += [
        operation["requestBody"]["content"]
        for item in spec.get("webhooks", {}).values()
        for operation in item.values()
    ]
    return sorted(
        {
            media["schema"]["$ref"].rsplit("/", 1)[1]
            for content in contents
            for media in content.values()
            if "$ref" in media.get("schema", {})
        }
    )
