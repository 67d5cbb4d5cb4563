"""The menu button of a narrow screen and a message's close button, without Bootstrap's JS."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in


def test_phone_menu_opens_and_closes_and_messages_close(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, "accountant@example.com")
    welcome = page.get_by_role("alert").filter(has_text="Welcome")
    expect(welcome).to_be_visible()
    page.get_by_role("button", name="Close").click()
    expect(welcome).to_have_count(0)

    menu = page.get_by_test_id("nav")
    toggler = page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    toggler.click()
    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    menu.get_by_role("link", name="Cash-ins").click()
    expect(page).to_have_url(live_server.url + "/cashins/")
    expect(page.get_by_test_id("nav")).to_be_hidden()  # a new page starts with it closed
    toggler.click()
    toggler.click()
    expect(menu).to_be_hidden()
    expect(toggler).to_have_attribute("aria-expanded", "false")
