"""The cashier's whole job in a real browser: issue, share, watch it turn Paid; in each shape of
iHela's API (v2 gateways give no payment link: the payer approves in the iHela app)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, User
from tests.browser.conftest import LiveServer, let_go, settle
from tests.browser.test_login_flow import log_in

pytestmark = pytest.mark.both_dialects


def issue_bill(page: Page, server: LiveServer, amount: str = "15000") -> None:
    page.goto(server.url + "/bills/new")
    page.get_by_label("Amount (FBu)").fill(amount)
    page.get_by_label("Payer", exact=True).fill("clientmail@gmail.com")
    page.get_by_label("What is it for?").fill("Shoes, size 42")
    page.get_by_role("button", name="Issue bill").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")


def the_bill(app: Flask) -> Bill:
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        db.session.expunge(bill)
        return bill


def forget_last_check(app: Flask) -> None:
    """As if the server's coalescing window had passed: the next check asks iHela."""
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()


def test_issue_copy_pay_on_payer_page_and_reload(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any, dialect: str
) -> None:
    log_in(page, live_server, "cashier@example.com")
    issue_bill(page, live_server)
    bill = the_bill(live_server.app)
    if dialect != "v1":
        # No payment link: the cashier is told the payer approves in the iHela app, and the
        # page turns Paid by itself once they have (played here by the sandbox's control).
        assert bill.confirmation_uri is None and bill.code
        expect(page.get_by_test_id("pay-in-app")).to_contain_text(
            "Ask the customer to approve in their iHela app"
        )
        expect(page.get_by_test_id("pay-in-app")).to_contain_text(bill.code)
        expect(page.get_by_test_id("pay-link")).to_have_count(0)
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
        forget_last_check(live_server.app)
        # The first automatic check comes after 5 s; no click anywhere.
        expect(page.get_by_test_id("status-badge")).to_have_text("Paid", timeout=15000)
        expect(page.get_by_test_id("bank-reference")).not_to_be_empty()
        expect(page.get_by_test_id("pay-in-app")).to_have_count(0)
        assert the_bill(live_server.app).payment_reference
        return
    assert bill.confirmation_uri
    expect(page.get_by_test_id("pay-in-app")).to_have_count(0)

    expect(page.get_by_test_id("amount")).to_contain_text("15")
    expect(page.get_by_test_id("qr")).to_be_visible()
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=qr]');"
        " return img.complete && img.naturalWidth > 0; }",
        timeout=5000,
    )
    expect(page.get_by_test_id("pay-link")).to_have_value(bill.confirmation_uri)

    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("Link copied.")).to_be_visible()
    assert settle(page, "navigator.clipboard.readText()") == bill.confirmation_uri

    payer = page.context.new_page()
    payer.goto(bill.confirmation_uri)
    expect(payer.locator("body")).to_contain_text("Shoes, size 42")
    payer.get_by_role("button", name="Pay").click()
    expect(payer).to_have_url(re.compile(r"/pay/return/"))
    let_go(payer)

    # Let the server's coalescing window pass, then one click on Reload.
    forget_last_check(live_server.app)
    page.get_by_role("button", name="Reload status").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Paid")
    expect(page.get_by_test_id("bank-reference")).not_to_be_empty()
    assert the_bill(live_server.app).payment_reference


# In the v2 shapes the walkthrough above already watches the bill turn Paid with no click.
@pytest.mark.parametrize("dialect", ["v1"])
def test_auto_refresh_turns_paid_without_a_click(
    page: Page, make_live_server: Any, staff: dict[str, User], sandbox: Any
) -> None:
    server = make_live_server(BILL_REFRESH_MIN_SECONDS=1)
    log_in(page, server, "cashier@example.com")
    issue_bill(page, server, amount="2500")
    bill = the_bill(server.app)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    # The first automatic check comes after 5 s; no click anywhere.
    expect(page.get_by_test_id("status-badge")).to_have_text("Paid", timeout=15000)
    expect(page.get_by_test_id("bank-reference")).not_to_be_empty()


@pytest.mark.parametrize("dialect", ["v1"])  # nothing reaches the gateway
def test_input_error_shown_at_the_field_and_input_kept(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/bills/new")
    page.get_by_label("Amount (FBu)").fill("12.50")
    page.get_by_label("Payer", exact=True).fill("clientmail@gmail.com")
    page.get_by_label("What is it for?").fill("Soap")
    page.get_by_role("button", name="Issue bill").click()
    expect(page.locator("[data-field-error=amount]")).to_contain_text("no cents")
    expect(page.get_by_label("What is it for?")).to_have_value("Soap")
    expect(page.get_by_label("Amount (FBu)")).to_have_value("12.50")
    assert re.search(r"/bills/new$", page.url)
