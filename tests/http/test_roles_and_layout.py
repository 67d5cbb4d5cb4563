"""Who may open what, the headers every page carries, the health check and the admin pages."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import AuditEvent, User
from tests.conftest import WebClient

ROLE_ACCESS = {
    "cashier": {"/bills/": 200, "/cashins/": 403, "/admin/users": 403, "/admin/audit": 403},
    "accountant": {"/bills/": 200, "/cashins/": 200, "/admin/users": 403, "/admin/audit": 403},
    "admin": {"/bills/": 200, "/cashins/": 200, "/admin/users": 200, "/admin/audit": 200},
}


def test_every_role_reaches_exactly_its_pages(app: Flask, staff: dict[str, User]) -> None:
    for role, pages in ROLE_ACCESS.items():
        web = WebClient(app.test_client())
        web.login(f"{role}@example.com")
        for url, expected in pages.items():
            response = web.get(url)
            assert response.status_code == expected, (role, url)
            if expected == 403:
                assert "You cannot open this page" in response.get_data(as_text=True)


def test_security_headers(web: WebClient, staff: dict[str, User]) -> None:
    response = web.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere


def test_secure_cookie_outside_development(make_app: object) -> None:
    app = make_app(DEPLOYMENT="staging")  # type: ignore[operator]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_healthz_checks_the_database_and_the_periodic_tasks(app: Flask, web: WebClient) -> None:
    from datetime import timedelta

    from dashboard.background import periodic
    from dashboard.db import db, utcnow

    # No worker ever ran: pages work, but nothing checks bills or sends e-mails.
    response = web.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["background"] == "stale"
    with app.app_context():
        [(name, period)] = [c for c in periodic.claim_due() if c[0] == "end_idle_displays"][:1]
        periodic.run(name, period)
    assert web.get("/healthz").get_json()["status"] == "ok"
    with app.app_context():
        for row in periodic.states():
            if row.last_run_at is not None:
                row.last_run_at = utcnow() - timedelta(minutes=5, seconds=1)
        db.session.commit()
    assert web.get("/healthz").get_json()["status"] == "degraded"


def test_unknown_page_is_a_friendly_404(web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com")
    response = web.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_admin_adds_a_cashier_who_can_log_in(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    response = web.post(
        "/admin/users",
        {
            "email": "New.Person@Example.com",
            "name": "New Person",
            "role": "cashier",
            "password": "a-long-password",
        },
    )
    assert response.status_code == 302
    web.logout()
    assert web.login("new.person@example.com", "a-long-password").status_code == 302
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "user.created", AuditEvent.actor_label == "admin@example.com"
            )
        ).one()
    assert "new.person@example.com" in event.summary


def test_admin_form_errors_are_shown_at_the_field(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    cases = [
        (
            {"email": "not-an-email", "name": "X", "role": "cashier", "password": "long-enough-pw"},
            "valid e-mail",
        ),
        (
            {
                "email": "cashier@example.com",
                "name": "X",
                "role": "cashier",
                "password": "long-enough-pw",
            },
            "already has this e-mail",
        ),
        (
            {"email": "x@example.com", "name": "X", "role": "cashier", "password": "short"},
            "at least 10 characters",
        ),
        (
            {"email": "x@example.com", "name": "", "role": "cashier", "password": "long-enough-pw"},
            "Enter the person",
        ),
    ]
    for data, message in cases:
        response = web.post("/admin/users", data)
        assert response.status_code == 400, data
        page = response.get_data(as_text=True)
        assert message in page, data
        assert "data-field-error" in page
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 4  # nothing created


def test_last_admin_cannot_be_demoted_or_deactivated(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    admin_id = staff["admin"].id
    response = web.post(f"/admin/users/{admin_id}/role", {"role": "cashier"}, follow_redirects=True)
    assert "last active admin" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin_id).role == "admin"  # type: ignore[union-attr]


def test_admin_deactivates_a_cashier(app: Flask, web: WebClient, staff: dict[str, User]) -> None:
    web.login("admin@example.com")
    response = web.post(
        f"/admin/users/{staff['cashier'].id}/active", {"active": "0"}, follow_redirects=True
    )
    assert "is now inactive" in response.get_data(as_text=True)
    other = WebClient(app.test_client())
    assert other.login("cashier@example.com").status_code == 401


def test_audit_trail_lists_and_filters(web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com", "wrong-password-1")
    web.login("admin@example.com")
    page = web.get("/admin/audit").get_data(as_text=True)
    assert 'data-action="auth.login_failed"' in page and 'data-action="auth.login"' in page
    assert "Sign-in failed" in page and "Signed in" in page
    page = web.get("/admin/audit?who=cashier").get_data(as_text=True)
    assert 'data-action="auth.login_failed"' in page
    assert "admin@example.com</td>" not in page
