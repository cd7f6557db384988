"""The sandbox's ASGI application: every operation of the spec, with the API's cross-cutting rules.

Per request, in order: request id, chaos, bearer token, CRM-Version, rate limit, parameter
and body validation against the spec, idempotent replay, then the handler inside one
SQLite transaction. Every error is the spec's error body; nothing else ever escapes.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .catalog import Catalog
from .config import LATEST, VERSIONS, SandboxConfig
from .context import Ctx, Workspace
from .errors import APIError
from .feed import Feed, WaitForEvents
from .guards import (
    ChaosMonkey,
    DropConnection,
    Idempotency,
    RateLimiter,
    check_target,
    is_json_media,
    parse_json,
    read_body,
)
from .handlers import HANDLERS
from .operations import Operation, operations
from .standard_objects import seed_standard_objects
from .store import Store, dumps, new_id
from .versions import answer_down, answer_schema, body_up
from .webhooks import Deliveries

log = logging.getLogger("crm_sandbox")

Endpoint = Callable[[Request], Awaitable[Response]]


class Sandbox:
    """The state behind one running sandbox. Handlers get only its services (``context``)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.db_path)
        self.catalog = Catalog(self.store)
        with self.store.transaction():
            seed_standard_objects(self.catalog)
            if config.seed_data:
                from .seed import seed_sample_data

                seed_sample_data(self.store, self.catalog)
        self.limiter = RateLimiter({"read": config.read_rate, "write": config.write_rate})
        self.chaos = ChaosMonkey(config.chaos)
        self.idempotency = Idempotency(self.store)
        self.deliveries = Deliveries(self.store, config.webhook_retry_delays)
        self.feed = Feed(self.store, config.event_retention)
        self.workspace = Workspace(config.workspace_name, config.api_version)

    def context(
        self, path: dict[str, Any], query: dict[str, Any], body: Any, token: str, version: str
    ) -> Ctx:
        """What a handler of this request gets: its parts and the services it may touch."""
        return Ctx(
            store=self.store,
            catalog=self.catalog,
            deliveries=self.deliveries,
            feed=self.feed,
            idempotency=self.idempotency,
            workspace=self.workspace,
            path=path,
            query=query,
            body=body,
            token=token,
            version=version,
        )

    def authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise APIError(401, "missing_token", "Send your token as `Authorization: Bearer <token>`.")
        if scheme.lower() != "bearer" or token not in self.config.tokens:
            raise APIError(401, "invalid_token", "The bearer token is not valid.")
        return token


def error_response(exc: APIError, version: str = LATEST) -> JSONResponse:
    body = answer_down(exc.body(), "Error", version)
    return JSONResponse(body, exc.status, headers={**exc.headers, "CRM-Version": version})


def _sandbox(request: Request) -> Sandbox:
    """The sandbox serving ``request`` (``create_app`` puts it in the app's state)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _version(request: Request) -> str:
    """The ``CRM-Version`` asked for, or the sandbox's default version."""
    version = request.headers.get("crm-version", _sandbox(request).config.api_version)
    if version not in VERSIONS:
        raise APIError(
            400,
            "unsupported_version",
            f"CRM-Version {version!r} is not supported; use one of {', '.join(VERSIONS)}.",
        )
    return version


async def _json_body(request: Request, op: Operation, config: SandboxConfig) -> Any:
    """The JSON body: 415 for another media type, 413 past the size limit as it streams in,
    then the checks of ``guards.parse_json`` (depth, UTF-8, lone surrogates)."""
    content_type = request.headers.get("content-type")
    announced = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if announced and content_type is not None and not is_json_media(content_type):
        raise APIError(
            415,
            "unsupported_media_type",
            f"The body is {content_type.partition(';')[0]!r}; send JSON with Content-Type: application/json.",
        )
    raw = await read_body(request, config.max_body_bytes, config.header_timeout)
    if not raw:
        if op.body_required:
            raise APIError(400, "missing_body", "This operation needs a JSON body.")
        return None
    return parse_json(raw)


def _known_query(op: Operation, request: Request) -> dict[str, str]:
    """The query string, refusing parameters the operation does not declare (often a typo)."""
    declared = [p.name for p in op.params if p.location == "query"]
    for name in request.query_params:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(declared) or 'none'}."
            raise APIError(400, "unknown_parameter", f"Unknown query parameter {name!r}.{hint}")
    return dict(request.query_params)


def endpoint(by_version: dict[str, Operation]) -> Endpoint:
    """The handler of one method and path, for each version that has the operation there."""

    kind = "write" if next(iter(by_version.values())).is_write else "read"

    async def run(request: Request) -> Response:
        sandbox = _sandbox(request)
        fate = sandbox.chaos.decide()
        if fate.latency:
            await asyncio.sleep(fate.latency)
        if fate.fault:
            raise sandbox.chaos.error(fate.fault, sandbox.limiter.rates.get(kind))
        token = sandbox.authenticate(request)
        version = _version(request)
        op = by_version[version]
        check_target(request)
        limit_headers = sandbox.limiter.take(token, kind)
        path = op.coerce_params("path", dict(request.path_params))
        query = op.coerce_params("query", _known_query(op, request))
        headers = op.coerce_params(
            "header", {k.title(): v for k, v in request.headers.items()} | {"CRM-Version": version}
        )
        body = await _json_body(request, op, sandbox.config)
        op.check_body(body)
        key = headers.get("Idempotency-Key") if op.is_write else None
        currencies = lambda: sandbox.catalog.currencies(path)  # noqa: E731
        ctx = sandbox.context(path, query, body_up(body, op.id, version, currencies), token, version)
        extra = {**limit_headers, "CRM-Version": version}
        clock, deadline = asyncio.get_running_loop().time, None
        while True:
            try:
                status, content = _commit(sandbox, ctx, op, request, body, key, extra)
                break
            except WaitForEvents as waiting:  # a feed read found nothing: wait outside the lock
                deadline = clock() + waiting.seconds if deadline is None else deadline
                left = deadline - clock()
                if left <= 0:
                    ctx.query["wait"] = 0
                    continue
                await sandbox.feed.changed(left)
        if ctx.events:
            sandbox.feed.wake()
        if fate.drop_after_commit:
            raise DropConnection()
        if status == 204:
            return Response(status_code=204, headers=extra)
        return Response(content, status, headers=extra, media_type="application/json")

    return run


def _commit(
    sandbox: Sandbox,
    ctx: Ctx,
    op: Operation,
    request: Request,
    body: Any,
    key: str | None,
    extra: dict[str, str],
) -> tuple[int, bytes]:
    """Run the handler in one transaction (or replay its stored answer): its events go to the
    feed and to webhooks, its answer down to the request's version. (status, body bytes)."""
    version = ctx.version
    with sandbox.store.transaction():
        replay = None
        if key:
            fingerprint = Idempotency.fingerprint(op.method, request.url.path, body)
            replay = sandbox.idempotency.replay(ctx.token, key, fingerprint)
        if replay is not None:
            extra["Idempotent-Replayed"] = "true"
            return replay
        status, payload = HANDLERS[op.id](ctx)
        # Before the answer is taken down in place: the events share its objects.
        sandbox.deliveries.enqueue(sandbox.feed.publish(ctx.events))
        payload = answer_down(payload, answer_schema(op.id, status, version), version)
        content = b"" if payload is None else dumps(payload).encode()
        if key:
            sandbox.idempotency.save(ctx.token, key, fingerprint, status, content)
            extra["Idempotent-Replayed"] = "false"
        return status, content


class RequestIds:
    """Gives every response an x-request-id and a CRM-Version; turns DropConnection into a cut."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{new_id().replace('-', '')}"
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                if b"crm-version" not in names:
                    headers.append((b"crm-version", LATEST.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except DropConnection:
            if not started:  # announce a body, send none of it: the client sees the connection cut
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", b"100"),
                            (b"x-request-id", request_id.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"", "more_body": True})


def _answering_version(request: Request) -> str:
    """The version an answer is shaped for: the request's if we serve it, else the default."""
    fallback = _sandbox(request).config.api_version
    version = request.headers.get("crm-version", fallback)
    return version if version in VERSIONS else fallback


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return error_response(exc, _answering_version(request))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    message = {
        404: f"No route {request.url.path!r}.",
        405: f"{request.method} is not allowed here.",
    }.get(exc.status_code, str(exc.detail))
    return error_response(
        APIError(exc.status_code, code, message, dict(exc.headers or {})), _answering_version(request)
    )


def _unexpected(request: Request, exc: Exception) -> APIError:
    """An exception no check foresaw, as an error response: a 400 when it can only come from
    the request's input (a number SQLite cannot hold, a pattern too long for LIKE, a JSON array
    or object where SQL takes a scalar, text that is not Unicode), else a 500; either way the
    connection stays open."""
    message = str(exc)
    if isinstance(exc, OverflowError) or (
        isinstance(exc, sqlite3.IntegrityError) and "datatype mismatch" in message
    ):
        log.warning("out-of-range input in %s %s: %s", request.method, request.url.path, message)
        return APIError(400, "out_of_range", "A number in the request is beyond what the API stores.")
    if isinstance(exc, sqlite3.OperationalError) and "too complex" in message:
        log.warning("over-long pattern in %s %s", request.method, request.url.path)
        return APIError(400, "pattern_too_long", "A text to match in the request is too long.")
    if isinstance(exc, sqlite3.ProgrammingError) and "is not supported" in message:
        log.warning(
            "a value of the wrong type reached SQL in %s %s: %s", request.method, request.url.path, message
        )
        return APIError(
            400, "invalid_request", "A value in the request has a type the API does not take there."
        )
    if isinstance(exc, UnicodeEncodeError):
        return APIError(400, "invalid_unicode", "The request holds text that is not Unicode.")
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return APIError(500, "internal_error", "The sandbox failed; this is a bug in the sandbox.")


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return error_response(
        APIError(500, "internal_error", "The sandbox failed; this is a bug in the sandbox."),
        _answering_version(request),
    )


def create_app(config: SandboxConfig | None = None) -> Starlette:
    sandbox = Sandbox(config or SandboxConfig())
    served: dict[str, dict[str, dict[str, Operation]]] = {}  # path -> method -> version -> operation
    for version in VERSIONS:
        for op in operations(version):
            served.setdefault(op.path, {}).setdefault(op.method.upper(), {})[version] = op
    missing = sorted(
        {op.id for m in served.values() for ops in m.values() for op in ops.values()} - HANDLERS.keys()
    )
    if missing:
        raise RuntimeError(f"operations without a handler: {', '.join(missing)}")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = asyncio.create_task(sandbox.deliveries.run())
        try:
            yield
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            await sandbox.deliveries.aclose()

    app = Starlette(
        routes=_routes(served),
        exception_handlers={
            APIError: on_api_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.add_middleware(RequestIds)
    return app


def _routes(served: dict[str, dict[str, dict[str, Operation]]]) -> list[Route]:
    """One Route per path, dispatching on the method and the version: a method the version
    does not have there gets 405 (with that version's Allow), a path it lacks gets 404."""

    def dispatch(path: str, methods: dict[str, dict[str, Operation]]) -> Endpoint:
        endpoints = {method: endpoint(ops) for method, ops in methods.items()}

        async def run(request: Request) -> Response:
            version = _answering_version(request)
            if version in methods.get(request.method, {}):
                try:
                    return await endpoints[request.method](request)
                except (APIError, DropConnection, HTTPException):
                    raise
                except Exception as exc:
                    raise _unexpected(request, exc) from exc
            allowed = sorted(m for m, ops in methods.items() if version in ops)
            if not allowed:
                raise APIError(404, "not_found", f"No route {request.url.path!r} in API version {version}.")
            raise APIError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here.",
                {"Allow": ", ".join(allowed)},
            )

        return run

    def specific_first(path: str) -> list[tuple[bool, str]]:
        """A literal segment before a parameter in the same place: ``/records/count``, which a
        newer version added, is not taken for ``/records/{record_id}``."""
        return [(segment.startswith("{"), segment) for segment in path.split("/")]

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]
    return [
        Route(path, dispatch(path, served[path]), methods=methods)
        for path in sorted(served, key=specific_first)
    ]
