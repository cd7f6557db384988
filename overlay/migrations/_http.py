"""Requests down, responses up: what the client's transport does at an older API version.

The caller builds requests and reads responses of the latest version. For a client
pinned to an older version, each request is rewritten for it (moved endpoints, offset
instead of cursor, bodies downgraded) and each response is upgraded (bodies, pages and
errors), so the same code gives the same results at every version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

import httpx
from crm_client.api_versions import OPERATIONS

from .._errors import InvalidArgumentError
from .._transport import OPERATION
from ._migrate import _reaching, downgrade, spell_out_currencies, upgrade
from ._versions import VERSIONS
from .cursors import offset_of

Currencies = dict[str, "str | None"]  # a currency attribute's slug → its default currency code
KnownCurrencies = Callable[[str, str], "Currencies | None"]  # (objects or lists, slug) → cached
RememberCurrencies = Callable[[str, str, Currencies], None]


@cache
def _template(op_id: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The latest version's path of ``op_id`` as a pattern, and its parameters' names."""
    template = OPERATIONS[VERSIONS.latest][op_id]["path"]
    pattern = re.compile("^" + re.sub(r"{\w+}", "([^/]+)", template) + "$")
    return pattern, tuple(re.findall(r"{(\w+)}", template))


def _operation(request: httpx.Request) -> tuple[str, dict[str, str]] | None:
    """The operation the client named for ``request``, and its path parameters."""
    op_id = request.extensions.get(OPERATION)
    if op_id not in OPERATIONS[VERSIONS.latest]:
        return None
    pattern, names = _template(op_id)
    match = pattern.match(request.url.path)
    if match is None:
        return None
    return op_id, dict(zip(names, match.groups(), strict=True))


@cache
def _writes_values() -> frozenset[str]:
    """The operations whose bodies write attribute values (and so may write amounts)."""
    reach = _reaching(VERSIONS.latest, frozenset({"RecordValuesInput"}))
    return frozenset(op for op, spec in OPERATIONS[VERSIONS.latest].items() if spec["body"] in reach)


def _written_parent(op_id: str, params: dict[str, str]) -> tuple[str, str] | None:
    """For an operation that writes values: the object or list it writes to, as
    (``objects`` or ``lists``, slug)."""
    if op_id not in _writes_values():
        return None
    template = OPERATIONS[VERSIONS.latest][op_id]["path"]
    for parent, param in (("objects", "object"), ("lists", "list")):
        if template.startswith(f"/v2/{parent}/{{{param}}}/"):
            return parent, params[param]
    return None


class VersionMigration:
    """The rewriting for one older ``version``; one instance serves every request.

    The client names each request's operation in ``request.extensions[OPERATION]``; a
    request without one passes unchanged. An amount converts between versions only once its
    currency is known, and an amount written as a bare number or without a code is in its
    attribute's default currency: before a write of values, ``lookup`` asks for the currency
    attributes of the object or list, unless ``known`` has them; ``learn`` hands what it read
    to ``remember`` (the client keeps them with its metadata, for ``metadata_ttl``).
    """

    def __init__(self, version: str, *, known: KnownCurrencies, remember: RememberCurrencies) -> None:
        VERSIONS.index(version)
        self.version = version
        self.known = known
        self.remember = remember
        self.moved = VERSIONS.moved(version)
        self.missing = VERSIONS.missing(version)
        self.offset_paged = VERSIONS.offset_paged(version)
        self.operations = OPERATIONS[version]

    def lookup(self, request: httpx.Request) -> httpx.Request | None:
        """The request for the currency attributes that ``request`` may write and ``known`` lacks."""
        if request.method == "GET" or not request.content:  # reads, the hot path, write no values
            return None
        found = _operation(request)
        parent = _written_parent(*found) if found else None
        if parent is None or self.known(*parent) is not None:
            return None
        headers = [
            (k, v)
            for k, v in request.headers.multi_items()
            if k.lower() not in ("content-length", "content-type", "idempotency-key")
        ]
        path = f"/v2/{parent[0]}/{parent[1]}/attributes"
        return httpx.Request("GET", request.url.copy_with(path=path, query=None), headers=headers)

    def learn(self, lookup: httpx.Request, answer: httpx.Response) -> bool:
        """Remember the currency attributes (slug → default code) that ``answer`` to ``lookup``
        lists; False if it failed. A list it cannot read counts as none: amounts then keep
        the usual two decimals."""
        if answer.status_code != 200:
            return False
        try:
            currencies = {
                attribute["api_slug"]: ((attribute.get("config") or {}).get("currency") or {}).get(
                    "default_currency_code"
                )
                for attribute in json.loads(answer.content)["data"]
                if attribute.get("type") == "currency"
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            currencies = {}
        _, _, parent, slug, _ = lookup.url.path.split("/")
        self.remember(parent, slug, currencies)
        return True

    def request(self, request: httpx.Request) -> tuple[httpx.Request, str | None]:
        """The request as ``version`` takes it, and the operation it is (None if unknown)."""
        found = _operation(request)
        if found is None:
            return request, None
        op_id, params = found
        if op_id in self.missing:
            raise InvalidArgumentError(
                f"{op_id} is not in API version {self.version}; it came in {self.missing[op_id]}. Use a "
                f"client of that version or a newer one (api_version=...) for it."
            )
        method, url = request.method, request.url
        if op_id in self.moved:
            method, template = self.moved[op_id]
            url = url.copy_with(path=re.sub(r"{(\w+)}", lambda m: params[m.group(1)], template))
        if op_id in self.offset_paged and "cursor" in url.params:
            query = url.params.remove("cursor").set("offset", str(offset_of(url.params["cursor"])))
            url = url.copy_with(params=query)
        content = request.content
        body_schema = OPERATIONS[VERSIONS.latest][op_id]["body"]
        if body_schema and content:
            body = json.loads(content)
            parent = _written_parent(op_id, params)
            if parent is not None:
                currencies = lambda: self.known(*parent) or {}  # noqa: E731
                spell_out_currencies(body, body_schema, version=VERSIONS.latest, currencies=currencies)
            body = downgrade(body, body_schema, to_version=self.version, copy_payload=False)
            content = json.dumps(body, separators=(",", ":")).encode()
        if (method, url, content) == (request.method, request.url, request.content):
            return request, op_id
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
        return httpx.Request(
            method, url, headers=headers, content=content, extensions=request.extensions
        ), op_id

    def response(self, response: httpx.Response, op_id: str | None) -> httpx.Response:
        """``response`` (read) as the latest version would have answered."""
        status = response.status_code
        operation = self.operations.get(op_id) if op_id else None
        schema = operation["answers"].get(str(status)) if operation else None
        if schema is None and status >= 400:
            schema = "Error"
        if schema is None or not response.content:
            return response
        try:
            payload = json.loads(response.content)
        except ValueError:
            return response  # not JSON: the parser will say so
        payload = upgrade(
            payload,
            schema,
            from_version=self.version,
            copy_payload=False,
            status=status if status >= 400 else None,
        )
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-length", "content-encoding")
        ]
        return httpx.Response(
            status,
            headers=headers,
            content=json.dumps(payload, separators=(",", ":")).encode(),
            extensions=response.extensions,
        )
