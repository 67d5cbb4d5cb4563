"""The cash-in form in a real browser: switching bank forgets the previous bank's holder, a
failed check says so once, the picker finds banks by type; the list fits a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Route, expect

from dashboard.db import db, utcnow
from dashboard.models import Cashin, HolderCheck, User
from tests.browser.conftest import LiveServer
from tests.browser.test_cashin_flow import choose_bank
from tests.browser.test_login_flow import log_in


def test_switching_bank_clears_the_holder_and_checks_again(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    choose_bank(page, "PesaFlash")
    account = page.get_by_label("Account number")
    account.press_sequentially("68123456")
    account.blur()
    expect(page.get_by_test_id("holder-name")).to_have_text("Niyonzima Aline")

    # Same digits, another bank: that is somebody else's account, or nobody's.
    choose_bank(page, "EcoCash")
    expect(page.get_by_test_id("holder-name")).to_have_count(0)
    expect(page.get_by_test_id("holder-status")).to_contain_text("No account 68123456 at EcoCash")

    account.fill("")
    account.press_sequentially("79123456")
    account.blur()
    expect(page.get_by_test_id("holder-name")).to_have_text("Ndayishimiye Claude")
    choose_bank(page, "CRDB")  # no name checks at this bank: a person must type and vouch
    expect(page.get_by_test_id("holder-name")).to_have_count(0)
    expect(page.get_by_test_id("holder-status")).to_contain_text("does not offer name checks")
    expect(page.get_by_label("Account holder's name")).to_have_value("")


def test_a_failed_check_is_shown_once(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    choose_bank(page, "iHela Credit Union")
    account = page.get_by_label("Account number")

    def broken(route: Route) -> None:
        route.fulfill(status=500, body="Internal Server Error")

    page.route("**/cashins/lookup*", broken)
    account.press_sequentially("00001601")
    account.blur()
    page.get_by_role("button", name="Check name").click()
    status = page.get_by_test_id("holder-status")
    expect(status).to_have_count(1)
    expect(status).to_contain_text("did not work this time")
    page.unroute("**/cashins/lookup*")

    # The server refuses the account at Review: said once, under the field.
    account.fill("")
    account.press_sequentially("999999-99")
    page.get_by_label("Amount (FBu)").fill("20000")
    page.get_by_label("Description (the receiver sees it)").fill("Refund")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_text("No account 999999-99 at iHela Credit Union")).to_have_count(1)


def test_the_bank_picker_finds_banks_by_type(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/new")
    page.locator(".ts-control").first.click()
    expect(page.locator(".ts-dropdown").first).to_be_visible()  # typing before it opens is lost
    page.keyboard.type("mobile")
    options = page.locator(".ts-dropdown .option")
    expect(options).to_have_count(2)
    expect(options.filter(has_text="EcoCash")).to_have_count(1)
    expect(options.filter(has_text="PesaFlash")).to_have_count(1)


def test_the_cashins_list_fits_a_phone(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    with live_server.app.app_context():
        for n, state in enumerate(["succeeded", "awaiting_approval", "failed"]):
            db.session.add(
                Cashin(
                    merchant_reference=f"C261204-PHON{n}",
                    bank_slug="MF1-0001",
                    bank_name="iHela Credit Union of the Great Lakes",
                    account="000016-01",
                    holder_name="Niyonzima Aline Uwimana Kaneza Ndayishimiye",
                    holder_check=HolderCheck.CONFIRMED,
                    amount=12_345_678,
                    description="Refund",
                    reason="payout",
                    status=state,
                    created_by_id=staff["accountant"].id,
                    submitted_at=utcnow(),
                )
            )
        db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/cashins/")
    table = page.get_by_test_id("cashins")
    shown = table.locator("[data-testid=cashin-status]:visible")
    expect(shown).to_have_count(3)
    for cell in [*table.get_by_test_id("cashin-amount").all(), *shown.all()]:
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    wide = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.table-responsive')].map("
        "e => e.scrollWidth - e.clientWidth), document.documentElement.scrollWidth - 390)"
    )
    assert wide <= 0, f"{wide}px of sideways scrolling"
    page.screenshot(path="/tmp/cashins-phone.png", full_page=True)
