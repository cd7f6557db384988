"""Error responses become the overlay's own exceptions, one class per status family."""

from __future__ import annotations

import json

import httpx
import pytest

import overlay
from overlay._errors import error_for_status


def body(status: int, code: str, message: str, type_: str = "invalid_request_error") -> bytes:
    return json.dumps({"status_code": status, "type": type_, "code": code, "message": message}).encode()


# Each status and the error class it maps to (the client tests reuse this table).
STATUS_ERRORS: list[tuple[int, type[overlay.APIStatusError]]] = [
    (400, overlay.BadRequestError),
    (401, overlay.AuthenticationError),
    (403, overlay.PermissionDeniedError),
    (404, overlay.NotFoundError),
    (409, overlay.ConflictError),
    (413, overlay.BadRequestError),
    (429, overlay.RateLimitError),
    (500, overlay.InternalServerError),
    (503, overlay.InternalServerError),
    (418, overlay.APIStatusError),
]


@pytest.mark.parametrize(
    ("status", "cls"),
    STATUS_ERRORS,
)
def test_each_status_family_has_its_class(status: int, cls: type[overlay.APIStatusError]) -> None:
    error = error_for_status(status, {"x-request-id": "req_1"}, body(status, "some_code", "Something."))
    assert type(error) is cls
    assert isinstance(error, overlay.APIError) and isinstance(error, overlay.CRMError)


def test_status_errors_carry_every_field() -> None:
    error = error_for_status(404, {"x-request-id": "req_42"}, body(404, "not_found", "No object 'peple'."))
    assert (error.status, error.type, error.code, error.request_id) == (
        404,
        "invalid_request_error",
        "not_found",
        "req_42",
    )
    assert error.message == "No object 'peple'."
    assert error.body["code"] == "not_found"
    assert str(error) == "404 not_found: No object 'peple'. (request req_42)"


def test_the_older_error_shape_is_brought_up_by_the_migration_and_read_as_the_latest() -> None:
    from overlay.migrations._http import VersionMigration

    content = json.dumps({"error": {"code": "not_found", "message": "No such task."}}).encode()
    migration = VersionMigration("2025-01-01", known=lambda *_: None, remember=lambda *_: None)
    upgraded = migration.response(httpx.Response(404, content=content), "get_task")
    error = error_for_status(404, {}, upgraded.content)
    assert (error.code, error.message) == ("not_found", "No such task.")
    assert error_for_status(404, {}, content).code == "http_404", "only the migration knows the old shape"


def test_a_body_that_is_not_json_still_gives_a_clear_error() -> None:
    error = error_for_status(502, {}, b"<html>Bad gateway</html>")
    assert isinstance(error, overlay.InternalServerError)
    assert error.code == "http_502" and "Bad gateway" in error.message


def test_connection_errors_stand_apart_from_status_errors() -> None:
    assert issubclass(overlay.APITimeoutError, overlay.APIConnectionError)
    assert not issubclass(overlay.APIConnectionError, overlay.APIStatusError)


DEEP = b'{"a":' * 1000 + b"1" + b"}" * 1000


@pytest.mark.parametrize("status", [400, 409, 500])
def test_a_body_nested_too_deeply_still_gives_its_status_error(status: int) -> None:
    error = error_for_status(status, {"x-request-id": "req_deep"}, DEEP)
    assert error.status == status and error.code == f"http_{status}" and error.request_id == "req_deep"
    assert "nested too deeply" in error.message and error.body is None


def test_fields_that_are_not_text_fall_back_to_the_status() -> None:
    content = json.dumps({"type": {"x": 1}, "code": ["uniqueness_conflict"], "message": 7}).encode()
    error = error_for_status(409, {}, content)
    assert isinstance(error, overlay.ConflictError)
    assert (error.type, error.code, error.message) == ("invalid_request_error", "http_409", "HTTP 409")
    assert error.body["code"] == ["uniqueness_conflict"]


def test_a_parse_error_redacts_secrets_in_what_it_quotes() -> None:
    error = overlay.ResponseParseError.from_exception("Webhook", ValueError("bad value 'whsec_abc123'"))
    assert "whsec_abc123" not in str(error) and "[redacted]" in str(error)
