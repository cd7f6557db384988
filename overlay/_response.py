"""From an httpx response to a typed result or an overlay error; and the raw response.

This is the one place where a response of a generated endpoint is read, for the sync and
the async client alike.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._config import header_value_problem
from ._errors import InvalidArgumentError, ResponseParseError, error_for_status
from ._parse import loads

if TYPE_CHECKING:
    from crm_client.operations import Operation

T = TypeVar("T")
M = TypeVar("M")

Cast = Callable[[Any, str | None], T]
"""Turns an endpoint's parsed result and the request id into what a method returns."""


def request_kwargs(operation: Operation, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's request (method, url, params, json, headers); a header value given
    by the caller that HTTP cannot carry (``Idempotency-Key="é"``) is refused by name."""
    built = operation.build_request(*args, **kwargs)
    for header, value in built.get("headers", {}).items():
        problem = header_value_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise InvalidArgumentError(f"The {header} header contains {problem}; use ASCII text.")
    return built


def _unencodable(value: Any, path: str) -> tuple[str, int] | None:
    """Where in ``value`` a string holds a lone surrogate (UTF-8 cannot encode it): path, position."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return path, exc.start
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = _unencodable(key, f"{where} (the key)") or _unencodable(item, where)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _unencodable(item, f"{path}[{i}]")
            if found:
                return found
    return None


_PART_NAMES = {"params": "the query parameter ", "url": "the path", "path": "the path parameter "}


def path_parameters(operation: Operation, args: tuple[Any, ...]) -> dict[str, Any]:
    """The operation's positional arguments by the names its path gives them (``object``)."""
    return dict(zip(re.findall(r"\{(\w+)\}", operation.path), args, strict=False))


def unencodable_text(request: Mapping[str, Any]) -> str:
    """What in a request (its body, query, url or path parameters) is not valid Unicode text."""
    for part in ("json", "params", "url", "path"):
        found = _unencodable(request.get(part), "")
        if found is not None:
            where, position = found
            if part == "json" and where.startswith("data."):
                where = where[len("data.") :]
            name = _PART_NAMES.get(part, "")
            field = f"{name}{where!r}" if where and part != "url" else name or "the body"
            return (
                f"{field} holds a lone surrogate at position {position}, which is not valid "
                "Unicode text and cannot be sent"
            )
    return "the request holds text that cannot be encoded"


def _error_shaped(parsed: Any) -> bool:
    from crm_client.models.error import Error

    return isinstance(parsed, Error)


def decode(operation: Operation, response: httpx.Response) -> Any:
    """The operation's typed result, or the overlay error for an error status or a bad body
    (one nested too deeply, or an error's shape under a success status)."""
    if response.status_code >= 400:
        raise error_for_status(response.status_code, response.headers, response.content)
    request_id = response.headers.get("x-request-id")
    name = operation.id
    try:
        parsed = operation.parse_response(response)
    except RecursionError:
        raise ResponseParseError(name, "nested too deeply to read", request_id=request_id) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseParseError.from_exception(name, exc, request_id=request_id) from None
    if _error_shaped(parsed):
        code = getattr(parsed, "code", None)
        reason = f"status {response.status_code} with an error's body (code {code!r})"
        raise ResponseParseError(name, reason, request_id=request_id)
    return parsed


def decode_page(operation: Operation, response: httpx.Response) -> list[Any]:
    """The ``data`` list of a page's JSON, left unparsed (its items are parsed when read)."""
    data = decode_object(operation, response).get("data")
    if not isinstance(data, list):
        request_id = response.headers.get("x-request-id")
        raise ResponseParseError(operation.id, "expected an object with a data list", request_id=request_id)
    return data


def decode_object(operation: Operation, response: httpx.Response) -> dict[str, Any]:
    """A response's JSON object, left unparsed; an error status raises its ``APIStatusError``."""
    if response.status_code >= 400:
        raise error_for_status(response.status_code, response.headers, response.content)
    request_id = response.headers.get("x-request-id")
    name = operation.id
    try:
        body = loads(response.content)
    except ValueError as exc:
        raise ResponseParseError(name, f"not JSON ({exc})", request_id=request_id) from None
    if not isinstance(body, dict):
        raise ResponseParseError(name, "expected a JSON object", request_id=request_id)
    return body


def tag(value: M, request_id: str | None) -> M:
    """Put the request id on a generated model (or on each model of a list)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if hasattr(item, "request_id"):
            item.request_id = request_id
    return value


class NotGiven:
    """The default of an optional argument: unlike ``None``, it is left out of the request."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = NotGiven()


def jsonable(value: Any) -> Any:
    """``value`` with dates and times as ISO 8601 text, at any depth."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def data_of(parsed: Any, request_id: str | None) -> Any:
    """The ``data`` of a response envelope (a model or a list of them), tagged with the request id."""
    return tag(parsed.data, request_id)


def build_body(model: Any, data: Mapping[str, Any], *, wrap: bool = True) -> Any:
    """A generated request model from ``{"data": data}`` (or ``data`` itself when not ``wrap``),
    leaving out arguments not given."""
    try:
        fields = {k: jsonable(v) for k, v in data.items() if v is not NOT_GIVEN}
        return model.from_dict({"data": fields} if wrap else fields)
    except RecursionError:
        raise InvalidArgumentError(f"{model.__name__}: the arguments nest too deeply to send.") from None
    except KeyError as exc:
        raise InvalidArgumentError(f"{model.__name__}: missing argument {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        given = ", ".join(str(k) for k, v in data.items() if v is not NOT_GIVEN)
        raise InvalidArgumentError(f"{model.__name__} (from {given}): {exc}") from None


class RawResponse(Generic[T]):
    """The HTTP response of one call, before (or instead of) its parsing.

    ``status_code``, ``headers``, ``request_id``, ``content``, ``json()``; ``parse()`` gives
    what the method would have returned.
    """

    def __init__(self, http_response: httpx.Response, parse: Callable[[], T]) -> None:
        self.http_response = http_response
        self._parse = parse

    def __repr__(self) -> str:
        return f"<RawResponse {self.status_code} request_id={self.request_id!r}>"

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id

    @property
    def content(self) -> bytes:
        return self.http_response.content

    def json(self) -> Any:
        """The body decoded; ``ResponseParseError`` when it is not JSON."""
        try:
            return loads(self.http_response.content)
        except ValueError as exc:
            raise ResponseParseError("JSON", str(exc), request_id=self.request_id) from None

    def parse(self) -> T:
        return self._parse()
