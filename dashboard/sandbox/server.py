"""Run the sandbox in a background thread, for tests and for the embedded default."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, DechunkedInput, WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

from dashboard.sandbox import create_app, get_state

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


class _NothingLeft:
    """What Werkzeug reads when it drains "the rest" of a request after replying.

    It does so because it always closes connections; on a kept connection that would swallow
    the client's next request. The body is drained by its own length instead (see below).
    """

    def read(self, size: int = -1) -> bytes:
        return b""


class KeepAliveRequestHandler(WSGIRequestHandler):
    """HTTP/1.1 with connections kept open between requests, like a gateway behind a balancer.

    Werkzeug's development server closes every connection (``Connection: close``) because it
    cannot tell where an unread request body ends. Here each body is read through a stream
    limited to its Content-Length and drained after the reply, so the next request starts
    in the right place; a chunked request body still closes the connection.
    """

    protocol_version = "HTTP/1.1"
    timeout = 75  # seconds an idle connection stays open (a common balancer default)
    _body: LimitedStream | None = None

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes: without this, on a kept connection the
        # body waits for the client's delayed ACK of the headers (~40 ms a reply).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _connections(self.server).add(self.connection)

    def finish(self) -> None:
        _connections(self.server).discard(self.connection)
        super().finish()

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        reader = self._reader
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            self._body = None
            environ["wsgi.input"] = DechunkedInput(reader)  # type: ignore[arg-type]
        else:
            length = environ.get("CONTENT_LENGTH") or "0"
            self._body = LimitedStream(reader, int(length) if length.isdigit() else 0)  # type: ignore[arg-type]
            environ["wsgi.input"] = self._body
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        closing = keyword.lower() == "connection" and value.lower() == "close"
        if closing and self._body is not None and not self.close_connection:
            return  # keep the connection for the client's next request
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        self._reader = self.rfile
        self._body = None
        self.rfile = _NothingLeft()  # type: ignore[assignment]
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._reader
        if self._body is None:
            self.close_connection = True
        else:
            self._body.exhaust()


class _QuietRequestHandler(KeepAliveRequestHandler):
    # Werkzeug would otherwise attach its own handler to the "werkzeug" logger and print one
    # line per request into every test run.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass  # e.g. "Request timed out" when a kept connection is closed after 75 s idle


def _connections(server: Any) -> set[socket.socket]:
    """The connections a server has open (kept alive between requests)."""
    found: set[socket.socket] | None = getattr(server, "open_connections", None)
    if found is None:
        found = set()
        server.open_connections = found
    return found


class RunningSandbox:
    """A sandbox serving on loopback; ``url`` ends with a slash, like iHela base URLs."""

    def __init__(self, app: Flask, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self.app = app
        self._server = server
        self._thread = thread
        host = server.host
        if ":" in host:
            host = f"[{host}]"
        self.url = f"http://{host}:{server.port}/"

    @property
    def port(self) -> int:
        return self._server.port

    def stop(self) -> None:
        # Wake stalled requests first so shutdown does not wait for their sleep to end.
        get_state(self.app).stop()
        self._server.shutdown()
        self._server.server_close()
        # A stopped gateway drops its kept-alive connections too: nothing answers any more.
        for connection in list(_connections(self._server)):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(
    host: str = "127.0.0.1", port: int = 0, config: dict[str, Any] | None = None
) -> RunningSandbox:
    """Serve a fresh sandbox app; ``port=0`` lets the OS pick a free port."""
    app = create_app(config)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    # A short poll interval keeps stop() quick (serve_forever checks for shutdown that often).
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="ihela-sandbox",
        daemon=True,
    )
    thread.start()
    return RunningSandbox(app, server, thread)
