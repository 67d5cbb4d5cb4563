"""A live dashboard (and the sandbox gateway) on loopback, driven by Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
# Every wait on a page has a bound of its own, well under the suite's per-test timeout.
PAGE_TIMEOUT_MS = 15_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
    if CHROMIUM.exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install -y chromium)")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "permissions": ["clipboard-read", "clipboard-write"],
        "locale": "en-GB",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture()
def page(page: Page) -> Page:
    """pytest-playwright's page, with every action, wait and navigation bounded."""
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    return page


def settle(page: Page, expression: str, timeout_ms: int = 5_000) -> Any:
    """The value of a JavaScript expression that may be a promise (a clipboard read, an event),
    or a failure after ``timeout_ms``: Playwright's ``evaluate`` itself waits for ever."""
    return page.evaluate(
        """([source, ms]) => Promise.race([
            Promise.resolve().then(() => (0, eval)(source)),
            new Promise((_, reject) => setTimeout(
                () => reject(new Error(`no answer within ${ms} ms: ${source}`)), ms)),
        ])""",
        [expression, timeout_ms],
    )


def let_go(page: Page) -> None:
    """Close a second page without waiting for Chromium to confirm: a plain ``close()`` right
    after a navigation once waited for ever (CI, 2026-12-07); the browser context ends it."""
    page.close(run_before_unload=True)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["PUBLIC_URL"] = self.url  # where the sandbox's payer page sends people back
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture()
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture()
def make_live_server(make_app: Callable[..., Flask]) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def factory(**overrides: Any) -> LiveServer:
        server = LiveServer(make_app(**overrides))
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
