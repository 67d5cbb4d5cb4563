"""Every client method against the real sandbox over loopback: typed, normalised results."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dashboard.ihela import BillStatus, IhelaClient
from dashboard.sandbox.server import RunningSandbox

PAYER = "clientmail@gmail.com"


@pytest.fixture()
def client(sandbox: RunningSandbox) -> Iterator[IhelaClient]:
    with IhelaClient(sandbox.url, "sandbox-client-id", "sandbox-client-secret") as ihela:
        yield ihela


def control(sandbox: RunningSandbox, method: str, path: str) -> dict[str, Any]:
    reply = requests.request(method, sandbox.url + "_sandbox/" + path, timeout=5)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    return body


def new_reference() -> str:
    return uuid.uuid4().hex[:20]


def test_init_bill_returns_a_pending_bill(client: IhelaClient, sandbox: RunningSandbox) -> None:
    reference = new_reference()
    bill = client.init_bill(2000, PAYER, "Two sodas", reference)

    assert bill.code.startswith("BILL-")
    assert bill.merchant_reference == reference
    assert bill.amount == 2000
    assert type(bill.amount) is int
    assert (bill.status, bill.raw_status) == (BillStatus.PENDING, "Initiated")
    assert bill.confirmation_uri == f"{sandbox.url}u/operations/bill/confirm/{bill.code}"
    assert bill.payer == PAYER
    assert bill.merchant_title == "Global Test Merchant"
    assert "Two sodas" in bill.description
    assert bill.created_at is not None
    assert abs(bill.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert (bill.expired, bill.payment_reference) == (False, None)
    # None-valued options were not sent: the sandbox would refuse redirect_uri="None".
    assert (bill.redirect_uri, bill.bank, bill.bank_client_id) == (None, None, None)
    assert bill.raw["bill"]["code"] == bill.code


def test_init_bill_for_a_partner_bank_sends_the_payer_as_bank_client_id(
    client: IhelaClient,
) -> None:
    bill = client.init_bill(
        5000,
        "79123456",
        "Phone top-up",
        new_reference(),
        bank="MOB-0003",
        redirect_uri="https://shop.example/back",
    )
    assert (bill.bank, bill.bank_client_id) == ("MOB-0003", "79123456")
    assert bill.redirect_uri == "https://shop.example/back"


def test_verify_of_a_new_bill_is_pending(client: IhelaClient) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    check = client.verify_bill(bill.code, bill.merchant_reference)
    assert (check.status, check.raw_status) == (BillStatus.PENDING, "Pending")
    assert (check.bill_code, check.merchant_reference) == (bill.code, bill.merchant_reference)
    assert check.bank_reference is None
    assert check.message


def test_verify_after_payment_is_paid_with_a_bank_reference(
    client: IhelaClient, sandbox: RunningSandbox
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    control(sandbox, "POST", f"bills/{bill.code}/pay")

    check = client.verify_bill(bill.code, bill.merchant_reference)
    assert (check.status, check.raw_status) == (BillStatus.PAID, "Paid")
    assert check.bank_reference


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("expire", BillStatus.EXPIRED),
        ("cancel", BillStatus.CANCELLED),
        ("fail", BillStatus.FAILED),
    ],
)
def test_verify_normalises_final_statuses(
    client: IhelaClient, sandbox: RunningSandbox, action: str, status: BillStatus
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    control(sandbox, "POST", f"bills/{bill.code}/{action}")
    check = client.verify_bill(bill.code, bill.merchant_reference)
    assert check.status is status
    assert check.bank_reference is None


def test_bank_list_is_typed(client: IhelaClient, sandbox: RunningSandbox) -> None:
    banks = {bank.slug: bank for bank in client.get_bank_list()}

    assert {"MF1-0001", "BNQ-0002", "MOB-0003", "BNQ-0005", "MOB-0006"} <= set(banks)
    assert {bank.bank_type for bank in banks.values()} == {"MF1", "BNQ", "MOB"}
    ihela = banks["MF1-0001"]
    assert (ihela.name, ihela.account_mask, ihela.limits) == (
        "iHela Credit Union",
        "000000-00",
        None,
    )
    ecocash = banks["MOB-0003"]
    assert ecocash.account_mask == "00000000"
    assert ecocash.limits is not None
    assert (ecocash.limits.in_minimum, ecocash.limits.in_maximum) == (1000, 2000000)
    assert type(ecocash.limits.in_minimum) is int
    assert banks["BNQ-0005"].has_lookup is False
    assert all(bank.has_lookup for slug, bank in banks.items() if slug != "BNQ-0005")
    inactive = [bank for bank in banks.values() if not bank.is_active]
    assert [bank.slug for bank in inactive] == ["MF1-0007"]

    for bank in (ihela, ecocash):
        assert bank.logo_url is not None
        assert bank.icon_url is not None
        assert bank.logo_url.startswith(sandbox.url)
        logo = requests.get(bank.logo_url, timeout=5)
        assert logo.status_code == 200
        assert "svg" in logo.headers["Content-Type"]


@pytest.mark.parametrize(
    ("bank_slug", "account", "account_number", "name"),
    [
        ("MF1-0001", "000001-01", "000001-01", "Bigirimana Fabrice"),
        ("MOB-0003", "79123456", "79123456", "Ndayishimiye Claude"),
    ],
)
def test_customer_lookup_names_the_holder(
    client: IhelaClient, bank_slug: str, account: str, account_number: str, name: str
) -> None:
    holder = client.customer_lookup(bank_slug, account)
    assert (holder.bank_slug, holder.account_number, holder.name) == (
        bank_slug,
        account_number,
        name,
    )


def test_cashin_moves_money_once(client: IhelaClient, sandbox: RunningSandbox) -> None:
    reference = new_reference()
    result = client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")

    assert result.reference.startswith("CPT-")
    assert (result.amount, result.merchant_reference) == (20000, reference)
    assert (result.bank_slug, result.account) == ("MF1-0001", "000016-01")
    assert result.message == "Success"
    cashins = control(sandbox, "GET", "cashins")["cashins"]
    assert [(c["merchant_reference"], c["amount"], c["reference"]) for c in cashins] == [
        (reference, 20000, result.reference)
    ]
