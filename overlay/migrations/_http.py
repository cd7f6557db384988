"""Requests down, responses up: what the client's transport does at an older API version.

The caller builds requests and reads responses of the latest version. For a client
pinned to an older version, each request is rewritten for it (moved endpoints, offset
instead of cursor, bodies downgraded) and each response is upgraded (bodies, pages and
errors), so the same code gives the same results at every version.
"""

from __future__ import annotations

import json
import re
from functools import cache

import httpx
from crm_client.api_versions import OPERATIONS

from .._errors import InvalidArgumentError
from .._metadata import TTLCache
from ._migrate import _reaching, downgrade, spell_out_currencies, upgrade
from ._versions import VERSIONS
from .cursors import offset_of

Route = tuple[str, re.Pattern[str], list[str]]  # (operation id, path regex, parameter names)


@cache
def _routes() -> dict[str, list[Route]]:
    """Method → the latest version's operations, as path patterns."""
    out: dict[str, list[Route]] = {}
    for op_id, operation in OPERATIONS[VERSIONS.latest].items():
        method, template = operation["method"], operation["path"]
        names = re.findall(r"{(\w+)}", template)
        pattern = re.compile("^" + re.sub(r"{\w+}", "([^/]+)", template) + "$")
        out.setdefault(method, []).append((op_id, pattern, names))
    for routes in out.values():  # literal segments first: /records/query before /records/{record_id}
        routes.sort(key=lambda route: route[1].pattern.count("([^/]+)"))
    return out


def _operation(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for op_id, pattern, names in _routes().get(method, ()):
        match = pattern.match(path)
        if match:
            return op_id, dict(zip(names, match.groups(), strict=True))
    return None


@cache
def _writes_values() -> frozenset[str]:
    """The operations whose bodies write attribute values (and so may write amounts)."""
    reach = _reaching(VERSIONS.latest, frozenset({"RecordValuesInput"}))
    return frozenset(op for op, spec in OPERATIONS[VERSIONS.latest].items() if spec["body"] in reach)


def _currencies_key(op_id: str, params: dict[str, str]) -> tuple[str, ...] | None:
    """For an operation that writes values: the metadata cache's key for the currency
    attributes of the object or list it writes to; its last part is where they are listed."""
    if op_id not in _writes_values():
        return None
    template = OPERATIONS[VERSIONS.latest][op_id]["path"]
    for parent, param in (("objects", "object"), ("lists", "list")):
        if template.startswith(f"/v2/{parent}/{{{param}}}/"):
            return ("attributes", params[param], f"/v2/{parent}/{params[param]}/attributes")
    return None


class VersionMigration:
    """The rewriting for one older ``version``; one instance serves every request.

    An amount converts between versions only once its currency is known, and an amount
    written as a bare number or without a code is in its attribute's default currency:
    before a write of values, ``lookup`` asks for the currency attributes of the object
    (kept in the client's metadata ``cache``, so once per ``metadata_ttl``).
    """

    def __init__(self, version: str, cache: TTLCache) -> None:
        VERSIONS.index(version)
        self.version = version
        self.cache = cache
        self.moved = VERSIONS.moved(version)
        self.missing = VERSIONS.missing(version)
        self.offset_paged = VERSIONS.offset_paged(version)
        self.operations = OPERATIONS[version]

    def lookup(self, request: httpx.Request) -> httpx.Request | None:
        """The request for the currency attributes that ``request`` may write and the cache lacks."""
        if request.method == "GET" or not request.content:  # reads, the hot path, write no values
            return None
        found = _operation(request.method, request.url.path)
        key = _currencies_key(*found) if found else None
        if key is None or self.cache.get(key) is not None:
            return None
        headers = [
            (k, v)
            for k, v in request.headers.multi_items()
            if k.lower() not in ("content-length", "content-type", "idempotency-key")
        ]
        return httpx.Request("GET", request.url.copy_with(path=key[-1], query=None), headers=headers)

    def learn(self, lookup: httpx.Request, answer: httpx.Response) -> bool:
        """Keep the currency attributes (slug → default code) that ``answer`` to ``lookup``
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
        parent = lookup.url.path.split("/")[-2]
        self.cache.put(("attributes", parent, lookup.url.path), currencies)
        return True

    def request(self, request: httpx.Request) -> tuple[httpx.Request, str | None]:
        """The request as ``version`` takes it, and the operation it is (None if unknown)."""
        found = _operation(request.method, request.url.path)
        if found is None:
            return request, None
        op_id, params = found
        if op_id in self.missing:
            raise InvalidArgumentError(
                f"{op_id} is not in API version {self.version}; it came later. Use a client of a newer "
                f"version (api_version=...) for it."
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
            key = _currencies_key(op_id, params)
            if key is not None:
                currencies = lambda: self.cache.get(key) or {}  # noqa: E731
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
