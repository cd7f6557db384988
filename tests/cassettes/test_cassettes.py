"""The recorded session replays offline, keeps no secrets, and every response fits the spec."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

import overlay
from overlay._config import LATEST_VERSION
from tests._spec import load_spec

from .session import CASSETTE, HOST, expected, recorder, session


def interactions() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = yaml.safe_load(CASSETTE.read_text())["interactions"]
    return found


def test_the_session_replays_offline_with_the_same_results() -> None:
    # No server listens at sandbox.test: every answer comes from the cassette.
    with recorder("none").use_cassette(str(CASSETTE)) as cassette:
        with overlay.Client(api_key="replay-key", base_url=HOST) as crm:
            assert session(crm) == expected()
        assert cassette.all_played


def test_the_cassette_keeps_no_credentials_or_secrets() -> None:
    text = CASSETTE.read_text()
    assert not re.search(r"(?i)authorization|bearer|idempotency-key", text)
    assert set(re.findall(r"whsec_[A-Za-z0-9+/=_-]+", text)) == {"whsec_c2NydWJiZWQ="}
    assert "127.0.0.1" not in text


def test_the_cassette_is_recorded_at_the_version_the_client_speaks_by_default() -> None:
    sent = {exchange["request"]["headers"]["crm-version"][0] for exchange in interactions()}
    answered = {exchange["response"]["headers"]["crm-version"][0] for exchange in interactions()}
    assert sent == answered == {LATEST_VERSION}, "re-record it with make cassettes"


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            operation: dict[str, Any] = item[method.lower()]
            return operation
    raise AssertionError(f"{method} {path} is not in the spec")


def _response_schema(spec: dict[str, Any], operation: dict[str, Any], status: int) -> dict[str, Any] | None:
    responses = operation["responses"]
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses["default"]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content")
    return None if content is None else content["application/json"]["schema"]


@pytest.mark.parametrize("index", range(len(interactions())))
def test_every_recorded_response_fits_the_spec(index: int) -> None:
    spec = load_spec()
    exchange = interactions()[index]
    request, response = exchange["request"], exchange["response"]
    path = re.sub(r"^https?://[^/]+", "", request["uri"]).split("?")[0]
    operation = _operation(spec, request["method"], path)
    status = response["status"]["code"]
    assert str(status) in operation["responses"] or "default" in operation["responses"], status
    schema = _response_schema(spec, operation, status)
    body = response["body"]["string"]
    if schema is None:
        assert not body, f"{operation['operationId']} {status} documents no body"
        return
    document = {"allOf": [schema], "components": spec["components"]}
    validator = Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(yaml.safe_load(body))
    ]
    assert errors == [], f"{operation['operationId']} {status}"
