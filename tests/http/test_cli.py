"""`flask user ...` and `flask bills ...`, through Click's runner as an operator types them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import AuditEvent, User
from tests.conftest import WebClient


def run(app: Flask, *args: str, input: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result.exit_code, result.output


def test_user_create_list_set_password_deactivate(app: Flask) -> None:
    code, out = run(
        app,
        "user",
        "create",
        "--email",
        "Ana@Shop.bi",
        "--name",
        "Ana",
        "--role",
        "accountant",
        "--password",
        "first-password",
    )
    assert code == 0 and "Created ana@shop.bi (accountant)" in out
    code, out = run(app, "user", "list")
    assert "ana@shop.bi\tAna\taccountant\tactive" in out
    web = WebClient(app.test_client())
    assert web.login("ana@shop.bi", "first-password").status_code == 302

    code, out = run(
        app,
        "user",
        "set-password",
        "--email",
        "ana@shop.bi",
        input="second-password\nsecond-password\n",
    )
    assert code == 0 and "Password of ana@shop.bi changed" in out
    assert web.get("/cashins/").status_code == 302  # the old session ended with the change
    assert WebClient(app.test_client()).login("ana@shop.bi", "second-password").status_code == 302

    code, out = run(app, "user", "deactivate", "--email", "ana@shop.bi")
    assert code == 0
    assert WebClient(app.test_client()).login("ana@shop.bi", "second-password").status_code == 401
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_label == "cli")
        ).all()
    assert actions == ["user.created", "user.password_changed", "user.deactivated"]


def test_user_create_refuses_bad_input_clearly(app: Flask) -> None:
    code, out = run(
        app,
        "user",
        "create",
        "--email",
        "nope",
        "--name",
        "X",
        "--role",
        "cashier",
        "--password",
        "long-password",
    )
    assert code != 0 and "valid e-mail" in out
    code, out = run(
        app,
        "user",
        "create",
        "--email",
        "x@shop.bi",
        "--name",
        "X",
        "--role",
        "cashier",
        "--password",
        "short",
    )
    assert code != 0 and "at least 10 characters" in out
    code, out = run(app, "user", "deactivate", "--email", "ghost@shop.bi")
    assert code != 0 and "No account" in out
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_ensure_admin_prints_a_password_once(app: Flask) -> None:
    code, out = run(app, "user", "ensure-admin")
    assert code == 0 and "shown only once" in out
    password = out.split("password:")[1].split()[0]
    code, again = run(app, "user", "ensure-admin")
    assert code == 0 and "exists already" in again and password not in again
    assert WebClient(app.test_client()).login("admin@example.com", password).status_code == 302


def test_unexpected_error_is_a_friendly_500_and_rolls_back(make_app: object) -> None:
    app = make_app()  # type: ignore[operator]

    @app.get("/boom")
    def boom() -> str:
        db.session.add(User(email="half@saved.bi", name="Half", role="cashier", password_hash="x"))
        db.session.flush()
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []
