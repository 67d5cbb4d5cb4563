"""A person logs in, sees their role's menu, is refused what is not theirs, logs out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD


def log_in(page: Page, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_accountant_logs_in_sees_menu_and_logs_out(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    log_in(page, live_server, "accountant@example.com")
    nav = page.get_by_test_id("nav")
    expect(nav.get_by_role("link", name="Bills")).to_be_visible()
    expect(nav.get_by_role("link", name="Cash-ins")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff")).to_have_count(0)
    expect(page.get_by_test_id("signed-in")).to_contain_text("Test Accountant")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(live_server.url + "/cashins/")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)cashins(%2F|/)$"))


def test_admin_sees_everything(page: Page, live_server: LiveServer, staff: dict[str, User]) -> None:
    log_in(page, live_server, "admin@example.com")
    nav = page.get_by_test_id("nav")
    for name in ["Bills", "Cash-ins", "Staff", "Audit trail"]:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    nav.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_test_id("audit")).to_contain_text("Signed in")


def test_cashier_gets_403_on_an_accountant_page(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    log_in(page, live_server, "cashier@example.com")
    expect(page.get_by_test_id("nav").get_by_role("link", name="Cash-ins")).to_have_count(0)
    response = page.goto(live_server.url + "/cashins/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You cannot open this page")).to_be_visible()


def test_wrong_password_message_is_at_the_field(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    log_in(page, live_server, "cashier@example.com", "not-the-password")
    expect(page.locator("[data-field-error=password]")).to_contain_text("Wrong e-mail or password")
    expect(page.get_by_label("E-mail")).to_have_value("cashier@example.com")


def test_post_without_csrf_token_is_refused(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    page.goto(live_server.url + "/login")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.get_by_label("E-mail").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    page.goto(live_server.url + "/bills/")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)bills(%2F|/)$"))
