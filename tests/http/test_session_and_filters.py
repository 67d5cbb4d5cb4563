"""Small things people hit: a form sent after the session ended, keeping the session alive,
a date range the wrong way round, the print pages' icon."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from dashboard.models import Role, User
from tests.conftest import PASSWORD, WebClient
from tests.http import test_bills as bills


def idle_out(web: WebClient) -> None:
    web.csrf()  # read off a page while the session is alive, as the open form had it
    with web.client.session_transaction() as session:
        session["last_seen"] = session["last_seen"] - 31 * 60


def unsent_fields(page: str) -> dict[str, str] | None:
    found = re.search(r'data-unsent-form="([^"]*)"', page)
    return json.loads(html.unescape(found.group(1))) if found else None


def test_a_form_sent_after_the_session_ended_is_kept_for_after_login(
    make_app: Callable[..., Flask], make_user: Callable[..., User], sandbox: Any
) -> None:
    app = make_app(IDLE_TIMEOUT_MINUTES=30)
    make_user(Role.CASHIER)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    data = {**bills.GOOD, "form_token": bills.new_form_token(web), "description": "Rice, 2 bags"}
    idle_out(web)
    response = web.post("/bills/new", data, headers={"Referer": "http://localhost/bills/new"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/bills/new")
    login_page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "The form you sent was not saved." in login_page
    assert bills.bill_count(app) == 0

    web._csrf = None  # the ended session took its CSRF token along; the login page has a new one
    after = web.post(
        "/login",
        {"email": "cashier@example.com", "password": PASSWORD, "next": "/bills/new"},
    )
    assert after.headers["Location"] == "/bills/new"
    page = web.get("/bills/new").get_data(as_text=True)
    assert "Your session had ended, so this form was not sent." in page
    fields = unsent_fields(page)
    assert fields is not None
    assert fields["description"] == "Rice, 2 bags" and fields["amount"] == "20 000"
    # Never a secret or a one-time token; and filled in once only.
    assert not {"csrf_token", "form_token", "password"} & set(fields)
    assert unsent_fields(web.get("/bills/new").get_data(as_text=True)) is None


def test_kept_form_is_only_for_the_person_who_typed_it(
    make_app: Callable[..., Flask], make_user: Callable[..., User], sandbox: Any
) -> None:
    app = make_app(IDLE_TIMEOUT_MINUTES=30)
    make_user(Role.CASHIER)
    make_user(Role.CASHIER, email="other@example.com")
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    data = {**bills.GOOD, "form_token": bills.new_form_token(web)}
    idle_out(web)
    web.post("/bills/new", data, headers={"Referer": "http://localhost/bills/new"})
    web._csrf = None
    web.post("/login", {"email": "other@example.com", "password": PASSWORD, "next": ""})
    assert unsent_fields(web.get("/bills/new").get_data(as_text=True)) is None


def test_keep_alive_answers_while_signed_in_and_not_after(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(IDLE_TIMEOUT_MINUTES=30)
    make_user(Role.CASHIER)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    page = web.get("/bills/").get_data(as_text=True)
    assert 'data-idle-seconds="1800"' in page and "Stay signed in" in page
    assert web.post("/session/keep-alive").status_code == 204
    idle_out(web)
    assert web.post("/session/keep-alive").status_code == 302


def test_a_date_range_the_wrong_way_round_says_so(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    bills.issue(web)
    page = web.get("/bills/?from=2026-12-10&to=2026-12-01").get_data(as_text=True)
    assert "The end date is before the start date, so the dates are not applied." in page
    assert 'data-field-error="to"' in page
    assert "1 bill " in page
    page = web.get("/bills/?from=2026-31-12").get_data(as_text=True)
    assert 'data-field-error="from"' in page and "Enter a date like 2026-11-29." in page
    page = web.get("/bills/?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "0 bills" in page and "data-field-error" not in page


def test_print_pages_have_the_icon(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("accountant@example.com")
    bills.issue(web)
    slip = web.get("/bills/1/slip").get_data(as_text=True)
    assert re.search(r'<link rel="icon" href="/assets/favicon\.[0-9a-f]+\.svg"', slip)


def test_a_form_sent_after_the_session_was_ended_elsewhere_says_it_was_not_saved(
    make_app: Callable[..., Flask], make_user: Callable[..., User], sandbox: Any
) -> None:
    app = make_app()
    user = make_user(Role.CASHIER)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    data = {**bills.GOOD, "form_token": bills.new_form_token(web)}
    web.csrf()
    with app.app_context():  # an admin sets a new password: every open session ends
        from dashboard.db import db

        person = db.session.get(User, user.id)
        assert person is not None
        person.set_password("another long password 42")
        db.session.commit()
    response = web.post("/bills/new", data, headers={"Referer": "http://localhost/bills/new"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/bills/new")
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "The form you sent was not saved." in page
    assert bills.bill_count(app) == 0
