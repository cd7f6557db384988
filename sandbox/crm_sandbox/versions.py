"""Serving older API versions: the handlers speak the latest version only.

A request at an older ``CRM-Version`` is checked against that version's spec, its body is
brought up to the latest, and the answer (an error too) goes back down, through the
changes declared once in ``overlay.migrations``. The older specs, checked by the contract
tests, say what each version must look like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_client.api_versions import OPERATIONS

from overlay import migrations

from .config import LATEST
from .errors import bad_request


def body_up(body: Any, operation: str, version: str, currencies: Callable[[], dict[str, str | None]]) -> Any:
    """A request body of ``operation`` at ``version``, in the latest shape; 400 if a value
    cannot be converted. ``currencies()`` gives the currency attributes' default codes: an
    amount written without a code is in its attribute's default currency."""
    schema = OPERATIONS[version][operation]["body"]
    if body is None or schema is None or version == LATEST:
        return body
    migrations.spell_out_currencies(body, schema, version=version, currencies=currencies)
    try:
        return migrations.upgrade(body, schema, from_version=version, copy_payload=False)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise bad_request("invalid_value", f"Invalid request body: {exc}") from None


def answer_schema(operation: str, status: int, version: str) -> str | None:
    """The schema of ``operation``'s answer with ``status``, as ``version``'s spec says."""
    answers: dict[str, str] = OPERATIONS[version][operation]["answers"]
    return answers.get(str(status))


def answer_down(payload: Any, schema: str | None, version: str, *, copy_payload: bool = False) -> Any:
    """``payload`` as ``version`` shapes it (changed in place unless ``copy_payload``)."""
    if payload is None or schema is None or version == LATEST:
        return payload
    return migrations.downgrade(payload, schema, to_version=version, copy_payload=copy_payload)


def signing_scheme(version: str) -> str:
    """How deliveries to a webhook of ``version`` are signed."""
    return migrations.VERSIONS.signing(version)
