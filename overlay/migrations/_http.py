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
from ._migrate import downgrade, upgrade
from ._versions import VERSIONS, offset_of

Route = tuple[str, re.Pattern[str], list[str]]  # (operation id, path regex, parameter names)


@cache
def _routes() -> dict[str, list[Route]]:
    """Method → the latest version's operations, as path patterns."""
    out: dict[str, list[Route]] = {}
    for op_id, (method, template, _, _) in OPERATIONS[VERSIONS.latest].items():
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


class VersionMigration:
    """The rewriting for one older ``version``; one instance serves every request."""

    def __init__(self, version: str) -> None:
        VERSIONS.index(version)
        self.version = version
        self.moved = VERSIONS.moved(version)
        self.missing = VERSIONS.missing(version)
        self.offset_paged = VERSIONS.offset_paged(version)
        self.answers = OPERATIONS[version]

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
        body_schema = OPERATIONS[VERSIONS.latest][op_id][2]
        if body_schema and content:
            body = downgrade(json.loads(content), body_schema, to_version=self.version, copy_payload=False)
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
        schema = self.answers.get(op_id, (None, None, None, {}))[3].get(status) if op_id else None
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
