"""The open bills list changes a paid bill's status in place and says so, without a reload."""

from __future__ import annotations

from typing import Any

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from dashboard.db import db
from dashboard.models import Bill, User
from tests.browser.conftest import LiveServer, let_go
from tests.browser.test_bill_flow import issue_bill
from tests.browser.test_login_flow import log_in


def test_a_bill_paid_while_the_list_is_open_turns_paid_in_place(
    page: Page, make_live_server: Any, staff: dict[str, User], sandbox: Any
) -> None:
    server: LiveServer = make_live_server(BILL_LIST_POLL_SECONDS=1)
    log_in(page, server, "cashier@example.com")
    issue_bill(page, server, amount="3000")
    page.goto(server.url + "/bills/")
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")
    page.evaluate("window.sameDocument = true")
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "/bills/changes" in r.url else None)
    page.wait_for_timeout(2500)
    assert polls and set(polls) == {304}, polls  # nothing changed yet: empty answers

    with server.app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        bill = db.session.scalars(select(Bill)).one()
        code, bill_id = bill.code, bill.id
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    # Somebody else's screen (the bill page's poll, cron, a callback) records the payment.
    other = page.context.new_page()
    other.goto(server.url + f"/bills/{bill_id}/status")
    let_go(other)

    expect(page.get_by_test_id("status-badge")).to_have_text("Paid", timeout=5000)
    expect(page.get_by_test_id("paid-notice")).to_contain_text("1 bill paid")
    assert page.evaluate("window.sameDocument") is True


def test_the_totals_follow_a_row_that_turns_paid_in_place(
    page: Page, make_live_server: Any, staff: dict[str, User], sandbox: Any
) -> None:
    server: LiveServer = make_live_server(BILL_LIST_POLL_SECONDS=1)
    log_in(page, server, "cashier@example.com")
    issue_bill(page, server, amount="20000")
    issue_bill(page, server, amount="15000")
    with server.app.app_context():
        codes = dict(db.session.execute(select(Bill.amount, Bill.code)).tuples().all())
    requests.post(sandbox.url + f"_sandbox/bills/{codes[20000]}/pay", timeout=5).raise_for_status()
    with server.app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    # Record the first payment, then open the list: paid 20 000, waiting 15 000.
    other = page.context.new_page()
    with server.app.app_context():
        first = db.session.scalar(select(Bill.id).where(Bill.amount == 20000))
    other.goto(server.url + f"/bills/{first}/status", timeout=10_000)
    page.goto(server.url + "/bills/", timeout=10_000)
    totals = page.get_by_test_id("bill-totals")
    expect(totals).to_contain_text("paid BIF 20,000", timeout=5000)
    expect(totals).to_contain_text("waiting for payment BIF 15,000", timeout=5000)
    page.evaluate("window.sameDocument = true")

    requests.post(sandbox.url + f"_sandbox/bills/{codes[15000]}/pay", timeout=5).raise_for_status()
    with server.app.app_context():
        second = db.session.scalar(select(Bill.id).where(Bill.amount == 15000))
    other.goto(server.url + f"/bills/{second}/status", timeout=10_000)
    let_go(other)

    row = page.locator(f'tr[data-bill-id="{second}"]')
    expect(row.get_by_test_id("status-badge")).to_have_text("Paid", timeout=5000)
    expect(totals).to_contain_text("paid BIF 35,000", timeout=5000)
    expect(totals).to_contain_text("waiting for payment BIF 0", timeout=5000)
    expect(totals).to_contain_text("2 bills", timeout=5000)
    assert page.evaluate("window.sameDocument") is True


def test_the_totals_in_the_poll_keep_the_lists_filters(
    page: Page, make_live_server: Any, staff: dict[str, User], sandbox: Any
) -> None:
    server: LiveServer = make_live_server(BILL_LIST_POLL_SECONDS=1)
    log_in(page, server, "cashier@example.com")
    issue_bill(page, server, amount="20000")
    issue_bill(page, server, amount="15000")
    with server.app.app_context():
        codes = dict(db.session.execute(select(Bill.amount, Bill.code)).tuples().all())
        second = db.session.scalar(select(Bill.id).where(Bill.amount == 15000))
    page.goto(server.url + "/bills/?status=pending")
    totals = page.get_by_test_id("bill-totals")
    expect(totals).to_contain_text("2 bills", timeout=5000)
    requests.post(sandbox.url + f"_sandbox/bills/{codes[15000]}/pay", timeout=5).raise_for_status()
    with server.app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    other = page.context.new_page()
    other.goto(server.url + f"/bills/{second}/status", timeout=10_000)
    let_go(other)
    # Only pending bills are listed: one is left, of 20 000.
    expect(totals).to_contain_text("1 bill ", timeout=5000)
    expect(totals).to_contain_text("waiting for payment BIF 20,000", timeout=5000)
