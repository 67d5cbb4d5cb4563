"""A bill paid by the payer, who comes back through the return page, turns Paid on the cashier's
open page (no QR, link or share buttons left); and on a phone the QR is on the first screen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from dashboard.db import db
from dashboard.models import Bill, BillEvent, User
from tests.browser.conftest import LiveServer
from tests.browser.test_bill_flow import issue_bill, the_bill
from tests.browser.test_login_flow import log_in

POLL_INTERVAL_MS = 5000  # the first automatic check of static/js/app.js


def test_payment_recorded_by_the_return_page_switches_the_open_page_to_paid(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "cashier@example.com")
    issue_bill(page, live_server, amount="7000")
    drawn = time.monotonic()
    bill = the_bill(live_server.app)
    expect(page.get_by_test_id("qr")).to_be_visible()
    with live_server.app.app_context():  # the issue's own check is not a reason to wait
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()

    payer = page.context.new_page()
    assert bill.confirmation_uri
    payer.goto(bill.confirmation_uri)
    payer.get_by_role("button", name="Pay").click()
    # The sandbox sends the payer back to /pay/return/…, which records the payment first.
    expect(payer.get_by_test_id("payer-status")).to_contain_text("is received")
    assert "/pay/return/" in payer.url
    with live_server.app.app_context():
        paid = db.session.scalars(select(BillEvent).where(BillEvent.to_status == "paid")).one()
        assert paid.actor_label == "payer returned"
    assert time.monotonic() - drawn < POLL_INTERVAL_MS / 1000, "too slow to test the case"

    # The cashier's page, drawn while pending, switches within one poll interval.
    expect(page.get_by_test_id("status-badge")).to_have_text(
        "Paid", timeout=POLL_INTERVAL_MS + 3000
    )
    for gone in ("qr", "pay-link", "share-whatsapp", "share-sms", "share-email", "slip-link"):
        expect(page.get_by_test_id(gone)).to_have_count(0)
    expect(page.get_by_text("Customer scans to pay")).to_have_count(0)
    expect(page.get_by_test_id("receipt-link")).to_be_visible()
    page.get_by_test_id("receipt-link").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.locator("img.qr")).to_have_count(0)
    expect(page.get_by_text("Scan with your phone")).to_have_count(0)


def test_on_a_phone_the_qr_is_on_the_first_screen_and_the_list_keeps_the_payer(
    browser: Browser,
    live_server: LiveServer,
    staff: dict[str, User],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True, has_touch=True
    )
    try:
        phone = context.new_page()
        log_in(phone, live_server, "cashier@example.com")
        issue_bill(phone, live_server, amount="4500")
        qr = phone.get_by_test_id("qr")
        expect(qr).to_be_visible()
        phone.wait_for_function(
            "() => { const img = document.querySelector('[data-testid=qr]');"
            " return img.complete && img.naturalWidth > 0; }"
        )
        phone.screenshot(path=str(tmp_path / "bill-phone.png"))
        box = qr.bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box

        phone.goto(live_server.url + "/bills/")
        phone.screenshot(path=str(tmp_path / "list-phone.png"))
        payer = phone.get_by_test_id("payer").first
        expect(payer).to_be_visible()
        expect(payer).to_have_text("clientmail@gmail.com")
        cell = payer.bounding_box()
        assert cell is not None and cell["x"] + cell["width"] <= 390, cell
    finally:
        context.close()
