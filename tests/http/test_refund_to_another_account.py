"""A refund that does not go back to the payer's account always waits for a second person
(issue 15, row 2): one accountant changes the prefilled account to someone else's and sends."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard import messages as msg
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, Cashin, User
from tests.conftest import WebClient
from tests.http.test_refund_prefill import FIXTURE_PAYER, field_value, paid_bill_row, selected_bank

pytestmark = pytest.mark.both_dialects

PAYERS_ACCOUNT = "000002-01"  # the fixture payer's own account at iHela Credit Union
SOMEONE_ELSE = "000016-01"  # Niyonzima Aline's account at the same bank
NOT_PAYER_EN = "not the payer's account (the payer's is 000002-01 at iHela Credit Union)"
NOT_PAYER_FR = (
    "ce n'est pas le compte du payeur (celui du payeur est 000002-01 chez iHela Credit Union)"
)
TOKEN = re.compile(r'name="(form_token|send_token)"[^>]*value="([^"]*)"')


def text_of(response: Any) -> str:
    """The page as a person reads it: entities decoded, no-break spaces as plain ones."""
    page = html.unescape(response.get_data(as_text=True))
    return page.replace("\u202f", " ").replace("\u00a0", " ")


def refund_form(web: WebClient, bill_id: int) -> dict[str, str]:
    """The refund form as it opens, to be sent back with whatever the person changes."""
    page = web.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    tokens = dict(TOKEN.findall(page))
    return {
        "bank_slug": selected_bank(page) or "",
        "account": field_value(page, "account") or "",
        "amount": field_value(page, "amount") or "",
        "description": "Refund of the shoes",
        "reason": "refund",
        "holder_name": "",
        "bill_id": str(bill_id),
        "form_token": tokens["form_token"],
    }


def send_token(web: WebClient, url: str) -> str:
    return dict(TOKEN.findall(web.get(url).get_data(as_text=True)))["send_token"]


def received(sandbox: Any) -> list[dict[str, Any]]:
    return list(requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"])


def the_cashin(app: Flask) -> Cashin:
    with app.app_context():
        cashin = db.session.scalars(select(Cashin)).one()
        db.session.expunge(cashin)
        return cashin


@pytest.fixture()
def accountant(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("accountant@example.com")
    return web


def other_accountant(app: Flask) -> WebClient:
    other = WebClient(app.test_client())
    other.login("accountant2@example.com")
    return other


def test_changing_the_prefilled_account_to_someone_elses_waits_for_a_second_person(
    app: Flask, accountant: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    form = refund_form(accountant, bill_id)
    assert (form["bank_slug"], form["account"]) == ("MF1-0001", PAYERS_ACCOUNT)  # prefilled
    created = accountant.post(f"/cashins/new?bill={bill_id}", {**form, "account": SOMEONE_ELSE})
    assert created.status_code == 303, created.get_data(as_text=True)[-2000:]
    url = created.headers["Location"]

    # The review page says so plainly, and there is no "send now".
    review = text_of(accountant.get(url))
    assert f"Careful: {NOT_PAYER_EN}." in review
    assert "Submit for approval" in review and "Send BIF 8,000 now" not in review
    cashin = the_cashin(app)
    assert cashin.needs_approval and cashin.amount == 8000  # far under the approval threshold

    # The one click submits it: nothing leaves.
    page = text_of(
        accountant.post(
            url + "/confirm", {"send_token": send_token(accountant, url)}, follow_redirects=True
        )
    )
    assert "another accountant must approve it" in page
    assert the_cashin(app).status == "awaiting_approval" and received(sandbox) == []

    # Its author cannot approve it, not even by posting directly.
    page = text_of(accountant.post(url + "/approve", follow_redirects=True))
    assert "another accountant must approve it" in page
    assert the_cashin(app).status == "awaiting_approval" and received(sandbox) == []

    # The second person reads it on the approvals list and on the cash-in, then approves.
    other = other_accountant(app)
    assert NOT_PAYER_EN in text_of(other.get("/cashins/approvals"))
    assert f"Careful: {NOT_PAYER_EN}." in text_of(other.get(url))
    other.post(url + "/approve", follow_redirects=True)
    assert the_cashin(app).status == "succeeded"
    [sent] = received(sandbox)
    assert sent["account"] == SOMEONE_ELSE

    # The trail records it: drafted, submitted and approved each name the payer's account.
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "cashin").order_by(AuditEvent.id)
        ).all()
        said = {event.action: msg.render(event.summary) for event in events}
    for action in ("cashin.drafted", "cashin.submitted_for_approval", "cashin.approved"):
        assert NOT_PAYER_EN in said[action], (action, said)
    trail = text_of(other.get(url))
    assert trail.count(NOT_PAYER_EN) >= 3


def test_a_refund_to_the_payers_own_account_goes_at_once(
    app: Flask, accountant: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    created = accountant.post(f"/cashins/new?bill={bill_id}", refund_form(accountant, bill_id))
    url = created.headers["Location"]
    review = text_of(accountant.get(url))
    assert "Careful:" not in review, re.findall(r"Careful[^<]*", review)
    assert "Send BIF 8,000 now" in review
    accountant.post(url + "/confirm", {"send_token": send_token(accountant, url)})
    cashin = the_cashin(app)
    assert cashin.status == "succeeded" and cashin.account_warning is None
    assert not cashin.needs_approval


def test_another_account_is_said_in_french_on_review_and_approval(
    app: Flask, accountant: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    accountant.post("/lang", {"lang": "fr"})
    form = refund_form(accountant, bill_id)
    url = accountant.post(
        f"/cashins/new?bill={bill_id}", {**form, "account": SOMEONE_ELSE}
    ).headers["Location"]
    review = text_of(accountant.get(url))
    assert f"Attention : {NOT_PAYER_FR}." in review
    assert "Soumettre pour approbation" in review
    accountant.post(url + "/confirm", {"send_token": send_token(accountant, url)})
    other = other_accountant(app)
    other.post("/lang", {"lang": "fr"})
    assert NOT_PAYER_FR in text_of(other.get("/cashins/approvals"))
    assert NOT_PAYER_FR in text_of(other.get(url))


def test_the_rule_holds_whatever_the_form_says(
    app: Flask, accountant: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    """No way around it: sending the same form again with the payer's account does not change
    the draft; a forged send token sends nothing; the draft has no other way to change."""
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    form = refund_form(accountant, bill_id)
    url = accountant.post(
        f"/cashins/new?bill={bill_id}", {**form, "account": SOMEONE_ELSE}
    ).headers["Location"]
    # The same form again, now with the payer's account: the first draft is what stands.
    again = accountant.post(f"/cashins/new?bill={bill_id}", form)
    assert again.headers["Location"] == url
    cashin = the_cashin(app)
    assert cashin.account == SOMEONE_ELSE and cashin.account_warning is not None
    accountant.post(url + "/confirm", {"send_token": "forged-token-0000000000"})
    assert the_cashin(app).status == "draft" and received(sandbox) == []
    accountant.post(url + "/confirm", {"send_token": send_token(accountant, url)})
    assert the_cashin(app).status == "awaiting_approval" and received(sandbox) == []


def test_when_ihela_cannot_name_the_payers_account_a_second_person_approves(
    app: Flask,
    accountant: WebClient,
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    """The payer's account lookup fails while the refund is prepared: nobody knows whether the
    typed account is the payer's, so it is treated like an unconfirmed name."""
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    form = refund_form(accountant, bill_id)
    # The payer is looked up at iHela's own bank with their e-mail: only that call fails.
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"status": 503, "path": api_path("lookup") + "MF1-0001", "count": 2},
        timeout=5,
    ).raise_for_status()
    created = accountant.post(
        f"/cashins/new?bill={bill_id}",
        {**form, "bank_slug": "MOB-0003", "account": "71000002"},
    )
    assert created.status_code == 303, created.get_data(as_text=True)[-2000:]
    review = text_of(accountant.get(created.headers["Location"]))
    assert "iHela could not be asked for the payer's account" in review
    assert the_cashin(app).needs_approval


def test_every_reason_is_kept_and_said_together(
    app: Flask, accountant: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    """Not the payer's account, over the threshold and a name the bank cannot confirm: all
    three are stored (longer than the old 200-character column) and said on the review."""
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(amount=150_000))
        db.session.commit()
    form = refund_form(accountant, bill_id)
    created = accountant.post(
        f"/cashins/new?bill={bill_id}",
        {
            **form,
            "bank_slug": "BNQ-0005",
            "account": "0150099912300",
            "amount": "150000",
            "holder_name": "Nshimirimana Eric",
            "holder_verified": "y",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)[-2000:]
    review = text_of(accountant.get(created.headers["Location"]))
    assert (
        f"Needed: {NOT_PAYER_EN}, the amount is BIF 100,000 or more and the holder's name "
        "could not be confirmed by the bank" in review
    )
    assert len(the_cashin(app).approval_reason or "") > 200
