"""Serving the sandbox on loopback: in a background thread (tests, the tour) or in the foreground."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, ClassVar, Self

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .config import SandboxConfig

_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a header timeout: a connection whose request head is not
    complete ``head_timeout`` seconds after it connected or began sending it is answered 408 and
    closed, so half-sent requests cannot hold connections (uvicorn times out only idle ones)."""

    head_timeout: ClassVar[float] = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    # uvicorn's H11Protocol narrows asyncio's BaseTransport to Transport (and ignores it too).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        waiting_for_head = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting_for_head and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
        elif not waiting_for_head:
            self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a head arrived: say why before closing
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


class LoopbackServer:
    """An ASGI app served by uvicorn on ``host:port`` (port 0 picks a free one) in a daemon thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = False,
        header_timeout: float = 10.0,
    ) -> None:
        self.app = app
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
        # and without it every response waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        # Listen at once: a client told the URL can connect before the server loop runs.
        self._socket.listen(2048)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="critical" if quiet else "warning",
                access_log=False,
                lifespan="on",
                http=type("HeadTimeout", (HeadTimeoutProtocol,), {"head_timeout": header_timeout}),
                timeout_graceful_shutdown=2,
            )
        )
        self._thread = threading.Thread(target=self.serve, name=f"loopback-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self) -> None:
        """Serve in this thread until ``stop()`` or an interrupt."""
        self._server.run(sockets=[self._socket])

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SandboxServer(LoopbackServer):
    """A sandbox on loopback."""

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SandboxConfig()
        # Chaos cuts connections on purpose; uvicorn would log each one as an error.
        super().__init__(
            create_app(self.config),
            host,
            port,
            quiet=self.config.chaos.active,
            header_timeout=self.config.header_timeout,
        )

    @property
    def token(self) -> str:
        return self.config.tokens[0]


def serve_forever(config: SandboxConfig, host: str, port: int) -> None:
    """Run in the foreground until interrupted, printing the URL and token first."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = SandboxServer(config, host, port)
    print(f"CRM sandbox listening on {server.url}", flush=True)
    print(f"  token: {server.token}", flush=True)
    print(f"  try:   curl -H 'Authorization: Bearer {server.token}' {server.url}/v2/self", flush=True)
    server.serve()
