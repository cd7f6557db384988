"""``overlay.Sandbox()``: the reference server on loopback, for tests, demos and experiments."""

from __future__ import annotations

import dataclasses
import difflib
import sqlite3
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._errors import SandboxError

if TYPE_CHECKING:
    from crm_sandbox.server import SandboxServer

    from ._async.client import AsyncClient
    from ._sync.client import Client


class Sandbox:
    """Starts the sandbox on 127.0.0.1 (a free port, SQLite in memory unless ``db`` is given).

    >>> with overlay.Sandbox(seed_data=True) as sb:
    ...     sb.client.records("people").query().to_list()

    ``sb.client`` is an ``overlay.Client`` connected to it (closed with the sandbox);
    ``sb.connect(**options)`` and ``sb.connect_async(**options)`` make more.

    Keyword arguments are those of ``crm_sandbox.SandboxConfig`` (``read_rate``,
    ``write_rate``, ``chaos``, ``seed_data``, ``tokens``, ...). ``db`` is a file path;
    ``chaos`` also takes the text ``crm sandbox --chaos`` does (``"error=0.1,seed=7"``).
    """

    def __init__(self, *, db: str | None = None, port: int = 0, **config: Any) -> None:
        self._db = db
        self._port = port
        self._config = config
        self._server: SandboxServer | None = None
        self._client: Client | None = None

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self._server else "stopped"
        return f"<overlay.Sandbox {state}>"

    @property
    def url(self) -> str:
        return self._running().url

    @property
    def token(self) -> str:
        return self._running().token

    @property
    def client(self) -> Client:
        """A client of this sandbox, made on first use and closed when the sandbox stops."""
        if self._client is None:
            self._client = self.connect()
        return self._client

    def connect(self, **options: Any) -> Client:
        """A new ``overlay.Client`` of this sandbox; ``options`` are the client's settings
        (``api_key`` and ``base_url`` default to the sandbox's)."""
        from ._sync.client import Client

        return Client(**{"api_key": self.token, "base_url": self.url, **options})

    def connect_async(self, **options: Any) -> AsyncClient:
        """A new ``overlay.AsyncClient`` of this sandbox."""
        from ._async.client import AsyncClient

        return AsyncClient(**{"api_key": self.token, "base_url": self.url, **options})

    def _running(self) -> SandboxServer:
        if self._server is None:
            raise SandboxError("The sandbox is not running; use `with overlay.Sandbox() as sb:` or start().")
        return self._server

    def start(self) -> Sandbox:
        try:
            from crm_sandbox import SandboxConfig
            from crm_sandbox.server import SandboxServer
        except ImportError as exc:
            raise SandboxError(f"The sandbox needs: pip install 'crm-sdk[sandbox]' ({exc}).") from None
        from crm_sandbox import Chaos

        settings = dict(self._config)
        if isinstance(settings.get("chaos"), str):  # as crm sandbox --chaos takes it
            try:
                settings["chaos"] = Chaos.parse(settings["chaos"])
            except ValueError as exc:
                raise SandboxError(f"chaos={settings['chaos']!r}: {exc}.") from None
        elif not isinstance(settings.get("chaos", Chaos()), Chaos):
            kind = type(settings["chaos"]).__name__
            raise SandboxError(f"chaos is a Chaos or its text ('error=0.1,seed=7'), got {kind}.")
        known = [f.name for f in dataclasses.fields(SandboxConfig) if f.name != "db_path"]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            near = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else "."
            settings_list = ", ".join(["db", "port", *sorted(known)])
            raise SandboxError(f"Unknown sandbox setting {unknown[0]!r}{hint} Settings: {settings_list}.")
        try:
            config = SandboxConfig(db_path=self._db or ":memory:", **settings)
        except (TypeError, ValueError) as exc:
            raise SandboxError(f"A sandbox setting cannot be used: {exc}.") from None
        if isinstance(self._port, bool) or not isinstance(self._port, int) or not 0 <= self._port <= 65535:
            raise SandboxError(f"port is 0 (any free port) to 65535, got {self._port!r}.")
        try:
            self._server = SandboxServer(config, port=self._port).start()
        except sqlite3.Error as exc:
            raise SandboxError(f"The sandbox cannot open its database {self._db!r}: {exc}.") from None
        except (OSError, RuntimeError) as exc:
            raise SandboxError(f"The sandbox did not start: {exc}.") from None
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
