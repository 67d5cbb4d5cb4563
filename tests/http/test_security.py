"""Outside review, security items: redirects, sessions, start-up checks, return URL, exports."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from dashboard.db import db, utcnow
from dashboard.models import AuditEvent, Role, Throttle, User
from tests.conftest import PASSWORD, WebClient

CONTROL_TARGETS = ["/bills/\r\nSet-Cookie: x=1", "/bills/\nX: y", "/bills/\x00", "/bills/\x7f"]


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_control_characters_in_next_after_login_give_a_safe_redirect(
    web: WebClient, staff: dict[str, User], target: str
) -> None:
    response = web.post(
        "/login", {"email": "cashier@example.com", "password": PASSWORD, "next": target}
    )
    if "\x00" in target:  # a NUL anywhere in a request is refused whole (test_fuzz.py)
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # the overview, home for every role
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_control_characters_in_next_of_the_language_switch_give_a_safe_redirect(
    web: WebClient, target: str
) -> None:
    response = web.post("/lang", {"lang": "fr", "next": target})
    if "\x00" in target:
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 303
    assert "\n" not in response.headers["Location"] and "\r" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/")


# --- production start-up (item 10) and the payer's return address (item 12) ------------------

PRODUCTION = {
    "DEPLOYMENT": "production",
    "SECRET_KEY": "k" * 40,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db.internal/dashboard",
    "IHELA_BASE_URL": "https://gate.ihela.example/",
    "IHELA_CLIENT_SECRET": "a-real-secret",
    "PUBLIC_URL": "https://dashboard.shop.example",
}


def _production(**changes: object) -> dict[str, object]:
    config = {**PRODUCTION, **changes}
    return {k: v for k, v in config.items() if v is not None}


def test_production_with_real_settings_is_built() -> None:
    from dashboard import create_app

    assert create_app(_production()).config["DEPLOYMENT"] == "production"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URI"),
        ({"SECRET_KEY": "k" * 31}, "SECRET_KEY"),
        ({"SECRET_KEY": b"k" * 16}, "SECRET_KEY"),
        ({"IHELA_BASE_URL": "http://gate.ihela.example/"}, "IHELA_BASE_URL"),
        ({"IHELA_BASE_URL": "ftp://gate.ihela.example/"}, "IHELA_BASE_URL"),
        ({"PUBLIC_URL": None}, "PUBLIC_URL"),
        ({"PUBLIC_URL": "http://dashboard.shop.example"}, "PUBLIC_URL"),
    ],
)
def test_production_start_up_refuses_unsafe_settings(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, object], named: str
) -> None:
    from dashboard import create_app
    from dashboard.config import ConfigError

    monkeypatch.delenv("DASHBOARD_SQLALCHEMY_DATABASE_URI", raising=False)
    monkeypatch.delenv("DASHBOARD_PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError, match=named):
        create_app(_production(**changes))


@pytest.mark.parametrize("public_url", [None, "", "pay.shop.bi", "/pay", "javascript:alert(1)"])
def test_any_start_up_refuses_a_public_url_that_is_not_an_absolute_address(
    public_url: str | None,
) -> None:
    from dashboard import create_app
    from dashboard.config import ConfigError

    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": public_url})


def test_payer_return_address_comes_from_configuration_not_the_host_header(
    app: Flask, staff: dict[str, User], sandbox: object
) -> None:
    import requests

    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"  # every request, cookies included
    client.environ_base["HTTP_X_FORWARDED_HOST"] = "evil.example"
    web = WebClient(client)
    web.login("cashier@example.com")
    page = web.get("/bills/new").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page)
    assert token
    response = web.post(
        "/bills/new",
        {
            "amount": "20 000",
            "payer_kind": "email",
            "payer": "clientmail@gmail.com",
            "description": "2 bags of rice",
            "bank_slug": "",
            "bank_client_id": "",
            "form_token": token.group(1),
        },
    )
    assert response.status_code == 303
    base = app.config["IHELA_BASE_URL"]
    bills = requests.get(base + "_sandbox/bills", timeout=5).json()["bills"]
    assert len(bills) == 1
    assert bills[0]["redirect_uri"].startswith("http://dashboard.test/pay/return/")


# --- logout ends the session on the server (item 9) -------------------------------------------


def test_logout_makes_a_copied_session_cookie_useless(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    assert web.get("/bills/").status_code == 200
    cookie = web.client.get_cookie("dashboard_session")
    assert cookie is not None
    copied = app.test_client()
    copied.set_cookie("dashboard_session", cookie.value)
    assert copied.get("/bills/").status_code == 200  # the copy works while the session lives
    web.logout()
    response = copied.get("/bills/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    # Logging in again is not hindered, and the old copy stays dead.
    assert web.login("cashier@example.com").status_code == 302
    assert web.get("/bills/").status_code == 200
    assert copied.get("/bills/").status_code == 302


# --- no lock-out for the owner (item 8, must show 3) --------------------------------------------


def test_an_attackers_50_wrong_passwords_do_not_lock_the_owner_out(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    from tests.http.test_auth import client_from, wait_seconds

    app = make_app()  # the documented defaults
    make_user(Role.ADMIN)
    attacker = client_from(app, "203.0.113.9")
    for n in range(50):
        response = attacker.login("admin@example.com", f"guess number {n}")
        assert response.status_code in (401, 429)
    with app.app_context():
        failed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
        ).all()
    assert len(failed) >= 5

    # From another address (never used before), the right password works at once.
    owner = client_from(app, "198.51.100.7")
    assert owner.login("admin@example.com").status_code == 302
    assert owner.get("/bills/").status_code == 200

    # From the attacker's address itself, within the documented delay (at most 300 s). The
    # attacker's last guess is made "just now", however slowly this machine ran the loop.
    with app.app_context():
        for row in db.session.scalars(select(Throttle)):
            row.last_at = utcnow()
        db.session.commit()
    same_place = client_from(app, "203.0.113.9")
    response = same_place.login("admin@example.com")
    assert response.status_code == 429
    wait = int(re.search(r"Wait (\d+) seconds?", response.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert 0 < wait <= app.config["LOGIN_MAX_DELAY_SECONDS"] == 300
    wait_seconds(app, wait)
    assert same_place.login("admin@example.com").status_code == 302


def test_an_attacker_who_waits_out_every_delay_still_does_not_lock_the_owner_out(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    from tests.http.test_auth import client_from, wait_seconds

    app = make_app()
    make_user(Role.ADMIN)
    attacker = client_from(app, "203.0.113.9")
    for n in range(50):  # 50 real guesses, each one made as soon as it is allowed
        response = attacker.login("admin@example.com", f"guess number {n}")
        if response.status_code == 429:
            wait_seconds(app, app.config["LOGIN_MAX_DELAY_SECONDS"])
            response = attacker.login("admin@example.com", f"guess number {n}")
        assert response.status_code == 401
    owner = client_from(app, "198.51.100.7")
    assert owner.login("admin@example.com").status_code == 302


# --- the bank-logo fetcher (item 13) -----------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


@pytest.fixture()
def logo_server() -> Iterator[int]:
    """A little web server on loopback: /logo.png, and /moved which redirects to localhost."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/logo.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)
            else:
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{port}/logo.png")
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=5)


def test_logo_fetcher_follows_no_redirect(make_app: Callable[..., Flask], logo_server: int) -> None:
    from dashboard.banks import _fetch_logo

    app = make_app(IHELA_BASE_URL=f"http://127.0.0.1:{logo_server}/")  # the loopback sandbox
    with app.test_request_context():
        assert _fetch_logo(f"http://127.0.0.1:{logo_server}/logo.png") == ("image/png", PNG)
        assert _fetch_logo(f"http://127.0.0.1:{logo_server}/moved") is None


def test_logo_fetcher_refuses_internal_addresses_outside_the_sandbox(
    make_app: Callable[..., Flask], logo_server: int
) -> None:
    from dashboard.banks import _fetch_logo

    # A real gateway, and a logo host that is allowed by name but resolves to loopback.
    app = make_app(IHELA_BASE_URL="https://gate.ihela.example/", BANK_LOGO_HOSTS=("localhost",))
    with app.test_request_context():
        assert _fetch_logo(f"http://localhost:{logo_server}/logo.png") is None


# --- password policy (item 15) ------------------------------------------------------------------

WEAK = {
    "password1234": "among the most common",
    "Qwertyuiop": "among the most common",
    "password2026!": "among the most common",
    "iloveyou12345": "among the most common",
    "ana.kaneza-2026": "must not contain",  # the e-mail's local part
    "kaneza-bujumbura": "must not contain",  # the name
}


@pytest.mark.parametrize(("password", "message"), WEAK.items())
def test_staff_form_refuses_common_and_personal_passwords_next_to_the_field(
    web: WebClient, staff: dict[str, User], password: str, message: str
) -> None:
    web.login("admin@example.com")
    response = web.post(
        "/admin/users",
        {
            "email": "ana.kaneza@shop.bi",
            "name": "Ana Kaneza",
            "role": "cashier",
            "password": password,
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'data-field-error="password"[^>]*>([^<]*)<', page)
    assert error and message in error.group(1)
    assert "ana.kaneza@shop.bi" not in page.split("<table")[-1].split("</table>")[0]


def test_set_password_refuses_the_email_and_common_passwords(
    web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    cashier = staff["cashier"]
    for password, message in [
        ("cashier@example.com", "must not contain"),
        ("1234567890", "among the most common"),
    ]:
        response = web.post(f"/admin/users/{cashier.id}/password", {"password": password})
        assert response.status_code == 422
        error = re.search(
            r'data-field-error="password"[^>]*>([^<]*)<', response.get_data(as_text=True)
        )
        assert error and message in error.group(1)
    ok = web.post(f"/admin/users/{cashier.id}/password", {"password": "tambour-ikirundi-47"})
    assert ok.status_code == 302


def test_cli_refuses_common_and_personal_passwords(app: Flask) -> None:
    runner = app.test_cli_runner()
    base = ["user", "create", "--email", "ana@shop.bi", "--name", "Ana Kaneza", "--role", "cashier"]
    common = runner.invoke(args=[*base, "--password", "qwertyuiop123"])
    assert common.exit_code != 0 and "among the most common" in common.output
    personal = runner.invoke(args=[*base, "--password", "kaneza-2026-shop"])
    assert personal.exit_code != 0 and "must not contain" in personal.output
    fine = runner.invoke(args=[*base, "--password", "tambour-ikirundi-47"])
    assert fine.exit_code == 0, fine.output


# --- password strength judged by zxcvbn (issue 15, row 6) ------------------------------------

EASY = {
    "aaaaaaaaaa": "Repeated characters or groups",
    "0000000000": "Repeated characters or groups",
    "1234512345": "Repeated characters or groups",
    "abcdefghij": "Sequences (abcd, 6543)",
    "ihela12345": "a word anyone would try first here",
    "Bujumbura1": "a word anyone would try first here",
    "Global Test Merchant": "must not contain the merchant's name",  # the merchant's own name
    "globaltestmerchant!": "must not contain the merchant's name",
}


@pytest.mark.parametrize(("password", "reason"), EASY.items())
def test_easy_passwords_are_refused_and_the_page_says_why(
    web: WebClient, staff: dict[str, User], password: str, reason: str
) -> None:
    web.login("admin@example.com")
    form = {"email": "ana@shop.bi", "name": "Ana Kaneza", "role": "cashier", "password": password}
    response = web.post("/admin/users", form)
    assert response.status_code == 400
    error = re.search(r'data-field-error="password"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error and reason in html.unescape(error.group(1))


def test_a_renamed_merchants_name_is_refused_too(
    web: WebClient, staff: dict[str, User], app: Flask
) -> None:
    from dashboard.models import Setting

    with app.app_context():
        db.session.add(Setting(key="MERCHANT_NAME", value="Boutique Amahoro"))
        db.session.commit()
    web.login("admin@example.com")
    cashier = staff["cashier"]
    refused = web.post(f"/admin/users/{cashier.id}/password", {"password": "amahoro-2026-x"})
    assert refused.status_code == 422
    assert "merchant's name" in html.unescape(refused.get_data(as_text=True))


def test_the_reason_is_said_in_french_never_in_zxcvbns_english(
    web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    web.post("/lang", {"lang": "fr", "next": "/admin/users"})
    for password in ["aaaaaaaaaa", "abcdefghij", "Bujumbura1", "P@ssw0rd123!x", "qazwsxedcr"]:
        form = {"email": "ana@shop.bi", "name": "Ana", "role": "cashier", "password": password}
        page = html.unescape(web.post("/admin/users", form).get_data(as_text=True))
        error = re.search(r'data-field-error="password"[^>]*>([^<]*)<', page)
        assert error, password
        said = error.group(1)
        assert "facile à deviner" in said or "plus courants" in said, said
        assert not re.search(r"\b(easy|guess|Repeats|Sequences|common)\b", said), said


def test_the_suites_password_and_good_passphrases_still_pass(app: Flask) -> None:
    from dashboard.auth.services import check_password_strength

    with app.test_request_context():
        for password in [PASSWORD, "tambour-ikirundi-47", "another long passphrase 42"]:
            check_password_strength(password, email="ana@shop.bi", name="Ana Kaneza")
