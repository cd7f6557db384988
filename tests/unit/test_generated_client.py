"""The generated client keeps the token out of sight, does not wait forever, and has a public
face: one constant per operation, with its request builder and answer parser."""

import ast
from pathlib import Path

import httpx
from crm_client import AuthenticatedClient, operations
from crm_client.api_versions import OPERATIONS, VERSIONS
from crm_client.models import Error

OVERLAY = Path(__file__).resolve().parents[2] / "overlay"


def test_the_token_never_appears_in_the_client_repr() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:1", token="sk_live_secret_123")
    client.get_httpx_client()  # builds the headers that carry the token
    assert "sk_live_secret_123" not in repr(client)
    assert "sk_live_secret_123" not in str(client)


def test_requests_time_out_by_default() -> None:
    timeout = AuthenticatedClient(base_url="http://127.0.0.1:1", token="t").get_httpx_client().timeout
    assert (timeout.connect, timeout.read) == (5.0, 60.0)


def test_every_operation_of_the_spec_has_a_constant_with_a_public_builder_and_parser() -> None:
    latest = OPERATIONS[VERSIONS[-1]]
    assert set(operations.BY_ID) == set(latest)
    for operation in operations.BY_ID.values():
        assert (operation.method, operation.path) == (
            latest[operation.id]["method"],
            latest[operation.id]["path"],
        )
        assert getattr(operations, operation.id.upper()) is operation
        assert operation.module.__name__.endswith(f".{operation.id}")
        assert callable(operation.module.build_request) and callable(operation.module.parse_response)


def test_an_operation_builds_its_request_and_parses_an_answer_without_a_client() -> None:
    request = operations.GET_RECORD.build_request("people", "rec 1")
    assert (request["method"], request["url"]) == ("get", "/v2/objects/people/records/rec%201")
    answer = httpx.Response(
        404,
        json={"type": "invalid_request_error", "code": "not_found", "message": "gone", "status_code": 404},
    )
    assert isinstance(operations.GET_RECORD.parse_response(answer), Error)


def test_the_overlay_reaches_the_generated_endpoints_only_through_the_operation_table() -> None:
    """No ``crm_client.api`` import and no private endpoint function anywhere in the overlay."""
    found = []
    for path in sorted(OVERLAY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[:2] == [
                "crm_client",
                "api",
            ]:
                found.append((path.name, node.module))
            elif isinstance(node, ast.Attribute) and node.attr in ("_get_kwargs", "_parse_response"):
                found.append((path.name, node.attr))
    assert found == []
