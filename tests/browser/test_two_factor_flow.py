"""Two-factor sign-in in a real browser: no way in without the code, a recovery code works
once, and an accountant who has not enrolled cannot send money while the role requires it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from dashboard.auth import services
from dashboard.config import Config
from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in
from tests.conftest import PASSWORD, WebClient
from tests.http.test_cashins import cashins, prepare, received
from tests.http.test_two_factor import code_for, enrol, step_now


def type_code(page: Page, code: str) -> None:
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()


def test_accountant_with_two_factor_cannot_sign_in_without_the_code(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    secret, _ = enrol(live_server.app, "accountant@example.com")
    log_in(page, live_server, "accountant@example.com")
    expect(page).to_have_url(re.compile(r"/login/code$"))
    expect(page.get_by_role("heading", name="Two-factor code")).to_be_visible()
    # The right password alone opens nothing.
    page.goto(live_server.url + "/cashins/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, live_server, "accountant@example.com")
    type_code(page, "123456" if code_for(secret, step_now()) != "123456" else "654321")
    expect(page.locator("[data-field-error=code]")).to_contain_text("wrong or was already used")
    type_code(page, code_for(secret, step_now()))
    expect(page.get_by_test_id("signed-in")).to_contain_text("Test Accountant")
    page.goto(live_server.url + "/cashins/")
    expect(page.get_by_role("heading", name="Cash-ins")).to_be_visible()


def test_a_recovery_code_works_once(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    _, codes = enrol(live_server.app, "accountant@example.com")
    log_in(page, live_server, "accountant@example.com")
    type_code(page, codes[0])
    expect(page.get_by_text("You used a recovery code; 9 are left.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "accountant@example.com")
    type_code(page, codes[0])
    expect(page.locator("[data-field-error=code]")).to_contain_text("wrong or was already used")
    expect(page).to_have_url(re.compile(r"/login/code$"))


def test_accountant_must_enrol_before_sending_money(
    page: Page, make_live_server: Callable[..., LiveServer], sandbox: Any
) -> None:
    server = make_live_server(
        TWO_FACTOR_DEFAULT_REQUIRED_ROLES=Config.TWO_FACTOR_DEFAULT_REQUIRED_ROLES
    )
    app: Flask = server.app
    with app.app_context():
        services.create_user("accountant@example.com", "Test Accountant", "accountant", PASSWORD)
    drafting = WebClient(app.test_client())  # the draft itself is not what this test is about
    drafting.login("accountant@example.com")
    prepare(drafting)
    cashin_id = cashins(app)[0].id

    log_in(page, server, "accountant@example.com")  # logging in still works without it
    expect(page.get_by_test_id("signed-in")).to_contain_text("Test Accountant")
    page.goto(f"{server.url}/cashins/{cashin_id}")
    page.get_by_role("button", name=re.compile(r"^Send ")).click()
    expect(
        page.get_by_text("Your role must use two-factor sign-in before sending money.").first
    ).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/two-factor\?next="))
    assert received(sandbox) == []

    # Enrol right there: the password, then QR and key, a code, recovery codes once.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Show the key").click()
    expect(page.get_by_test_id("two-factor-qr")).to_be_visible()
    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(code_for(secret, step_now()))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them, continue").click()
    expect(page).to_have_url(re.compile(rf"/cashins/{cashin_id}$"))
    page.get_by_role("button", name=re.compile(r"^Send ")).click()
    expect(page.get_by_text(re.compile(r"Sent\. iHela reference"))).to_be_visible()
    assert len(received(sandbox)) == 1
