"""Must-show 4 in a real browser: a refund of a bill paid by the sandbox's fixture payer opens
with that payer's iHela Credit Union account and confirmed name, and sends there."""

from __future__ import annotations

from typing import Any

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, User
from tests.browser.conftest import LiveServer
from tests.browser.test_bill_flow import issue_bill
from tests.browser.test_login_flow import log_in


def test_refund_opens_with_the_payers_account_filled_in(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    issue_bill(page, live_server, amount="12000")  # paid by clientmail@gmail.com
    with live_server.app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    page.get_by_role("button", name="Reload status").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Paid")
    page.reload()
    page.get_by_role("link", name="Refund").click()

    expect(page.get_by_test_id("payer-account")).to_contain_text("iHela Credit Union")
    expect(page.locator(".ts-control").first).to_contain_text("iHela Credit Union")
    expect(page.get_by_label("Account number")).to_have_value("000002-01")
    expect(page.get_by_test_id("holder-name")).to_have_text("Ndayishimiye Claude")
    expect(page.get_by_test_id("holder-status")).to_have_class("alert alert-success py-2 mb-0")
    page.screenshot(path="/tmp/refund-prefilled.png", full_page=True)

    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("cashin-summary")).to_contain_text("Ndayishimiye Claude")
    expect(page.get_by_test_id("cashin-summary")).to_contain_text("000002-01")
    page.get_by_role("button", name="now").click()
    expect(page.get_by_test_id("cashin-status")).to_have_text("Succeeded")
    sent = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    assert [(c["bank_slug"], c["account"]) for c in sent] == [("MF1-0001", "000002-01")]
