"""A customer pays by themselves through a shop QR poster, on a phone with no login; the counter
the poster belongs to shows the payment arrive and turn Paid with nobody touching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, Poster, User
from tests.browser.conftest import CHROMIUM_ARGS, LiveServer
from tests.browser.test_login_flow import log_in

PHONE = {"width": 390, "height": 844}


def test_a_customer_pays_through_the_poster_and_the_counter_sees_it(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    staff: dict[str, User],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    with live_server.app.app_context():
        poster = Poster(label="Kiosk by the market", user_id=staff["cashier"].id)
        db.session.add(poster)
        db.session.commit()
        token = poster.token
    assert CHROMIUM_ARGS  # the same Chromium as every browser test

    log_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    arrivals = page.locator("[data-arrivals]")
    expect(arrivals.get_by_test_id("no-arrivals")).to_be_visible()

    phone_context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
    phone_context.set_default_timeout(15_000)
    try:
        phone = phone_context.new_page()
        phone.goto(f"{live_server.url}/s/{token}")
        expect(phone.get_by_role("heading", name="Global Test Merchant")).to_be_visible()
        wide = phone.evaluate("document.scrollingElement.scrollWidth")
        assert wide <= PHONE["width"]
        phone.get_by_label("Montant (FBu)").fill("7 000")
        phone.get_by_label("Votre numéro de téléphone ou e-mail iHela").fill("79 123 456")
        phone.screenshot(path=str(tmp_path / "poster-phone.png"), full_page=True)
        phone.get_by_role("button", name="Payer", exact=True).click()
        expect(phone.get_by_test_id("self-service-amount")).to_contain_text("7")
        assert phone_context.cookies() == []  # no session, no login

        # The counter sees it arrive, waiting, without a reload or a click.
        expect(arrivals.get_by_text("79123456")).to_be_visible(timeout=15_000)
        expect(arrivals.get_by_test_id("status-badge")).to_contain_text("Pending")

        # The customer pays on iHela's page (the sandbox's) and comes back.
        phone.get_by_test_id("self-service-pay-link").click()
        phone.get_by_role("button", name="Pay").click()
        expect(phone.get_by_test_id("self-service-paid")).to_be_visible(timeout=15_000)
        phone.screenshot(path=str(tmp_path / "poster-paid.png"), full_page=True)
    finally:
        phone_context.close()

    expect(arrivals.get_by_test_id("status-badge")).to_contain_text("Paid", timeout=15_000)
    expect(arrivals.locator("[data-self-paid]")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "counter-arrival.png"))
    with live_server.app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        assert (bill.amount, bill.status, bill.poster_id) == (7000, "paid", poster.id)
