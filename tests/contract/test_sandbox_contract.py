"""Schemathesis: the sandbox answers every operation of every version's spec as it says.

Stateless: generated (and deliberately invalid) requests to every operation, all default
checks, for each version (against a sandbox serving that version by default). Stateful,
for the latest and the oldest version: sequences of calls that follow the spec's links
(create, then get, update and delete what was created).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import schemathesis
from crm_sandbox import SandboxConfig, create_app
from crm_sandbox.app import Sandbox
from crm_sandbox.store import deterministic
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests._spec import ROOT, SPEC_DIR, latest_spec_path

TOKEN = "sk_contract"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


# Rate limits off: a 429 is documented, but it would hide the behaviour under test.
SANDBOX_CONFIG = SandboxConfig(tokens=(TOKEN,), read_rate=None, write_rate=None, seed_data=True)
APP = create_app(SANDBOX_CONFIG)


def reset_sandbox(app: Any) -> None:
    """Empty the sandbox and restart its ids and clock from the same seed, so that replaying a
    scenario replays its answers exactly, as hypothesis requires of a state machine. The app
    object stays the same: schemathesis hands copies of the schema (and so of the app) around."""
    deterministic(0)
    app.state.sandbox = Sandbox(app.state.sandbox.config)


CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
schema = schemathesis.openapi.from_path(latest_spec_path(), config=CONFIG)
schema.app = APP


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)


def _older(version: str) -> schemathesis.schemas.BaseSchema:
    """The spec of an older version, against a sandbox that serves that version by default
    (so that a request without CRM-Version, or with a bad one, is answered in its shapes)."""
    older = schemathesis.openapi.from_path(SPEC_DIR / f"crm-{version}.yaml", config=CONFIG)
    older.app = create_app(dataclasses.replace(SANDBOX_CONFIG, api_version=version))
    return older


schema_2025_01_01 = _older("2025-01-01")
schema_2025_08_01 = _older("2025-08-01")
schema_2026_04_01 = _older("2026-04-01")


@schema_2025_01_01.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_of_2025_01_01_conforms_to_its_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)


@schema_2025_08_01.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_of_2025_08_01_conforms_to_its_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)


@schema_2026_04_01.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_of_2026_04_01_conforms_to_its_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)


def workflows(spec: schemathesis.schemas.BaseSchema, max_examples: int) -> Any:
    """A state machine over ``spec``'s links; each scenario starts from a fresh sandbox, so
    replaying a scenario replays its answers."""

    class Workflows(spec.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            reset_sandbox(spec.app)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": AUTH}

    Workflows.TestCase.settings = settings(
        max_examples=max_examples,
        stateful_step_count=6,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    return Workflows.TestCase


TestWorkflowsThroughLinks = workflows(schema, 30)
TestWorkflowsThroughLinksAt2025_01_01 = workflows(schema_2025_01_01, 15)
