"""The Counter without retyping: a known customer picked from suggestions with the keyboard, two
items of the price list added by typing, Enter: the QR is for their total, the receipt lists both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.customers import services as customers
from dashboard.db import db
from dashboard.models import Bill, PriceItem, User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in


def seed(app: Flask, staff: dict[str, User]) -> None:
    with app.app_context():
        db.session.add_all(
            [
                PriceItem(name="Rice 25 kg", price=45_000, active=True, uses=3),
                PriceItem(name="Cooking oil 5 L", price=18_000, active=True, uses=1),
            ]
        )
        for n, (kind, payer) in enumerate(
            [("email", "aline.niyonzima@example.com"), ("email", "alice.k@example.com")]
        ):
            bill = Bill(
                merchant_reference=f"EARLIER-{n}",
                public_token=f"earlier-{n}",
                amount=1000,
                payer=payer,
                payer_kind=kind,
                description="earlier",
                status="paid",
                issued_by_id=staff["cashier"].id,
            )
            db.session.add(bill)
            db.session.flush()
            customers.record_bill(bill)
            if n == 0:
                customers.learn_identity(bill, name="Niyonzima Aline")
        db.session.commit()


def test_counter_keyboard_customer_and_two_items(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any, tmp_path: Path
) -> None:
    seed(live_server.app, staff)
    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    expect(page.get_by_label("Amount (FBu)")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.get_by_label("Payer", exact=True)).to_be_focused()
    page.keyboard.type("ali")
    options = page.get_by_role("listbox", name="Known customers").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("alice.k@example.com")  # in the order of the words
    expect(options.nth(1)).to_contain_text("Niyonzima Aline")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")  # picks; does not send the form
    expect(page.get_by_label("Payer", exact=True)).to_have_value("aline.niyonzima@example.com")
    expect(page.get_by_role("listbox", name="Known customers")).to_be_hidden()

    finder = page.get_by_label("Add an item")
    finder.focus()
    offered = page.get_by_role("listbox", name="Items of the price list").get_by_role("option")
    expect(offered.first).to_contain_text("Rice 25 kg")  # the most used first
    page.keyboard.type("rice")
    expect(offered).to_have_count(1)
    page.keyboard.press("Enter")
    page.keyboard.type("oil")
    expect(offered).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Amount (FBu)")).to_have_value("63 000")
    expect(finder).to_be_focused()
    page.screenshot(path=str(tmp_path / "counter-items.png"), full_page=True)

    page.keyboard.press("Enter")  # the item field is empty: Enter sends the bill
    expect(page.get_by_test_id("counter-qr")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("63,000")
    page.screenshot(path=str(tmp_path / "counter-qr.png"))

    with live_server.app.app_context():
        bill = db.session.scalars(select(Bill).where(Bill.code.is_not(None))).one()
        assert bill.payer == "aline.niyonzima@example.com"
        code, bill_id = bill.code, bill.id
    requests.post(f"{sandbox.url}_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    expect(page.get_by_test_id("counter-paid")).to_be_visible(timeout=10_000)
    page.get_by_test_id("counter-receipt").click()
    receipt = page.get_by_test_id("bill-lines")
    expect(receipt).to_contain_text("Rice 25 kg")
    expect(receipt).to_contain_text("Cooking oil 5 L")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    assert page.url.endswith(f"/bills/{bill_id}/slip")
