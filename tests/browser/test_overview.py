"""Must show 1: the overview's figures are the bills and cash-ins made in the test, the chart
draws them, and a cashier sees only their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, User
from tests.browser.conftest import LiveServer
from tests.browser.test_bill_flow import issue_bill
from tests.browser.test_login_flow import log_in
from tests.conftest import WebClient
from tests.http.test_cashins import confirm, prepare


def pay_last_bill(page: Page, server: LiveServer, sandbox: Any) -> None:
    """The payer pays in the sandbox; the cashier's Reload status sees it."""
    with server.app.app_context():
        bill = db.session.scalars(select(Bill).order_by(Bill.id.desc()).limit(1)).one()
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    page.get_by_role("button", name="Reload status").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Paid")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_overview_counts_what_was_done_and_cashier_sees_only_theirs(
    page: Page,
    live_server: LiveServer,
    staff: dict[str, User],
    make_user: Callable[..., User],
    sandbox: Any,
) -> None:
    make_user("cashier", "other@example.com", "Other Cashier")
    # The cashier: two bills, one paid. Another cashier: one paid bill of 40 000.
    log_in(page, live_server, "cashier@example.com")
    issue_bill(page, live_server, amount="15000")
    pay_last_bill(page, live_server, sandbox)
    issue_bill(page, live_server, amount="2500")
    log_out(page)
    log_in(page, live_server, "other@example.com")
    issue_bill(page, live_server, amount="40000")
    pay_last_bill(page, live_server, sandbox)
    log_out(page)
    # The accountant sends a payout of 20 000 (the real service, the real sandbox).
    accountant = WebClient(live_server.app.test_client())
    accountant.login("accountant@example.com")
    cashin_url = prepare(accountant, amount="20000").headers["Location"]
    assert "Succeeded" in confirm(accountant, cashin_url).get_data(as_text=True)

    # The cashier lands on their own figures.
    log_in(page, live_server, "cashier@example.com")
    assert page.url == live_server.url + "/"
    expect(page.get_by_role("heading", name="My shift")).to_be_visible()
    expect(page.get_by_test_id("today-collected-amount")).to_have_text("BIF 15,000")
    expect(page.get_by_test_id("today-issued-count")).to_have_text("2 bills")
    expect(page.get_by_test_id("today-issued-amount")).to_have_text("BIF 17,500")
    expect(page.get_by_test_id("today-waiting-amount")).to_have_text("BIF 2,500")
    expect(page.get_by_test_id("month-collected-amount")).to_have_text("BIF 15,000")
    expect(page.get_by_test_id("today-cashins-sent")).to_have_count(0)
    chart = page.get_by_test_id("flow-chart")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.bar")
    expect(bars).to_have_count(30)
    drawn = chart.locator("rect.bar[data-amount='15000']")
    expect(drawn).to_have_count(1)
    assert float(drawn.get_attribute("height") or 0) > 100  # the tallest bar of the chart
    assert all(float(b.get_attribute("height") or 0) == 0 for b in bars.all()[:-1])
    page.get_by_test_id("shift-link").click()
    expect(page.get_by_test_id("shift-collected")).to_have_text("BIF 15,000")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.go_back()
    # Each figure opens the list behind it: the cashier's paid bill of today.
    page.get_by_test_id("today-paid").click()
    expect(page.get_by_test_id("bills").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("bills")).to_contain_text("BIF 15,000")
    log_out(page)

    # The accountant sees everyone's, cash-ins, and who collected what.
    log_in(page, live_server, "accountant@example.com")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("today-collected-amount")).to_have_text("BIF 55,000")
    expect(page.get_by_test_id("today-issued-count")).to_have_text("3 bills")
    expect(page.get_by_test_id("today-cashins-sent-amount")).to_have_text("BIF 20,000")
    expect(page.get_by_test_id("today-cashins-sent-count")).to_have_text("1 cash-in")
    expect(page.get_by_test_id("today-refunds-amount")).to_have_text("BIF 0")
    people = page.get_by_test_id("today-people").locator("tbody tr")
    expect(people).to_have_count(2)
    expect(people.nth(0)).to_contain_text("Other Cashier")
    expect(people.nth(0)).to_contain_text("BIF 40,000")
    expect(people.nth(1)).to_contain_text("Test Cashier")
    chart = page.get_by_test_id("flow-chart")
    expect(chart.locator("rect.bar")).to_have_count(60)
    expect(chart.locator("rect.bar[data-series=collected][data-amount='55000']")).to_have_count(1)
    expect(chart.locator("rect.bar[data-series=paid_out][data-amount='20000']")).to_have_count(1)
    page.get_by_text("The same figures as a table").click()
    expect(page.get_by_test_id("flow-table").locator("tbody tr").first).to_contain_text(
        "BIF 55,000"
    )
    page.screenshot(path="/tmp/overview-accountant.png", full_page=True)
    page.get_by_test_id("today-paid").click()
    expect(page.get_by_test_id("bills").locator("tbody tr")).to_have_count(2)
