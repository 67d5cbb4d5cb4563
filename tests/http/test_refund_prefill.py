"""A refund opens with the payer's own account when iHela knows it (issue 10, must-show 4)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Bill, BillState, Cashin, User
from tests.conftest import WebClient

pytestmark = pytest.mark.both_dialects

FIXTURE_PAYER = "clientmail@gmail.com"  # the sandbox's payer (ihela-api.md §6)
ASK = "Ask the customer for their bank, their account number and the name on the account."


@pytest.fixture()
def accountant(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("accountant@example.com")
    return web


def paid_bill(app: Flask, sandbox: Any, payer: str = FIXTURE_PAYER) -> int:
    """A bill issued through the dashboard and paid by ``payer`` in the sandbox."""
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    page = cashier.get("/bills/new").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page)
    assert token
    cashier.post(
        "/bills/new",
        {
            "amount": "12000",
            "payer_kind": "email",
            "payer": payer,
            "description": "shoes",
            "bank_slug": "",
            "bank_client_id": "",
            "form_token": token.group(1),
        },
    )
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
        bill_id = bill.id
    cashier.post(f"/bills/{bill_id}/refresh")
    with app.app_context():
        assert db.session.get(Bill, bill_id).status == BillState.PAID  # type: ignore[union-attr]
    return bill_id


def paid_bill_row(app: Flask, staff: dict[str, User], payer: str) -> int:
    """A paid bill of a payer the sandbox has never heard of (written straight to the DB)."""
    with app.app_context():
        bill = Bill(
            merchant_reference="B-" + secrets.token_hex(4).upper(),
            public_token=secrets.token_urlsafe(16),
            amount=8000,
            payer=payer,
            payer_kind="email",
            description="bread",
            status=BillState.PAID,
            issued_by_id=staff["cashier"].id,
        )
        db.session.add(bill)
        db.session.commit()
        return bill.id


def field_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def selected_bank(page: str) -> str | None:
    found = re.search(r'<option value="([^"]+)"[^>]*selected', page)
    return found.group(1) if found else None


# v1 only: on this branch's main, v2 bills end "failed" (no confirmation_uri is deemed unsafe);
# the next test covers the v2 lookup with a paid bill written to the database.
@pytest.mark.parametrize("dialect", ["v1"])
def test_refund_of_the_fixture_payers_bill_opens_with_their_account(
    app: Flask, accountant: WebClient, sandbox: Any, dialect: str
) -> None:
    bill_id = paid_bill(app, sandbox)
    response = accountant.get(f"/cashins/new?bill={bill_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert selected_bank(page) == "MF1-0001"
    assert field_value(page, "account") == "000002-01"
    assert 'data-testid="holder-name">Ndayishimiye Claude<' in page  # shown as confirmed
    assert 'data-testid="payer-account" data-status="found"' in page
    assert "iHela Credit Union" in page and ASK not in page
    # Sending it as it opened: the refund goes to that account, name confirmed by the bank.
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page)
    assert token
    data = {
        "bank_slug": selected_bank(page),
        "account": field_value(page, "account"),
        "amount": field_value(page, "amount"),
        "description": "Refund",
        "form_token": token.group(1),
        "bill_id": str(bill_id),
    }
    created = accountant.post(f"/cashins/new?bill={bill_id}", data)
    assert created.status_code == 303, created.get_data(as_text=True)[-2000:]
    with app.app_context():
        cashin = db.session.scalars(select(Cashin)).one()
        assert (cashin.bank_slug, cashin.account) == ("MF1-0001", "000002-01")
        assert cashin.holder_name == "Ndayishimiye Claude"
        assert cashin.holder_check == "confirmed" and cashin.bill_id == bill_id


@pytest.mark.parametrize("payer", [FIXTURE_PAYER, "79123456", "2"])
def test_prefill_in_each_dialect_by_e_mail_phone_or_client_code(
    app: Flask, accountant: WebClient, staff: dict[str, User], payer: str
) -> None:
    bill_id = paid_bill_row(app, staff, payer)
    page = accountant.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    assert selected_bank(page) == "MF1-0001"
    assert field_value(page, "account") == "000002-01"
    assert 'data-testid="holder-name">Ndayishimiye Claude<' in page


def test_unknown_payer_says_what_to_ask_the_customer(
    app: Flask, accountant: WebClient, staff: dict[str, User]
) -> None:
    bill_id = paid_bill_row(app, staff, "stranger@example.com")
    page = accountant.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    assert 'data-status="not_found"' in page
    assert "iHela found no account for the payer stranger@example.com." in page
    assert ASK in page and "iHela could not be asked" not in page
    assert selected_bank(page) is None and not field_value(page, "account")


def test_lookup_failure_says_ihela_could_not_be_asked(
    app: Flask,
    accountant: WebClient,
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"status": 503, "path": api_path("lookup")},
        timeout=5,
    ).raise_for_status()
    response = accountant.get(f"/cashins/new?bill={bill_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-status="unavailable"' in page
    assert "iHela could not be asked." in page and ASK in page
    assert not field_value(page, "account")


def test_gateway_down_is_no_500(make_app: Callable[..., Flask], staff: dict[str, User]) -> None:
    app = make_app(IHELA_BASE_URL="http://127.0.0.1:9/", IHELA_CONNECT_TIMEOUT=0.5)
    bill_id = paid_bill_row(app, staff, FIXTURE_PAYER)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    response = web.get(f"/cashins/new?bill={bill_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "iHela could not be asked." in page and ASK in page


def test_the_ask_the_customer_message_in_french(
    app: Flask, accountant: WebClient, staff: dict[str, User]
) -> None:
    bill_id = paid_bill_row(app, staff, "stranger@example.com")
    accountant.post("/lang", {"lang": "fr"})
    page = accountant.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    assert "iHela n'a trouvé aucun compte pour le payeur stranger@example.com." in page.replace(
        "&#39;", "'"
    )
    assert "Demandez au client sa banque, son numéro de compte et le nom du titulaire" in page
