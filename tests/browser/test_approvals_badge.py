"""The menu tells an approver how many cash-ins wait for them (not their own), in words a
screen reader says too, and the approvals list opens from there."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.axe import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in
from tests.http.test_office_approvals import waiting

WAIT = 10_000  # ms: every wait on the page is bounded


def test_the_menu_counts_the_cash_ins_waiting_for_me(
    page: Page, live_server: LiveServer, app: Flask, staff: dict[str, User]
) -> None:
    waiting(app, "accountant@example.com", 2)
    waiting(app, "accountant2@example.com", 1)
    log_in(page, live_server, "accountant2@example.com")
    nav = page.get_by_test_id("nav")
    badge = nav.get_by_test_id("approvals-badge")
    expect(badge).to_be_visible(timeout=WAIT)
    expect(badge).to_have_text(re.compile(r"^\s*2\b"), timeout=WAIT)
    link = nav.get_by_role("link", name=re.compile(r"Cash-ins 2 Waiting for your approval"))
    expect(link).to_have_count(1, timeout=WAIT)
    assert axe_violations(page) == []  # the badge in the menu included
    link.click()
    page.get_by_role("link", name=re.compile(r"^Approvals")).click()
    expect(page.get_by_test_id("approvals").locator("tbody tr")).to_have_count(3, timeout=WAIT)
    assert axe_violations(page) == []
