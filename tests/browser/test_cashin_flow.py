"""The accountant's job in a real browser: bank picker with logos, masked account, name check,
review, send; approval by a second person; a refund from a paid bill."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, Cashin, User
from tests.browser.conftest import LiveServer
from tests.browser.test_bill_flow import issue_bill
from tests.browser.test_login_flow import log_in

pytestmark = pytest.mark.both_dialects  # in each shape of iHela's API

ACTIVE_BANKS = ["iHela Credit Union", "Mutec", "EcoCash", "CRDB", "PesaFlash"]


def choose_bank(page: Page, name: str) -> None:
    page.locator(".ts-control").first.click()
    page.locator(".ts-dropdown .option", has_text=name).click()


def test_picker_mask_lookup_review_send(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    page.locator(".ts-control").first.click()
    dropdown = page.locator(".ts-dropdown .option")
    expect(dropdown).to_have_count(len(ACTIVE_BANKS) + 1)  # + "Choose a bank…"
    for name in ACTIVE_BANKS:
        option = page.locator(".ts-dropdown .option", has_text=name)
        expect(option).to_have_count(1)
        logo = option.locator("img.bank-logo")
        expect(logo).to_have_count(1)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=logo.element_handle()
        )
    expect(page.locator(".ts-dropdown .option", has_text="Old Credit Union")).to_have_count(0)
    page.screenshot(path="/tmp/cashin-picker.png")
    page.keyboard.press("Escape")

    choose_bank(page, "iHela Credit Union")
    account = page.get_by_label("Account number")
    expect(account).to_have_attribute("placeholder", "000000-00")
    expect(page.get_by_test_id("account-format")).to_contain_text("000000-00")
    account.press_sequentially("ab00x0016zz01999")
    expect(account).to_have_value("000016-01")  # letters refused, the dash put in, no extra digits

    account.blur()  # leaving the field checks the name
    expect(page.get_by_test_id("holder-name")).to_have_text("Niyonzima Aline")
    page.get_by_label("Amount (FBu)").fill("20000")
    page.get_by_label("Description (the receiver sees it)").fill("Refund of a returned jacket")
    page.get_by_role("button", name="Review").click()

    expect(page.get_by_test_id("cashin-summary")).to_contain_text("Niyonzima Aline")
    expect(page.get_by_test_id("cashin-summary")).to_contain_text("000016-01")
    expect(page.get_by_test_id("approval-needed")).to_contain_text("Not needed")
    page.get_by_role("button", name="now").click()
    expect(page.get_by_test_id("cashin-status")).to_have_text("Succeeded")
    reference = page.get_by_test_id("gateway-reference").inner_text()
    sent = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    assert [c["reference"] for c in sent] == [reference]
    page.screenshot(path="/tmp/cashin-done.png", full_page=True)


def test_mobile_money_mask_and_server_check_without_js_help(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    choose_bank(page, "EcoCash")
    account = page.get_by_label("Account number")
    expect(account).to_have_attribute("placeholder", "00000000")
    account.press_sequentially("7912345678")
    expect(account).to_have_value("79123456")
    choose_bank(page, "Mutec")  # no mask: free text
    account.fill("")
    account.press_sequentially("ACC-1")
    expect(account).to_have_value("ACC-1")


def test_approval_by_second_accountant(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    choose_bank(page, "iHela Credit Union")
    page.get_by_label("Account number").press_sequentially("00000101")
    page.get_by_role("button", name="Check name").click()
    expect(page.get_by_test_id("holder-name")).to_have_text("Bigirimana Fabrice")
    page.get_by_label("Amount (FBu)").fill("250 000")
    page.get_by_label("Description (the receiver sees it)").fill("Supplier payout")
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("own-cashin")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "accountant2@example.com")
    page.goto(live_server.url + "/cashins/approvals")
    page.get_by_test_id("approvals").get_by_role("link", name="Open").click()
    page.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_test_id("cashin-status")).to_have_text("Succeeded")


def test_refund_from_a_paid_bill(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    issue_bill(page, live_server, amount="20000")
    with live_server.app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        bill_id, reference = bill.id, bill.merchant_reference
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    page.get_by_role("button", name="Reload status").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Paid")
    page.reload()
    page.get_by_role("link", name="Refund").click()
    expect(page.get_by_label("Amount (FBu)")).to_have_value("20000")
    # The payer's own account is filled in (test_refund_prefill.py); another one is typed here,
    # so the review says plainly whose account it is not, and a second person must approve it.
    choose_bank(page, "iHela Credit Union")
    page.get_by_label("Account number").fill("")
    page.get_by_label("Account number").press_sequentially("000001-01")
    page.get_by_label("Amount (FBu)").fill("15000")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("account-warning")).to_contain_text(
        "Careful: not the payer's account (the payer's is 000002-01 at iHela Credit Union)."
    )
    expect(page.get_by_role("button", name="now")).to_have_count(0)
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("own-cashin")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "accountant2@example.com")
    page.goto(live_server.url + "/cashins/approvals")
    expect(page.get_by_test_id("approvals")).to_contain_text(
        "not the payer's account (the payer's is 000002-01 at iHela Credit Union)"
    )
    page.get_by_test_id("approvals").get_by_role("link", name="Open").click()
    expect(page.get_by_test_id("account-warning")).to_be_visible()
    page.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_test_id("cashin-status")).to_have_text("Succeeded")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_test_id("refund-left")).to_contain_text("5")
    with live_server.app.app_context():
        cashin = db.session.scalars(select(Cashin)).one()
        assert cashin.bill_id == bill_id and cashin.amount == 15000
        assert cashin.account == "000001-01"
