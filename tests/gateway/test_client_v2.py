"""The v2 dialect against the sandbox's v2 API: envelope, PIN, response codes, retries, status."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dashboard.ihela import (
    AccountNotFound,
    BillStatus,
    GatewayRejected,
    GatewayUnavailable,
    IhelaClient,
    OperationOutcome,
    OutcomeUnknown,
)
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import SANDBOX_PIN

PAYER = "clientmail@gmail.com"
CASHIN = "/api/v2/payments/cash-in/"
CHECK = "/api/v2/payments/bill-check/"


@pytest.fixture()
def client(sandbox: RunningSandbox) -> Iterator[IhelaClient]:
    with IhelaClient(
        sandbox.url,
        "sandbox-client-id",
        "sandbox-client-secret",
        read_timeout=0.5,
        api="v2",
        pin=SANDBOX_PIN,
    ) as ihela:
        yield ihela


def control(sandbox: RunningSandbox, method: str, what: str, **json: Any) -> dict[str, Any]:
    reply = requests.request(method, sandbox.url + "_sandbox/" + what, json=json, timeout=5)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    return body


def requests_to(sandbox: RunningSandbox, path: str) -> int:
    return int(control(sandbox, "GET", "stats")["api_requests"].get(path, 0))


def new_reference() -> str:
    return uuid.uuid4().hex[:20]


def test_bill_lifecycle_in_v2(client: IhelaClient, sandbox: RunningSandbox) -> None:
    reference = new_reference()
    bill = client.init_bill(2000, PAYER, "Bread", reference)
    assert re.fullmatch(r"CODE-\d{8}-[A-Z0-9]{7}", bill.code)
    assert (bill.status, bill.merchant_reference, bill.amount) == (
        BillStatus.PENDING,
        reference,
        2000,
    )
    assert bill.confirmation_uri is None
    assert bill.raw["response_code"] == "00" and bill.raw["response_data"]["code"] == bill.code

    check = client.verify_bill(bill.code, reference)
    assert (check.status, check.raw_status) == (BillStatus.PENDING, "Initial")
    control(sandbox, "POST", f"bills/{bill.code}/pay")
    check = client.verify_bill(bill.code, reference)
    assert check.status is BillStatus.PAID and check.bank_reference


def test_v2_sends_json_with_the_pin_and_a_wrong_pin_is_refused(sandbox: RunningSandbox) -> None:
    token = requests.post(
        sandbox.url + "oAuth2/token/",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client-id", "sandbox-client-secret"),
        timeout=5,
    ).json()["access_token"]
    body = {"bill_code": "CODE-20260101-AAAAAAA", "merchant_reference": "x", "pin_code": "0000"}
    reply = requests.post(
        sandbox.url + "api/v2/payments/bill-check/",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert reply.status_code == 403 and reply.json()["response_code"] == "08"
    with (
        IhelaClient(
            sandbox.url, "sandbox-client-id", "sandbox-client-secret", api="v2", pin="9999"
        ) as wrong,
        pytest.raises(GatewayRejected) as caught,
    ):
        wrong.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert caught.value.status == 403
    assert control(sandbox, "GET", "cashins")["cashins"] == []


def test_v2_needs_a_pin() -> None:
    with pytest.raises(ValueError, match="PIN"):
        IhelaClient("http://127.0.0.1:9/", "id", "secret", api="v2")


def test_banks_lookup_and_cashin_in_v2(client: IhelaClient, sandbox: RunningSandbox) -> None:
    banks = {bank.slug: bank for bank in client.get_bank_list()}
    assert banks["MOB-0003"].limits is not None and banks["BNQ-0005"].has_lookup is False
    holder = client.customer_lookup("MF1-0001", "000001-01")
    assert holder.name == "Bigirimana Fabrice"
    with pytest.raises(AccountNotFound):
        client.customer_lookup("MF1-0001", "999999-01")
    reference = new_reference()
    result = client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")
    assert re.fullmatch(r"\d{14}", result.reference)
    assert (result.amount, result.merchant_reference) == (20000, reference)
    status = client.operation_status(reference)
    assert (status.outcome, status.reference, status.amount) == (
        OperationOutcome.SUCCEEDED,
        result.reference,
        20000,
    )


def test_insufficient_funds_is_a_refusal_with_its_reason(
    client: IhelaClient, sandbox: RunningSandbox
) -> None:
    control(sandbox, "POST", "faults", response_code="05", path=CASHIN, count=1)
    with pytest.raises(GatewayRejected) as caught:
        client.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert "Insufficient funds" in caught.value.message
    assert requests_to(sandbox, CASHIN) == 1


def test_code_07_on_a_cashin_is_unavailable_and_not_retried(
    client: IhelaClient, sandbox: RunningSandbox
) -> None:
    control(sandbox, "POST", "faults", response_code="07", path=CASHIN, count=1)
    with pytest.raises(GatewayUnavailable) as caught:
        client.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert requests_to(sandbox, CASHIN) == 1
    assert control(sandbox, "GET", "cashins")["cashins"] == []


def test_5xx_on_a_cashin_stays_outcome_unknown_and_is_not_retried(
    client: IhelaClient, sandbox: RunningSandbox
) -> None:
    control(sandbox, "POST", "faults", status=502, path=CASHIN, count=1)
    with pytest.raises(OutcomeUnknown):
        client.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert requests_to(sandbox, CASHIN) == 1


@pytest.mark.parametrize("fault", [{"status": 503}, {"response_code": "07"}], ids=["5xx", "07"])
def test_a_read_is_asked_once_more_and_no_more(
    client: IhelaClient, sandbox: RunningSandbox, fault: dict[str, Any]
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    control(sandbox, "POST", "faults", path=CHECK, count=1, **fault)
    assert client.verify_bill(bill.code, bill.merchant_reference).status is BillStatus.PENDING
    assert requests_to(sandbox, CHECK) == 2
    control(sandbox, "POST", "faults", path=CHECK, count=5, **fault)
    with pytest.raises(GatewayUnavailable):
        client.verify_bill(bill.code, bill.merchant_reference)
    assert requests_to(sandbox, CHECK) == 4


def test_operation_status_of_an_unknown_reference_is_not_found(client: IhelaClient) -> None:
    status = client.operation_status(new_reference())
    assert status.outcome is OperationOutcome.NOT_FOUND


def test_v1_has_no_operation_status(sandbox: RunningSandbox) -> None:
    with IhelaClient(sandbox.url, "sandbox-client-id", "sandbox-client-secret") as v1:
        assert v1.can_check_operations is False
        with pytest.raises(NotImplementedError):
            v1.operation_status("anything")


def test_the_pin_never_shows_in_the_client_repr(client: IhelaClient) -> None:
    assert SANDBOX_PIN not in repr(client) and "api='v2'" in repr(client)
