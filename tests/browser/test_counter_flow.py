"""Counter mode, keyboard only: amount → Enter → QR; the customer display paired by its code
shows the QR, then Paid ✓ when the payer pays on the sandbox's payer page, without a reload."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in


def test_keyboard_counter_and_paired_customer_display(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    staff: dict[str, User],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    expect(page.get_by_label("Amount (FBu)")).to_be_focused()
    code = page.get_by_test_id("pairing-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    page.screenshot(path=str(tmp_path / "counter-form.png"))

    # The customer display: another browser (no cookie, no login), paired by the code.
    display_context = browser.new_context(locale="en-GB")
    try:
        display = display_context.new_page()
        display.goto(live_server.url + "/display")
        expect(display.get_by_label("Code shown on the cashier's screen")).to_be_focused()
        display.keyboard.type(code)
        display.keyboard.press("Enter")
        expect(display.get_by_test_id("display-waiting")).to_be_visible()
        assert display_context.cookies() == []
        display.evaluate("window.sameDocument = true")

        # Keyboard only at the counter: amount, Tab, payer, Enter.
        page.keyboard.type("6 500")
        page.keyboard.press("Tab")
        page.keyboard.type("clientmail@gmail.com")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("counter-qr")).to_be_visible()
        expect(page.get_by_test_id("amount")).to_contain_text("6,500")

        # The display follows the counter's bill by itself.
        expect(display.get_by_test_id("display-qr")).to_be_visible(timeout=10_000)
        expect(display.get_by_test_id("display-amount")).to_contain_text("6,500")
        page.screenshot(path=str(tmp_path / "counter-qr.png"))
        display.screenshot(path=str(tmp_path / "display-qr.png"))
        expect(display.locator("body")).not_to_contain_text("clientmail")

        with live_server.app.app_context():
            uri = db.session.scalars(select(Bill.confirmation_uri)).one()
        assert uri
        payer_context = browser.new_context(locale="en-GB")
        payer = payer_context.new_page()
        payer.goto(uri)
        payer.get_by_role("button", name="Pay").click()
        payer_context.close()

        expect(display.get_by_test_id("display-paid")).to_be_visible(timeout=15_000)
        expect(display.get_by_test_id("display-qr")).to_have_count(0)
        assert display.evaluate("window.sameDocument") is True  # no reload

        # The cashier's screen turns Paid ✓ by itself; Enter (or N) is the next customer.
        expect(page.get_by_test_id("counter-paid")).to_be_visible(timeout=15_000)
        expect(page.get_by_test_id("next-customer")).to_be_focused()
        page.screenshot(path=str(tmp_path / "counter-paid.png"))
        display.screenshot(path=str(tmp_path / "display-paid.png"))
        page.keyboard.press("Enter")
        expect(page.get_by_label("Amount (FBu)")).to_be_focused()
        expect(page.get_by_test_id("counter-qr")).to_have_count(0)
        expect(display.get_by_test_id("display-waiting")).to_be_visible(timeout=10_000)

        # Logging out ends the display's pairing.
        page.get_by_role("button", name="Log out").click()
        expect(display.get_by_test_id("display-ended")).to_be_visible(timeout=10_000)
    finally:
        display_context.close()


def test_the_paid_sound_is_off_by_default_and_the_cashier_turns_it_on(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    toggle = page.get_by_test_id("sound-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_text("Sound off")
    toggle.focus()
    page.keyboard.press("Enter")  # plays the chime once (made by WebAudio, no file)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_text("Sound on")
    page.reload()
    expect(page.get_by_test_id("sound-toggle")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('counter-sound')") == "on"
    assert errors == []
