"""An admin lowers the bill maximum; a cashier's next bill over it is refused."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in


def test_admin_lowers_the_bill_maximum_and_a_cashiers_bill_over_it_is_refused(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "admin@example.com")
    page.get_by_test_id("nav").get_by_role("link", name="Settings").click()
    maximum = page.get_by_label("Bill maximum")
    expect(maximum).to_have_value("10000000")
    maximum.fill("12 000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved")).to_be_visible()
    expect(page.get_by_label("Bill maximum")).to_have_value("12000")
    expect(page.locator("#setting-BILL_MAX_AMOUNT")).to_contain_text("Last changed by Test Admin")

    cashier_context = page.context.browser.new_context(locale="en-GB")  # type: ignore[union-attr]
    counter = cashier_context.new_page()
    log_in(counter, live_server, "cashier@example.com")
    counter.goto(live_server.url + "/bills/new")
    counter.get_by_label("Amount (FBu)").fill("15000")
    counter.get_by_label("Payer", exact=True).fill("clientmail@gmail.com")
    counter.get_by_label("What is it for?").fill("Shoes, size 42")
    counter.get_by_role("button", name="Issue bill").click()
    expect(counter.locator('[data-field-error="amount"]')).to_have_text(
        "The largest bill is 12 000 FBu."
    )
    cashier_context.close()

    page.goto(live_server.url + "/admin/audit?action=setting.")
    entry = page.get_by_test_id("audit").get_by_role("link", name="Setting BILL_MAX_AMOUNT")
    expect(entry).to_be_visible()
    entry.click()
    expect(page).to_have_url(live_server.url + "/admin/settings#setting-BILL_MAX_AMOUNT")
