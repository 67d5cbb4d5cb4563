"""Two-factor sign-in through the test client: enrolment, the code step, recovery codes,
replays, throttling, admins' reset and rules, the money guard, and the CLI."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from dashboard.auth import twofactor
from dashboard.config import Config
from dashboard.db import db
from dashboard.messages import render as render_message
from dashboard.models import AuditEvent, CashinState, RecoveryCode, User
from tests.conftest import PASSWORD, WebClient
from tests.http.test_cashins import cashins, prepare, received, token_on

SECRET_ON_PAGE = re.compile(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<')


def step_now() -> int:
    return int(time.time() // twofactor.STEP_SECONDS)


def code_for(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def enrol(app: Flask, email: str) -> tuple[str, list[str]]:
    """Turn two-factor on for a person the way the page does, with last step's code, so this
    step's and the next step's codes are still unused; returns the secret and recovery codes."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        secret = twofactor.start_enrolment(user)
        codes = twofactor.confirm_enrolment(user, code_for(secret, step_now() - 1))
        return secret, codes


def new_key(web: WebClient, password: str = PASSWORD, next_url: str | None = None) -> str:
    """Ask for a key on the two-factor page the way a person does: the password first."""
    address = "/account/two-factor/start" + (f"?next={next_url}" if next_url else "")
    page = web.post(address, {"password": password})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    match = SECRET_ON_PAGE.search(page.get_data(as_text=True))
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def send_code(web: WebClient, code: str, **kwargs: Any) -> Any:
    response = web.post("/login/code", {"code": code}, **kwargs)
    if response.status_code == 302:
        web._csrf = None  # logged in: a new session, with a new token
    return response


def log_in_with_code(web: WebClient, email: str, code: str) -> Any:
    first = web.login(email)
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/code")
    web._csrf = None
    return send_code(web, code)


def test_enrol_from_the_page_shows_qr_secret_then_ten_codes_once(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("accountant@example.com")
    page = web.get("/account/two-factor")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert SECRET_ON_PAGE.search(page.get_data(as_text=True)) is None  # the password first
    start = web.post("/account/two-factor/start", {"password": PASSWORD})
    assert 'src="data:image/svg+xml' in start.get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(start.get_data(as_text=True)).group(1).replace(" ", "")  # type: ignore[union-attr]
    # A wrong code is refused next to the field, and nothing is turned on.
    wrong = web.post("/account/two-factor", {"code": "000000"})
    assert wrong.status_code == 400
    assert 'data-field-error="code"' in wrong.get_data(as_text=True)
    assert secret in wrong.get_data(as_text=True).replace(" ", "")  # the same secret again
    done = web.post("/account/two-factor", {"code": code_for(secret, step_now())})
    shown = done.get_data(as_text=True)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", shown)
    assert len(set(codes)) == 10
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never as typed
    # Still logged in here (this session was kept), and the codes are never shown again.
    again = web.get("/account/two-factor").get_data(as_text=True)
    assert "Two-factor sign-in is on" in again and codes[0] not in again
    assert "10 unused recovery codes left." in again
    assert len(events(app, "user.two_factor_enabled")) == 1


def test_enrolling_ends_other_sessions(app: Flask, web: WebClient, staff: dict[str, User]) -> None:
    other = WebClient(app.test_client())
    other.login("accountant@example.com")
    assert other.get("/bills/").status_code == 200
    web.login("accountant@example.com")
    secret = new_key(web)
    web.post("/account/two-factor", {"code": code_for(secret, step_now())})
    assert other.get("/bills/").status_code == 302
    assert web.get("/bills/").status_code == 200


def test_password_alone_grants_no_page_and_the_code_finishes_the_login(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    secret, _ = enrol(app, "accountant@example.com")
    first = web.login("accountant@example.com")
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/code")
    for url in ["/", "/bills/", "/cashins/", "/account/two-factor"]:
        response = web.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert events(app, "auth.login") == []  # the password step is not a login
    web._csrf = None
    done = send_code(web, code_for(secret, step_now()))
    assert done.status_code == 302
    assert web.get("/cashins/").status_code == 200
    logins = events(app, "auth.login")
    assert len(logins) == 1 and "audit.logged_in_2fa" in logins[0].summary
    with app.test_request_context():
        assert "two-factor (totp)" in render_message(logins[0].summary)


def test_a_code_cannot_be_replayed_within_its_window(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    secret, _ = enrol(app, "accountant@example.com")
    code = code_for(secret, step_now())
    assert log_in_with_code(web, "accountant@example.com", code).status_code == 302
    web.logout()
    replay = log_in_with_code(web, "accountant@example.com", code)
    assert replay.status_code == 401
    assert "wrong or was already used" in html.unescape(replay.get_data(as_text=True))
    assert web.get("/bills/").status_code == 302
    # An older code of the window is refused too; a code too far ahead as well.
    older = send_code(web, code_for(secret, step_now() - 1))
    assert older.status_code == 401
    assert send_code(web, code_for(secret, step_now() + 3)).status_code == 401


def test_a_recovery_code_works_once(app: Flask, web: WebClient, staff: dict[str, User]) -> None:
    _, codes = enrol(app, "accountant@example.com")
    done = log_in_with_code(web, "accountant@example.com", codes[3].upper().replace("-", " "))
    assert done.status_code == 302
    page = web.get("/").get_data(as_text=True)
    assert "You used a recovery code; 9 are left." in page
    web.logout()
    again = log_in_with_code(web, "accountant@example.com", codes[3])
    assert again.status_code == 401
    assert len(events(app, "auth.recovery_code_used")) == 1


def test_wrong_codes_are_throttled_like_passwords(
    make_app: Callable[..., Flask], staff_factory: Callable[[Flask], None]
) -> None:
    app = make_app(LOGIN_FREE_FAILURES=2, LOGIN_FIRST_DELAY_SECONDS=60)
    staff_factory(app)
    secret, _ = enrol(app, "accountant@example.com")
    web = WebClient(app.test_client())
    assert log_in_with_code(web, "accountant@example.com", "111111").status_code == 401
    assert send_code(web, "222222").status_code == 401
    throttled = send_code(web, code_for(secret, step_now()))  # even the right one, now
    assert throttled.status_code == 429
    assert "Too many wrong codes. Wait" in throttled.get_data(as_text=True)
    assert web.get("/bills/").status_code == 302
    # From another address (another browser) the account's code step waits as well.
    elsewhere = WebClient(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    blocked = log_in_with_code(elsewhere, "accountant@example.com", code_for(secret, step_now()))
    assert blocked.status_code == 429
    assert len(events(app, "auth.code_failed")) == 2
    assert len(events(app, "auth.code_throttled")) == 2


@pytest.fixture()
def staff_factory() -> Callable[[Flask], None]:
    from dashboard.auth import services

    def make(app: Flask) -> None:
        with app.app_context():
            services.create_user(
                "accountant@example.com", "Test Accountant", "accountant", PASSWORD
            )
            services.create_user("admin@example.com", "Test Admin", "admin", PASSWORD)

    return make


def test_the_code_step_expires(
    make_app: Callable[..., Flask], staff_factory: Callable[[Flask], None]
) -> None:
    app = make_app(TWO_FACTOR_CODE_STEP_MINUTES=0)
    staff_factory(app)
    secret, _ = enrol(app, "accountant@example.com")
    web = WebClient(app.test_client())
    late = log_in_with_code(web, "accountant@example.com", code_for(secret, step_now()))
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert web.get("/bills/").status_code == 302


def test_turning_off_needs_password_and_code(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    secret, _ = enrol(app, "accountant@example.com")
    log_in_with_code(web, "accountant@example.com", code_for(secret, step_now()))
    wrong = web.post(
        "/account/two-factor/disable", {"password": "nope", "code": code_for(secret, step_now())}
    )
    assert wrong.status_code == 401 and "Wrong password." in wrong.get_data(as_text=True)
    replay = web.post(
        "/account/two-factor/disable", {"password": PASSWORD, "code": code_for(secret, step_now())}
    )
    assert replay.status_code == 401  # the login used this code already
    off = web.post(
        "/account/two-factor/disable",
        {"password": PASSWORD, "code": code_for(secret, step_now() + 1)},
    )
    assert off.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "accountant@example.com"))
        assert user is not None and user.totp_secret is None
        assert db.session.scalars(select(RecoveryCode)).all() == []
    assert web.get("/bills/").status_code == 200  # this session stays
    assert len(events(app, "user.two_factor_disabled")) == 1
    web.logout()
    assert web.login("accountant@example.com").headers["Location"].endswith("/")


def test_admin_resets_two_factor_audited_and_sessions_end(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    secret, _ = enrol(app, "accountant@example.com")
    victim = WebClient(app.test_client())
    log_in_with_code(victim, "accountant@example.com", code_for(secret, step_now()))
    assert victim.get("/bills/").status_code == 200
    accountant_id = staff["accountant"].id
    # Only admins may.
    assert victim.post(f"/admin/users/{accountant_id}/two-factor/reset").status_code == 403
    web.login("admin@example.com")
    assert "Reset two-factor" in web.get("/admin/users").get_data(as_text=True)
    done = web.post(f"/admin/users/{accountant_id}/two-factor/reset", follow_redirects=True)
    assert "was reset" in done.get_data(as_text=True)
    reset = events(app, "user.two_factor_reset")
    assert len(reset) == 1
    assert reset[0].actor_label == "admin@example.com"
    assert reset[0].object_id == str(accountant_id)
    assert victim.get("/bills/").status_code == 302
    assert victim.login("accountant@example.com").headers["Location"].endswith("/")


def test_policy_change_is_stored_and_audited(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    assert web.get("/admin/two-factor").status_code == 403
    web.logout()
    web.login("admin@example.com")
    page = web.get("/admin/two-factor").get_data(as_text=True)
    assert "checked" not in page  # the test configuration requires nobody by default
    saved = web.post("/admin/two-factor", {"accountant": "y"}, follow_redirects=True)
    assert "Two-factor rules saved." in saved.get_data(as_text=True)
    with app.app_context():
        assert twofactor.policies() == {"cashier": False, "accountant": True, "admin": False}
    changes = events(app, "settings.two_factor_policy")
    assert len(changes) == 1 and changes[0].actor_label == "admin@example.com"
    assert changes[0].details == {"accountant": {"old": False, "new": True}}
    same = web.post("/admin/two-factor", {"accountant": "y"}, follow_redirects=True)
    assert "Nothing changed." in same.get_data(as_text=True)
    assert len(events(app, "settings.two_factor_policy")) == 1


def test_default_rule_requires_accountants_and_admins(
    make_app: Callable[..., Flask],
) -> None:
    assert Config.TWO_FACTOR_DEFAULT_REQUIRED_ROLES == ("accountant", "admin")
    app = make_app(TWO_FACTOR_DEFAULT_REQUIRED_ROLES=Config.TWO_FACTOR_DEFAULT_REQUIRED_ROLES)
    with app.app_context():
        assert twofactor.policies() == {"cashier": False, "accountant": True, "admin": True}


def test_accountant_without_two_factor_cannot_send_money_when_required(
    make_app: Callable[..., Flask], sandbox: Any
) -> None:
    app = make_app(TWO_FACTOR_DEFAULT_REQUIRED_ROLES=Config.TWO_FACTOR_DEFAULT_REQUIRED_ROLES)
    from dashboard.auth import services

    with app.app_context():
        services.create_user("accountant@example.com", "Test Accountant", "accountant", PASSWORD)
    web = WebClient(app.test_client())
    assert web.login("accountant@example.com").status_code == 302  # logging in still works
    prepare(web)
    cashin_url = f"/cashins/{cashins(app)[0].id}"
    send_token = token_on(web, cashin_url, "send_token")
    refused = web.post(cashin_url + "/confirm", {"send_token": send_token})
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith("/account/two-factor?next=" + cashin_url)
    page = web.get(refused.headers["Location"]).get_data(as_text=True)
    assert "must use two-factor sign-in before sending money" in page
    assert cashins(app)[0].state == CashinState.DRAFT and received(sandbox) == []
    # Enrol, then the same review page sends.
    secret = new_key(web, next_url=cashin_url)
    web.post("/account/two-factor", {"code": code_for(secret, step_now())})
    sent = web.post(cashin_url + "/confirm", {"send_token": send_token}, follow_redirects=True)
    assert "Sent." in sent.get_data(as_text=True)
    assert len(received(sandbox)) == 1


def test_approving_is_guarded_too(make_app: Callable[..., Flask], sandbox: Any) -> None:
    app = make_app(CASHIN_APPROVAL_THRESHOLD=1000)
    from dashboard.auth import services

    with app.app_context():
        services.create_user("accountant@example.com", "Test Accountant", "accountant", PASSWORD)
        services.create_user("second@example.com", "Second Person", "accountant", PASSWORD)
    maker = WebClient(app.test_client())
    maker.login("accountant@example.com")
    prepare(maker)
    cashin_url = f"/cashins/{cashins(app)[0].id}"
    maker.post(cashin_url + "/confirm", {"send_token": token_on(maker, cashin_url, "send_token")})
    assert cashins(app)[0].state == CashinState.AWAITING_APPROVAL
    with app.app_context():
        admin = services.create_user("boss@example.com", "Boss", "admin", PASSWORD)
        twofactor.set_policies({"accountant"}, by=admin)
    checker = WebClient(app.test_client())
    checker.login("second@example.com")
    refused = checker.post(cashin_url + "/approve")
    assert refused.status_code == 303 and "/account/two-factor" in refused.headers["Location"]
    assert cashins(app)[0].state == CashinState.AWAITING_APPROVAL and received(sandbox) == []


def test_cli_reset_2fa(app: Flask, staff: dict[str, User]) -> None:
    enrol(app, "accountant@example.com")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "reset-2fa", "--email", "accountant@example.com"])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "accountant@example.com"))
        assert user is not None and not user.two_factor_enabled
    reset = events(app, "user.two_factor_reset")
    assert len(reset) == 1 and reset[0].actor_label == "cli"
    missing = runner.invoke(args=["user", "reset-2fa", "--email", "nobody@example.com"])
    assert missing.exit_code != 0 and "No account" in missing.output


def test_code_step_and_enrolment_speak_french(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    french = {"Accept-Language": "fr-BI,fr;q=0.9"}
    secret, _ = enrol(app, "accountant@example.com")
    web.login("accountant@example.com")
    page = html.unescape(web.get("/login/code", headers=french).get_data(as_text=True))
    assert "Code à deux facteurs" in page and "Two-factor code" not in page
    wrong = send_code(web, "000000" if code_for(secret, step_now()) != "000000" else "111111")
    assert wrong.status_code == 401
    web.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = french["Accept-Language"]
    wrong = send_code(web, "000001" if code_for(secret, step_now()) != "000001" else "111112")
    assert "Ce code est erroné ou a déjà servi." in html.unescape(wrong.get_data(as_text=True))


@pytest.mark.parametrize(
    ("configured", "expected"),
    [("accountant,admin", {"accountant", "admin"}), (["cashier"], {"cashier"}), ("", set())],
)
def test_default_rule_from_the_environment(
    make_app: Callable[..., Flask], configured: Any, expected: set[str]
) -> None:
    app = make_app(TWO_FACTOR_DEFAULT_REQUIRED_ROLES=configured)
    with app.app_context():
        assert {role for role, required in twofactor.policies().items() if required} == expected


def test_codes_are_accepted_one_step_either_side_only() -> None:
    secret = pyotp.random_base32()
    now = 1_800_000_000.0
    step = int(now // twofactor.STEP_SECONDS)
    for offset in (-1, 0, 1):
        assert (
            twofactor._matching_step(secret, code_for(secret, step + offset), now) == step + offset
        )
    for offset in (-2, 2):
        assert twofactor._matching_step(secret, code_for(secret, step + offset), now) is None
    assert twofactor._matching_step(secret, "12345", now) is None  # not six digits
