"""Logging in and out, as a person does it through the test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import AuditEvent, Role, Throttle, User
from tests.conftest import PASSWORD, WebClient


def test_pages_need_login(web: WebClient) -> None:
    for url in ["/bills/", "/cashins/", "/admin/users", "/admin/audit"]:
        response = web.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_login_shows_name_and_role_navigation(web: WebClient, staff: dict[str, User]) -> None:
    response = web.login("cashier@example.com", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Test Cashier" in page
    assert ">Bills<" in page
    assert ">Cash-ins<" not in page
    assert ">Staff<" not in page

    web.logout()
    page = web.login("admin@example.com", follow_redirects=True).get_data(as_text=True)
    assert ">Cash-ins<" in page and ">Staff<" in page and ">Audit trail<" in page


def test_wrong_password_is_refused_and_recorded(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    response = web.login("cashier@example.com", "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert web.get("/bills/").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "auth.login_failed" in actions


def test_inactive_user_cannot_log_in(
    app: Flask, web: WebClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CASHIER)
    from dashboard.auth import services

    with app.app_context():
        services.set_active(db.session.get(User, user.id), False, by_label="test")  # type: ignore[arg-type]
    response = web.login("cashier@example.com")
    assert response.status_code == 401
    assert web.get("/bills/").status_code == 302


def test_deactivation_ends_open_sessions(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    assert web.get("/bills/").status_code == 200
    from dashboard.auth import services

    with app.app_context():
        services.set_active(db.session.get(User, staff["cashier"].id), False, by_label="t")  # type: ignore[arg-type]
    assert web.get("/bills/").status_code == 302


def client_from(app: Flask, address: str) -> WebClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return WebClient(client)


def wait_seconds(app: Flask, seconds: float) -> None:
    """Let time pass for the throttle: every recorded login attempt moves into the past."""
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            event.created_at -= timedelta(seconds=seconds)
        for row in db.session.scalars(select(Throttle)):
            row.last_at -= timedelta(seconds=seconds)
        db.session.commit()


def wait_shown(response: Any) -> int:
    match = re.search(r"Wait (\d+) seconds? and try again", response.get_data(as_text=True))
    assert match, "no wait shown"
    return int(match.group(1))


def test_failed_logins_delay_the_next_try_more_and_more(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    # A first delay of a minute, so a slow machine cannot outrun it between two requests.
    app = make_app(LOGIN_FREE_FAILURES=3, LOGIN_FIRST_DELAY_SECONDS=60)
    make_user(Role.CASHIER)
    web = client_from(app, "203.0.113.9")
    for _ in range(3):
        assert web.login("cashier@example.com", "wrong-password").status_code == 401
    response = web.login("cashier@example.com")  # the right password, but too soon
    assert response.status_code == 429
    assert 50 < wait_shown(response) <= 60
    wait_seconds(app, 60)
    assert web.login("cashier@example.com", "wrong-password").status_code == 401
    assert 110 < wait_shown(web.login("cashier@example.com")) <= 120  # doubled
    wait_seconds(app, 120)
    assert web.login("cashier@example.com").status_code == 302  # a delay, never a lock-out


def test_an_address_that_logged_in_before_gets_more_tries(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(LOGIN_FREE_FAILURES=3, LOGIN_FREE_FAILURES_KNOWN_ADDRESS=6)
    make_user(Role.CASHIER)
    shop = client_from(app, "198.51.100.7")
    assert shop.login("cashier@example.com").status_code == 302
    shop.logout()
    for _ in range(5):
        assert shop.login("cashier@example.com", "wrong-password").status_code == 401
    assert shop.login("cashier@example.com").status_code == 302


def test_many_accounts_tried_from_one_address_slow_its_new_tries_only(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(LOGIN_FAILURES_PER_ADDRESS=3, LOGIN_FIRST_DELAY_SECONDS=60)
    make_user(Role.CASHIER)
    make_user(Role.ACCOUNTANT)
    shop = client_from(app, "198.51.100.7")
    assert shop.login("cashier@example.com").status_code == 302  # the cashier works here
    shop.logout()
    for n in range(3):
        assert shop.login(f"nobody{n}@example.com", "whatever-password").status_code == 401
    # Somebody new at this address waits a little; the cashier, known here, does not.
    response = shop.login("accountant@example.com")
    assert response.status_code == 429
    assert "Too many failed attempts from here" in response.get_data(as_text=True)
    assert shop.login("cashier@example.com").status_code == 302


def test_next_is_followed_only_on_this_site(web: WebClient, staff: dict[str, User]) -> None:
    response = web.post(
        "/login", {"email": "admin@example.com", "password": PASSWORD, "next": "/admin/audit"}
    )
    assert response.headers["Location"].endswith("/admin/audit")
    web.logout()
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = web.post(
            "/login", {"email": "admin@example.com", "password": PASSWORD, "next": evil}
        )
        assert "evil" not in response.headers["Location"], evil
        web.logout()


def test_post_without_csrf_token_is_refused(web: WebClient, staff: dict[str, User]) -> None:
    response = web.client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert web.get("/bills/").status_code == 302


def test_idle_session_expires(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(IDLE_TIMEOUT_MINUTES=30)
    make_user(Role.CASHIER)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    assert web.get("/bills/").status_code == 200
    with web.client.session_transaction() as session:
        session["last_seen"] = session["last_seen"] - 31 * 60
    response = web.get("/bills/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logout_is_recorded(app: Flask, web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com")
    web.logout()
    assert web.get("/bills/").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["auth.login", "auth.logout"]
