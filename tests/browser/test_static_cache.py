"""A repeat visit costs no request for a static file: hashed names, cached for a year."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_bill_flow import issue_bill, the_bill
from tests.browser.test_login_flow import log_in


def count_static_requests(server: LiveServer) -> list[str]:
    """Record, on the server side, every request for a static file (hashed or not)."""
    seen: list[str] = []
    inner = server.app.wsgi_app

    def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/assets/", "/static/")) or path == "/favicon.ico":
            seen.append(path)
        return inner(environ, start_response)

    server.app.wsgi_app = counting  # type: ignore[method-assign]
    return seen


def test_repeat_visit_to_a_bill_page_requests_no_static_file(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "cashier@example.com")
    issue_bill(page, live_server)
    bill_url = f"{live_server.url}/bills/{the_bill(live_server.app).id}"
    page.goto(live_server.url + "/bills/")  # the list's own script, fetched once here
    page.wait_for_load_state("networkidle")
    seen = count_static_requests(live_server)
    page.goto(bill_url)
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")

    # Elsewhere, then back to the bill page: every file is in the browser's cache.
    page.goto(live_server.url + "/bills/")
    page.goto(bill_url)
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")
    page.reload()
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")
    page.wait_for_load_state("networkidle")
    assert seen == []
    # The page is still styled and scripted from the cache (Bootstrap's CSS, app.js ran).
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
    assert page.evaluate("document.body.classList.contains('js')")


def test_first_visit_fetches_each_static_file_once(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    seen = count_static_requests(live_server)
    log_in(page, live_server, "cashier@example.com")
    page.wait_for_load_state("networkidle")
    assert any(p.startswith("/assets/vendor/bootstrap/bootstrap.") for p in seen)
    assert any(p.startswith("/assets/js/app.") for p in seen)
    assert len(seen) == len(set(seen))
