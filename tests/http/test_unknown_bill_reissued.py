"""An unknown bill issued again with *Try again* is not forgotten (issue 15, row 3).

iHela's answer to the first request is lost, so its iHela code never came back; the cashier
issues the bill again. Neither dialect can find a bill by our reference alone
(tests/gateway/test_bill_lookup_by_reference.py), so the first one cannot be followed: both
bills say that the first request may still be paid and what to check, the first stays under
*Unknown* (filter and staff banner) until a person records what became of it, with a note.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard import messages as msg
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillEvent, User
from tests.conftest import WebClient
from tests.http.test_bills import fault, issue

pytestmark = pytest.mark.both_dialects

MAY_BE_PAID = "The first request may still be paid."
BANNER = 'data-testid="unknown-bills-banner"'


def text_of(response: Any) -> str:
    """The page's words as a person reads them (no tags, no-break spaces as plain ones)."""
    page = html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))
    return page.replace("\u202f", " ").replace("\u00a0", " ")


def bills(app: Flask) -> list[Bill]:
    with app.app_context():
        rows = list(db.session.scalars(select(Bill).order_by(Bill.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def sandbox_codes(sandbox: Any) -> list[str]:
    listed = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    return [bill["code"] for bill in listed]


def pay(sandbox: Any, code: str) -> None:
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()


def login(app: Flask, email: str) -> WebClient:
    web = WebClient(app.test_client())
    web.login(email)
    return web


@pytest.fixture()
def lost_then_reissued(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> tuple[Flask, WebClient, str, str]:
    """A bill whose init answer was lost (iHela did create it), issued again with Try again."""
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    cashier = login(app, "cashier@example.com")
    fault(sandbox, stall=2, path=api_path("bill init"), count=1)
    first_url = issue(cashier).headers["Location"]
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    token = re.search(r'name="form_token" value="([^"]+)"', cashier.get(first_url).get_data(True))
    assert token
    again_url = cashier.post(first_url + "/retry", {"form_token": token[1]}).headers["Location"]
    first, again = bills(app)
    assert (first.status, first.code, again.status) == ("unknown", None, "pending")
    return app, cashier, first_url, again_url


def test_a_customer_who_pays_both_is_seen_until_a_person_settles_the_first(
    lost_then_reissued: tuple[Flask, WebClient, str, str], sandbox: Any
) -> None:
    app, cashier, first_url, again_url = lost_then_reissued
    first, again = bills(app)

    # Both bills say the first request may still be paid, and what to check.
    page = text_of(cashier.get(first_url))
    assert MAY_BE_PAID in page
    assert f"call iHela with our reference {first.merchant_reference}" in page
    assert 'data-testid="settle-unknown"' in cashier.get(first_url).get_data(True)
    assert 'data-testid="reissue-of-unknown"' in cashier.get(again_url).get_data(True)
    page = text_of(cashier.get(again_url))
    assert (
        f"This bill issues again {first.merchant_reference}, whose outcome is unknown: "
        "the first request may still be paid." in page
    )

    # The first stays in sight after Try again: the banner counts it, the filter lists it.
    listed = cashier.get("/bills/").get_data(as_text=True)
    banner = re.search(BANNER + r">(.*?)</div>", listed, re.S)
    assert banner and "1 bill with an unknown outcome" in banner[1]
    assert first.merchant_reference in cashier.get("/bills/?status=unknown").get_data(True)

    # The customer pays both. The second turns paid; the first cannot be asked about.
    [first_code] = [code for code in sandbox_codes(sandbox) if code != again.code]
    pay(sandbox, first_code)
    assert again.code is not None
    pay(sandbox, again.code)
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["bills", "refresh-pending"])
    assert result.exit_code == 0, result.output
    assert [b.status for b in bills(app)] == ["unknown", "paid"]
    assert BANNER in cashier.get("/bills/").get_data(as_text=True)
    assert MAY_BE_PAID in text_of(cashier.get(first_url))

    # A cashier may not record "paid" (it makes the bill refundable), nor without a note.
    refused = cashier.post(first_url + "/settle", {"outcome": "paid", "note": "ok"})
    assert refused.status_code == 422
    page = text_of(refused)
    assert "An accountant or an admin records that it was paid." in page
    assert "Write what you checked and what you found" in page
    assert bills(app)[0].status == "unknown"

    # An accountant checked with iHela: the first was paid too. Recorded, with the note.
    accountant = login(app, "accountant@example.com")
    note = "iHela support (Jean, 10:40) confirmed it was paid"
    done = accountant.post(
        first_url + "/settle",
        {"outcome": "paid", "note": note, "reference": "BANK-778"},
        follow_redirects=True,
    )
    assert "Recorded: the bill is paid." in text_of(done)
    settled = bills(app)[0]
    assert (settled.status, settled.payment_reference) == ("paid", "BANK-778")
    with app.app_context():
        event = db.session.scalars(
            select(BillEvent).where(BillEvent.bill_id == settled.id).order_by(BillEvent.id.desc())
        ).first()
        assert event is not None and event.to_status == "paid" and event.actor_id is not None
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bill.unknown_settled")
        ).one()
        assert audit.object_id == settled.merchant_reference and note in msg.render(audit.summary)
    assert note in text_of(accountant.get(first_url))  # the history shows who and why

    # Settled: out of the banner and the filter, no more warnings, and it can be refunded.
    assert BANNER not in cashier.get("/bills/").get_data(as_text=True)
    assert settled.merchant_reference not in cashier.get("/bills/?status=unknown").get_data(True)
    assert 'data-testid="reissue-of-unknown"' not in cashier.get(again_url).get_data(True)
    assert f"/cashins/new?bill={settled.id}" in accountant.get(first_url).get_data(True)
    # Settled once: a second click (another tab) changes nothing.
    again = accountant.post(
        first_url + "/settle", {"outcome": "not_paid", "note": note}, follow_redirects=True
    )
    assert "Somebody already settled this bill." in text_of(again)
    assert bills(app)[0].status == "paid"


def test_a_cashier_records_that_the_first_request_will_not_be_paid(
    lost_then_reissued: tuple[Flask, WebClient, str, str],
) -> None:
    app, cashier, first_url, again_url = lost_then_reissued
    note = "The customer says only the second request reached their phone"
    cashier.post(first_url + "/settle", {"outcome": "not_paid", "note": note})
    first = bills(app)[0]
    assert first.status == "failed"
    page = text_of(cashier.get(first_url))
    assert "checked that this request will not be paid: " + note in page
    assert MAY_BE_PAID not in page
    assert BANNER not in cashier.get("/bills/").get_data(as_text=True)
    assert 'data-testid="reissue-of-unknown"' not in cashier.get(again_url).get_data(True)


def test_the_first_request_may_still_be_paid_in_french(
    lost_then_reissued: tuple[Flask, WebClient, str, str],
) -> None:
    app, cashier, first_url, again_url = lost_then_reissued
    first = bills(app)[0]
    cashier.post("/lang", {"lang": "fr"})
    page = text_of(cashier.get(first_url))
    assert "La première demande peut encore être payée." in page
    assert f"appelez iHela avec notre référence {first.merchant_reference}" in page
    page = text_of(cashier.get(again_url))
    assert (
        f"Cette facture réémet {first.merchant_reference}, dont l'issue est inconnue : "
        "la première demande peut encore être payée." in page
    )
    refused = text_of(cashier.post(first_url + "/settle", {"outcome": "", "note": ""}))
    assert "Dites si le client a payé cette demande." in refused
