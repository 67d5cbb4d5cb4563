"""In a real browser: focus after a failed submit, the idle warning and *Stay signed in*, a form
sent after the session ended filled in again after login, the Staff page's role select."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in
from tests.conftest import PASSWORD


def test_focus_goes_to_the_first_field_in_error(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/bills/new")
    page.get_by_label("Amount (FBu)").fill("15000")
    page.get_by_label("What is it for?").fill("Shoes, size 42")
    page.get_by_label("Amount (FBu)").focus()
    page.get_by_role("button", name="Issue bill").click()
    payer = page.get_by_label("Payer", exact=True)
    expect(payer).to_have_class(re.compile(r"is-invalid"))
    expect(payer).to_be_focused()
    expect(payer).to_have_attribute("aria-invalid", "true")


def test_idle_warning_and_stay_signed_in(
    page: Page, make_live_server: Callable[..., LiveServer], staff: dict[str, User]
) -> None:
    # 63 s of idleness allowed: the warning (a minute before) shows after about 3 s.
    server = make_live_server(IDLE_TIMEOUT_MINUTES=63 / 60)
    log_in(page, server, "cashier@example.com")
    warning = page.get_by_test_id("idle-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8000)
    expect(warning).to_contain_text("You will be signed out in")
    with page.expect_response(lambda r: r.url.endswith("/session/keep-alive")) as answer:
        warning.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 204
    expect(warning).to_be_hidden()
    page.reload()
    expect(page.get_by_test_id("signed-in")).to_be_visible()


def test_a_form_sent_after_the_session_ended_comes_back_filled_in(
    page: Page, make_live_server: Callable[..., LiveServer], staff: dict[str, User], sandbox: Any
) -> None:
    server = make_live_server(IDLE_TIMEOUT_MINUTES=3 / 60)
    log_in(page, server, "cashier@example.com")
    page.goto(server.url + "/bills/new")
    page.get_by_label("Amount (FBu)").fill("15000")
    page.get_by_label("Payer", exact=True).fill("clientmail@gmail.com")
    page.get_by_label("What is it for?").fill("Shoes, size 42")
    time.sleep(3.5)
    page.get_by_role("button", name="Issue bill").click()
    expect(page.get_by_text("The form you sent was not saved.")).to_be_visible()
    page.get_by_label("E-mail").fill("cashier@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("unsent-form")).to_contain_text("filled in again")
    expect(page.get_by_label("Amount (FBu)")).to_have_value("15000")
    expect(page.get_by_label("Payer", exact=True)).to_have_value("clientmail@gmail.com")
    expect(page.get_by_label("What is it for?")).to_have_value("Shoes, size 42")


def test_role_select_is_not_cut_off_in_french(
    page: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    log_in(page, live_server, "admin@example.com")
    page.goto(live_server.url + "/admin/users")
    page.get_by_role("button", name="FR").click()
    selects = page.locator("select.role-select")
    expect(selects.first).to_be_visible()
    # Room for the longest role name, its padding and the arrow, in the select's own font.
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('select.role-select')).filter(select => {
             const style = getComputedStyle(select);
             const ctx = document.createElement('canvas').getContext('2d');
             ctx.font = style.font;
             const widths = Array.from(select.options).map(o => ctx.measureText(o.text).width);
             const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
             const widest = Math.max(...widths), room = select.clientWidth - padding;
             return widest > room;
           }).length"""
    )
    assert cut == 0
