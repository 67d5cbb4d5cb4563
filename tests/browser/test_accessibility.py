"""Every page of ours, staff and public, in French and English, passes axe-core's audit (the
engine behind Lighthouse's accessibility score) with no violation at any impact level: colour
contrast, names of controls, landmarks, headings... (The sandbox's payer page is iHela's.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, Cashin, Customer, Poster, PriceItem, User
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, WebClient
from tests.http.test_bills import issue
from tests.http.test_cashins import confirm, prepare
from tests.http.test_two_factor import enrol

WAIT = 10_000  # ms: the bound of every wait on a page below


def assert_accessible(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where} ({page.url}):\n{describe(violations)}"


def sign_in(page: Page, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """The login form in either language (its fields found by name, not by their words)."""
    page.goto(server.url + "/login")
    page.locator("input[name=email]").fill(email, timeout=WAIT)
    page.locator("input[name=password]").fill(password, timeout=WAIT)
    page.locator("input[name=password]").press("Enter", timeout=WAIT)


def choose_language(page: Page, lang: str) -> None:
    """The switch on the login page; the choice holds for every page after it."""
    page.get_by_test_id(f"lang-{lang}").first.click(timeout=WAIT)
    expect(page.locator("html")).to_have_attribute("lang", lang, timeout=WAIT)


def test_the_audit_reports_a_page_that_breaks_the_rules(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.url + "/login")
    assert_accessible(page, "login page as served")
    # A picture without a text, a grey on grey sentence, a field without a label: added by
    # script (the page's Content-Security-Policy forbids inline styles in markup).
    page.evaluate(
        """() => {
             const main = document.querySelector("main") || document.body;
             const img = document.createElement("img");
             img.src = "/static/favicon.svg";
             const text = document.createElement("p");
             text.textContent = "Hard to read";
             text.style.color = "#aaaaaa";
             text.style.background = "#f8f9fa";
             const input = document.createElement("input");
             main.append(img, text, input);
           }"""
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "color-contrast", "label"} <= found, found


def _bill(app: Flask, **where: Any) -> Bill:
    with app.app_context():
        bill = db.session.scalars(select(Bill).filter_by(**where).order_by(Bill.id)).first()
        assert bill is not None
        db.session.expunge(bill)
        return bill


def _cashins(app: Flask) -> list[Cashin]:
    with app.app_context():
        rows = list(db.session.scalars(select(Cashin).order_by(Cashin.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture()
def records(live_server: LiveServer, staff: dict[str, User], sandbox: Any) -> dict[str, int]:
    """A pending bill, a cash-in sent and one waiting for review (drafted by the accountant)."""
    web = WebClient(live_server.app.test_client())
    web.login("accountant@example.com")
    assert issue(web).status_code in (302, 303)
    sent = prepare(web)
    assert sent.status_code in (302, 303)
    assert confirm(web, sent.headers["Location"]).status_code == 200
    assert prepare(web, amount="5 000").status_code in (302, 303)
    cashins = _cashins(live_server.app)
    with live_server.app.app_context():
        db.session.add(PriceItem(name="Rice 25 kg", price=45_000, active=True, uses=0))
        poster = Poster(label="Kiosk", user_id=staff["cashier"].id, offers_items=True)
        db.session.add(poster)
        db.session.commit()
        customer = db.session.scalar(select(Customer.id))
        assert customer is not None
        poster_id = poster.id
    return {
        "bill": _bill(live_server.app).id,
        "cashin_sent": cashins[0].id,
        "cashin_draft": cashins[1].id,
        "customer": customer,
        "poster": poster_id,
    }


CASHIER_PAGES = [
    "/",
    "/bills/",
    "/bills/new",
    "/bills/{bill}",
    "/bills/{bill}/slip",
    "/counter",
    "/reports/shift",
    "/account/two-factor",
    "/account/emails",
    "/customers/",
    "/customers/{customer}",
]
ACCOUNTANT_PAGES = [
    *CASHIER_PAGES,
    "/cashins/",
    "/cashins/new",
    "/cashins/{cashin_sent}",
    "/cashins/{cashin_sent}/receipt",
    "/cashins/{cashin_draft}",
    "/cashins/approvals",
    "/reports/",
]
ADMIN_PAGES = [
    *ACCOUNTANT_PAGES,
    "/admin/users",
    "/admin/audit",
    "/admin/settings",
    "/admin/two-factor",
    "/admin/system",
    "/prices/",
    "/posters",
    "/posters/{poster}/print?size=a5",
]
PAGES = {"cashier": CASHIER_PAGES, "accountant": ACCOUNTANT_PAGES, "admin": ADMIN_PAGES}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("role", ["cashier", "accountant", "admin"])
def test_every_staff_page_of_each_role(
    page: Page, live_server: LiveServer, records: dict[str, int], role: str, lang: str
) -> None:
    page.goto(live_server.url + "/login")
    choose_language(page, lang)
    sign_in(page, live_server, f"{role}@example.com")
    expect(page.get_by_test_id("signed-in")).to_be_visible(timeout=WAIT)
    for path in PAGES[role]:
        page.goto(live_server.url + path.format(**records))
        expect(page.locator("html")).to_have_attribute("lang", lang, timeout=WAIT)
        assert_accessible(page, f"{role} {path}")
    if role == "admin":  # the gateway check, run from the Settings page
        page.goto(live_server.url + "/admin/settings")
        page.get_by_test_id("run-ihela-check").click(timeout=WAIT)
        expect(page.get_by_test_id("check-table")).to_be_visible(timeout=WAIT)
        assert_accessible(page, "admin gateway check")
    # Menu of a phone, opened; forms sent with mistakes, their errors beside the fields.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/bills/")
    page.locator(".navbar-toggler").click(timeout=WAIT)
    expect(page.get_by_test_id("nav")).to_be_visible(timeout=WAIT)
    assert_accessible(page, f"{role} phone menu open")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/bills/new")
    page.locator("main form button[type=submit]").last.click(timeout=WAIT)
    expect(page.locator("main .is-invalid").first).to_be_visible(timeout=WAIT)
    assert_accessible(page, f"{role} new bill with errors")
    if role != "cashier":
        page.goto(live_server.url + "/cashins/new")
        page.locator("main form button[type=submit]").last.click(timeout=WAIT)
        expect(page.locator("main .is-invalid").first).to_be_visible(timeout=WAIT)
        assert_accessible(page, f"{role} new cash-in with errors")
        # The bank picker open, its options listed.
        page.locator(".ts-control").first.click(timeout=WAIT)
        expect(page.locator(".ts-dropdown .option").first).to_be_visible(timeout=WAIT)
        assert_accessible(page, f"{role} bank picker open")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_counter_with_a_bill_and_its_customer_display(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    staff: dict[str, User],
    sandbox: Any,
    lang: str,
) -> None:
    page.goto(live_server.url + "/login")
    choose_language(page, lang)
    sign_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    code = page.get_by_test_id("pairing-code").inner_text(timeout=WAIT).strip()
    display_context = browser.new_context(locale="fr-FR" if lang == "fr" else "en-GB")
    try:
        display = display_context.new_page()
        display.goto(live_server.url + "/display")
        expect(display.locator("html")).to_have_attribute("lang", lang, timeout=WAIT)
        assert_accessible(display, "display pairing page")
        display.keyboard.type(code)
        display.keyboard.press("Enter")
        expect(display.get_by_test_id("display-waiting")).to_be_visible(timeout=WAIT)
        assert_accessible(display, "customer display waiting")

        page.keyboard.type("6500")
        page.keyboard.press("Tab")
        page.keyboard.type("clientmail@gmail.com")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("counter-qr")).to_be_visible(timeout=WAIT)
        assert_accessible(page, "counter showing a bill")
        expect(display.get_by_test_id("display-qr")).to_be_visible(timeout=WAIT)
        assert_accessible(display, "customer display showing a bill")
    finally:
        display_context.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_public_pages_and_error_pages(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any, lang: str
) -> None:
    web = WebClient(live_server.app.test_client())
    web.login("cashier@example.com")
    assert issue(web).status_code in (302, 303)
    bill = _bill(live_server.app)
    enrol(live_server.app, "accountant@example.com")

    page.goto(live_server.url + "/login")
    choose_language(page, lang)
    assert_accessible(page, "login")
    sign_in(page, live_server, "cashier@example.com", password="not the password")
    expect(page.locator("main .alert, main .is-invalid").first).to_be_visible(timeout=WAIT)
    assert_accessible(page, "login refused")

    page.goto(live_server.url + f"/pay/return/{bill.public_token}")
    expect(page.locator("html")).to_have_attribute("lang", lang, timeout=WAIT)
    assert_accessible(page, "payer's return page")

    # The shop QR's pages: the poster's form (with items, then with a mistake), the bill's page.
    with live_server.app.app_context():
        db.session.add(PriceItem(name="Soap", price=1_500, active=True, uses=0))
        poster = Poster(label="Kiosk", user_id=staff["cashier"].id, offers_items=True)
        db.session.add(poster)
        db.session.commit()
        token = poster.token
    page.goto(live_server.url + f"/s/{token}")
    assert_accessible(page, "shop QR page")
    page.locator("button[type=submit]").click(timeout=WAIT)
    expect(page.locator("[data-field-error]").first).to_be_visible(timeout=WAIT)
    assert_accessible(page, "shop QR page with a mistake")
    page.locator("#amount").fill("7 000")
    page.locator("#payer").fill("79123456")
    page.locator("button[type=submit]").click(timeout=WAIT)
    expect(page.get_by_test_id("self-service-amount")).to_be_visible(timeout=WAIT)
    assert_accessible(page, "shop QR bill page")
    response = page.goto(live_server.url + "/no/such/page")
    assert response is not None and response.status == 404
    assert_accessible(page, "404 page")

    sign_in(page, live_server, "accountant@example.com")
    expect(page).to_have_url(re.compile(r"/login/code$"), timeout=WAIT)
    assert_accessible(page, "two-factor code page")
    page.goto(live_server.url + "/login")
    sign_in(page, live_server, "cashier@example.com")
    expect(page.get_by_test_id("signed-in")).to_be_visible(timeout=WAIT)
    response = page.goto(live_server.url + "/admin/users")
    assert response is not None and response.status == 403
    assert_accessible(page, "403 page")


# Lighthouse's check ("Prevents users from pasting into input fields"): a cancellable paste
# event sent to each field; a field whose handler cancels it refuses a paste.
REFUSING_PASTE = """() => Array.from(document.querySelectorAll("input, textarea"))
  .filter(el => !el.dispatchEvent(new ClipboardEvent("paste", {cancelable: true})))
  .map(el => el.id || el.name)"""


def test_the_bank_picker_takes_a_paste(
    page: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    sign_in(page, live_server, "accountant@example.com")
    page.goto(live_server.url + "/bills/new")
    expect(page.locator(".ts-wrapper")).to_have_count(1, timeout=WAIT)
    assert page.evaluate(REFUSING_PASTE) == []
    page.goto(live_server.url + "/cashins/new")
    expect(page.locator(".ts-wrapper")).to_have_count(1, timeout=WAIT)
    assert page.evaluate(REFUSING_PASTE) == []

    # A person copies a bank's name, opens the picker and pastes it: the list narrows to it.
    page.evaluate(
        """text => Promise.race([navigator.clipboard.writeText(text),
             new Promise((_, fail) => setTimeout(() => fail(new Error("clipboard")), 5000))])""",
        "EcoCash",
    )
    page.locator(".ts-control").first.click(timeout=WAIT)
    page.keyboard.press("Control+V")
    options = page.locator(".ts-dropdown .option")
    expect(options).to_have_count(1, timeout=WAIT)
    expect(options).to_contain_text("EcoCash", timeout=WAIT)
    page.keyboard.press("Enter")
    expect(page.locator(".ts-control .item")).to_contain_text("EcoCash", timeout=WAIT)
    # A bank chosen (the search box folded behind it): a paste is still taken.
    page.locator("#account").focus()
    assert page.evaluate(REFUSING_PASTE) == []
