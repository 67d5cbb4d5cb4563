"""The Counter in French when things do not go to plan: a bill iHela refuses is said in words,
with the amount kept and the cursor back on the payer; coming back to the Counter opens a fresh
form; an expired bill there has *Issue again* with its amount and payer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, BillState, User
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

WAIT = 10_000  # ms: every wait on the page is bounded


@pytest.fixture()
def french(browser: Browser) -> Iterator[Page]:
    """A cashier's browser that asks for French."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in_fr(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_test_id("signed-in")).to_be_visible(timeout=WAIT)


def test_a_bill_ihela_refuses_is_said_in_french_and_ready_to_send_again(
    french: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    page = french
    log_in_fr(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    amount = page.get_by_label("Montant (FBu)")
    expect(amount).to_be_focused(timeout=WAIT)
    page.keyboard.type("7 500")
    page.keyboard.press("Tab")
    page.keyboard.type("personne@inconnu.bi")  # no such iHela user: the sandbox refuses the bill
    page.keyboard.press("Enter")

    refused = page.get_by_test_id("counter-refused")
    expect(refused).to_contain_text("iHela a refusé cette facture", timeout=WAIT)
    body = page.locator("body")
    expect(body).not_to_contain_text('{"code"', timeout=WAIT)
    expect(body).not_to_contain_text("gw.refused", timeout=WAIT)
    payer = page.get_by_label("Payeur", exact=True)
    expect(payer).to_be_focused(timeout=WAIT)
    expect(payer).to_have_value("personne@inconnu.bi", timeout=WAIT)
    expect(page.locator("[data-field-error=payer]")).to_contain_text(
        "Aucun utilisateur iHela", timeout=WAIT
    )
    expect(page.get_by_label("Montant (FBu)")).to_have_value("7 500", timeout=WAIT)

    # Fix the payer and send again: a new bill, with its QR.
    payer.fill("clientmail@gmail.com")
    payer.press("Enter")
    expect(page.get_by_test_id("counter-qr")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("amount")).to_contain_text("7", timeout=WAIT)
    with live_server.app.app_context():
        bills = db.session.scalars(select(Bill).order_by(Bill.id)).all()
        assert [(b.state, b.amount, b.payer) for b in bills] == [
            (BillState.REJECTED, 7500, "personne@inconnu.bi"),
            (BillState.PENDING, 7500, "clientmail@gmail.com"),
        ]


def test_the_french_counter_says_entree(
    french: Page, live_server: LiveServer, staff: dict[str, User]
) -> None:
    log_in_fr(french, live_server, "cashier@example.com")
    french.goto(live_server.url + "/counter")
    expect(french.get_by_role("button", name="Afficher le QR")).to_contain_text(
        "Entrée", timeout=WAIT
    )
    expect(french.get_by_test_id("counter-form")).not_to_contain_text("Enter", timeout=WAIT)


def test_back_to_the_counter_after_expiry_is_a_fresh_form_and_issue_again_keeps_the_bill(
    french: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    page = french
    log_in_fr(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    page.get_by_label("Montant (FBu)").fill("4 200")
    page.get_by_label("Payeur", exact=True).fill("clientmail@gmail.com")
    page.get_by_label("Payeur", exact=True).press("Enter")
    expect(page.get_by_test_id("counter-qr")).to_be_visible(timeout=WAIT)
    with live_server.app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        code, bill_id = bill.code, bill.id
    requests.post(sandbox.url + f"_sandbox/bills/{code}/expire", timeout=5).raise_for_status()

    # On screen, the status poll turns it Expired: it stays, with Issue again.
    problem = page.get_by_test_id("counter-problem")
    expect(problem).to_contain_text("expirée", timeout=20_000)
    issue_again = page.get_by_test_id("counter-issue-again")
    expect(issue_again).to_be_visible(timeout=WAIT)

    # The cashier goes elsewhere and comes back: a fresh form, not the expired bill.
    page.goto(live_server.url + "/bills/")
    page.goto(live_server.url + "/counter")
    expect(page.get_by_test_id("counter-form")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("counter-problem")).to_have_count(0, timeout=WAIT)
    expect(page.get_by_label("Montant (FBu)")).to_have_value("", timeout=WAIT)

    # Issue again from the expired bill: its amount and payer, then one Enter sends it.
    page.goto(live_server.url + f"/counter?copy={bill_id}")
    expect(page.get_by_label("Montant (FBu)")).to_have_value("4200", timeout=WAIT)
    expect(page.get_by_label("Payeur", exact=True)).to_have_value(
        "clientmail@gmail.com", timeout=WAIT
    )
    page.get_by_label("Montant (FBu)").press("Enter")
    expect(page.get_by_test_id("counter-qr")).to_be_visible(timeout=WAIT)
    with live_server.app.app_context():
        assert db.session.scalar(select(Bill.amount).where(Bill.id != bill_id)) == 4200


def test_the_paid_screen_shows_the_bank_reference_once(
    french: Page, live_server: LiveServer, staff: dict[str, User], sandbox: Any
) -> None:
    page = french
    log_in_fr(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/counter")
    page.get_by_label("Montant (FBu)").fill("3000")
    page.get_by_label("Payeur", exact=True).fill("clientmail@gmail.com")
    page.get_by_label("Payeur", exact=True).press("Enter")
    expect(page.get_by_test_id("counter-qr")).to_be_visible(timeout=WAIT)
    with live_server.app.app_context():
        code = db.session.scalars(select(Bill.code)).one()
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    expect(page.get_by_test_id("counter-paid")).to_be_visible(timeout=20_000)
    with live_server.app.app_context():
        reference = db.session.scalars(select(Bill.payment_reference)).one()
    assert reference
    text = page.get_by_test_id("counter").inner_text(timeout=WAIT)
    assert text.count(reference) == 1, text
    assert text.count("Référence bancaire") == 1, text
