"""Partial updates when the session is gone: the page goes to the login form, not into a div."""

from __future__ import annotations

from typing import Any

from flask import Flask

from dashboard.models import User
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill


def test_poll_after_idle_timeout_redirects_the_whole_page(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web)
    bill = only_bill(app)
    with web.client.session_transaction() as session:
        session["last_seen"] = session["last_seen"] - 31 * 60
    response = web.get(f"/bills/{bill.id}/status", headers={"HX-Request": "true", "X-Poll": "1"})
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]
    assert response.get_data(as_text=True) == ""


def test_htmx_request_without_session_gets_hx_redirect(app: Flask) -> None:
    response = app.test_client().get("/bills/1/status", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]
