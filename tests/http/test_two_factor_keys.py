"""Two-factor enrolment keys (issue 15, row 5): the password before any key, a new key for each
attempt (none survives a logout or a new password), and secrets sealed at rest with a key of
their own, existing ones sealed by the migration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, text

from dashboard import create_app
from dashboard.auth import services, twofactor
from dashboard.auth.sealing import SealBroken, seal, unseal
from dashboard.db import db
from dashboard.models import Role, User
from tests.conftest import WebClient, _test_config
from tests.http.test_two_factor import (
    SECRET_ON_PAGE,
    code_for,
    events,
    log_in_with_code,
    new_key,
    step_now,
)


def stored(app: Flask, email: str) -> tuple[str | None, str | None]:
    """The two secret columns exactly as the database holds them."""
    with app.app_context():
        row = db.session.execute(
            text("SELECT totp_secret, totp_pending_secret FROM users WHERE email = :e"),
            {"e": email},
        ).one()
        return row[0], row[1]


def test_no_key_is_shown_without_the_password(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("accountant@example.com")
    page = web.get("/account/two-factor").get_data(as_text=True)
    assert SECRET_ON_PAGE.search(page) is None and "data:image/svg+xml" not in page
    assert 'name="password"' in page
    wrong = web.post("/account/two-factor/start", {"password": "not the password"})
    assert wrong.status_code == 401
    assert SECRET_ON_PAGE.search(wrong.get_data(as_text=True)) is None
    assert 'data-field-error="password"' in wrong.get_data(as_text=True)
    assert stored(app, "accountant@example.com") == (None, None)
    assert len(events(app, "auth.code_failed")) == 1  # counted like a wrong code
    # A stolen session cannot bind its own authenticator with a code alone either.
    secret = pyotp.random_base32()
    refused = web.post("/account/two-factor", {"code": code_for(secret, step_now())})
    assert refused.status_code == 400
    assert stored(app, "accountant@example.com")[0] is None


def test_each_attempt_gets_a_new_key_and_none_survives_a_logout_or_a_new_password(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("accountant@example.com")
    first = new_key(web)
    second = new_key(web)
    assert first != second
    # The first attempt's key is no longer accepted.
    stale = web.post("/account/two-factor", {"code": code_for(first, step_now())})
    assert stale.status_code == 400
    web.logout()
    web.login("accountant@example.com")
    assert stored(app, "accountant@example.com") == (None, None)  # the logout ended it
    third = new_key(web)
    assert third not in (first, second)
    # An admin sets a new password: the key shown before is dead too.
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "accountant@example.com"))
        services.set_password(user, "another long passphrase 42", by_label="test")  # type: ignore[arg-type]
    assert stored(app, "accountant@example.com") == (None, None)
    web = WebClient(app.test_client())
    web.login("accountant@example.com", "another long passphrase 42")
    late = web.post("/account/two-factor", {"code": code_for(third, step_now())})
    assert late.status_code == 400
    fourth = new_key(web, "another long passphrase 42")
    done = web.post("/account/two-factor", {"code": code_for(fourth, step_now())})
    assert done.status_code == 200 and "recovery-codes" in done.get_data(as_text=True)


def test_secrets_are_sealed_at_rest_with_a_key_of_their_own(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app()
    make_user(Role.ACCOUNTANT)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    secret = new_key(web)
    pending = stored(app, "accountant@example.com")[1]
    assert pending is not None and secret not in pending
    web.post("/account/two-factor", {"code": code_for(secret, step_now() - 1)})
    sealed, pending = stored(app, "accountant@example.com")
    assert sealed is not None and pending is None
    assert secret not in sealed and secret.lower() not in sealed.lower()
    assert unseal(sealed, app.config) == secret
    # Not the session key: another SECRET_KEY cannot open it; TOTP_KEY, when set, is the key.
    with pytest.raises(SealBroken):
        unseal(sealed, {"SECRET_KEY": "another-secret"})
    with pytest.raises(SealBroken):
        unseal(sealed, {"SECRET_KEY": app.config["SECRET_KEY"], "TOTP_KEY": "own key"})
    own = seal(secret, {"SECRET_KEY": "x", "TOTP_KEY": "own key"})
    assert unseal(own, {"SECRET_KEY": "y", "TOTP_KEY": "own key"}) == secret
    # The sealed secret still logs in.
    web = WebClient(app.test_client())
    assert (
        log_in_with_code(web, "accountant@example.com", code_for(secret, step_now())).status_code
        == 302
    )


def test_a_secret_that_cannot_be_opened_refuses_codes_without_an_error(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app()
    make_user(Role.ACCOUNTANT)
    from tests.http.test_two_factor import enrol

    secret, _codes = enrol(app, "accountant@example.com")
    moved = make_app(TOTP_KEY="a key set after enrolling")  # the same database
    web = WebClient(moved.test_client())
    refused = log_in_with_code(web, "accountant@example.com", code_for(secret, step_now()))
    assert refused.status_code == 401


def test_the_migration_seals_secrets_stored_as_issued(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "old.sqlite3")
    app = create_app(_test_config(url, "http://127.0.0.1:9/"))
    secret, pending = pyotp.random_base32(), pyotp.random_base32()
    with app.app_context():
        upgrade(revision="b15a00000001")  # before secrets were sealed
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, name, role, active, password_hash, login_nonce,"
                    " created_at, totp_secret, totp_pending_secret)"
                    " VALUES ('a@example.com', 'A', 'admin', 1, 'x', 'n', '2026-01-01',"
                    " :secret, :pending)"
                ),
                {"secret": secret, "pending": pending},
            )
        upgrade()
        sealed, sealed_pending = stored(app, "a@example.com")
        assert sealed is not None and sealed_pending is not None
        assert secret not in sealed and pending not in sealed_pending
        assert unseal(sealed) == secret and unseal(sealed_pending) == pending
        user = db.session.scalar(select(User).where(User.email == "a@example.com"))
        assert user is not None
        assert twofactor._check_code(user, code_for(secret, step_now())) == "totp"
        db.session.remove()
        db.engine.dispose()
