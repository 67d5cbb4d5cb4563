"""The new cash-in form by keyboard, in English and French: the cursor starts on the bank picker,
choosing a bank moves it to the account field, and the bank's amount range is said at once
under the amount (before anything is submitted)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

WAIT = 10_000  # ms: every wait on the page is bounded

# The sandbox's EcoCash takes 1 000 to 2 000 000 FBu; Mutec has no range of its own, so the
# merchant's largest cash-in (5 000 000 FBu by default) is its only bound.
SAID = {
    "en": {
        "search": "Eco",
        "ecocash": "From BIF 1,000 to BIF 2,000,000 per cash-in to EcoCash.",
        "mutec": "Up to BIF 5,000,000 per cash-in to Mutec.",
    },
    "fr": {
        "search": "Eco",
        "ecocash": "De 1 000 FBu à 2 000 000 FBu par versement vers EcoCash.",
        "mutec": "Jusqu'à 5 000 000 FBu par versement vers Mutec.",
    },
}


@pytest.fixture(params=["en", "fr"])
def reader(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    lang = request.param
    context = browser.new_context(
        locale="fr-FR" if lang == "fr" else "en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(WAIT)
    context.set_default_navigation_timeout(WAIT)
    try:
        yield lang, context.new_page()
    finally:
        context.close()


def log_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_test_id("signed-in")).to_be_visible(timeout=WAIT)


def test_the_bank_first_then_the_account_with_the_bank_s_limits_said_at_once(
    reader: tuple[str, Page], live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    lang, page = reader
    said = SAID[lang]
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")

    # The cursor is in the picker's search box: typing searches the banks.
    search = page.locator(".ts-control input").first
    expect(search).to_be_focused(timeout=WAIT)
    expect(page.locator(".ts-dropdown").first).to_be_hidden(timeout=WAIT)  # open when asked
    limits = page.get_by_test_id("amount-limits")
    expect(limits).to_be_hidden(timeout=WAIT)  # no bank yet, nothing to say

    page.keyboard.type(said["search"])
    expect(page.locator(".ts-dropdown .option.active")).to_contain_text("EcoCash", timeout=WAIT)
    page.keyboard.press("Enter")
    account = page.locator("#account")
    expect(account).to_be_focused(timeout=WAIT)
    expect(limits).to_be_visible(timeout=WAIT)
    expect(limits).to_have_text(said["ecocash"], timeout=WAIT)
    # The amount field names the sentence as its description (screen readers read it).
    described = page.locator("#amount").get_attribute("aria-describedby", timeout=WAIT) or ""
    assert "amount-help" in described.split()
    page.keyboard.type("79123456")
    expect(account).to_have_value("79123456", timeout=WAIT)

    # Another bank: its own range replaces the first, and the cursor comes back to the account.
    page.locator(".ts-control").first.click()
    expect(page.locator(".ts-dropdown").first).to_be_visible(timeout=WAIT)
    page.keyboard.type("Mutec")
    expect(page.locator(".ts-dropdown .option.active")).to_contain_text("Mutec", timeout=WAIT)
    page.keyboard.press("Enter")
    expect(account).to_be_focused(timeout=WAIT)
    expect(limits).to_have_text(said["mutec"], timeout=WAIT)
