"""Run the sandbox in a background thread, for tests and for the embedded default."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from dashboard.sandbox import create_app, get_state


class _QuietRequestHandler(WSGIRequestHandler):
    # Werkzeug would otherwise attach its own handler to the "werkzeug" logger and print one
    # line per request into every test run.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


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
