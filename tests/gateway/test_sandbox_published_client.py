"""The published ihela-python-client 0.0.5 (PyPI) works against the sandbox unchanged.

It is the closest thing to a second, independent implementation of the wire contract: if the
sandbox drifts from what real integrations send and read, this is where it shows.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

merchant_client = pytest.importorskip(
    "ihela_client.merchant_client",
    reason="ihela-python-client==0.0.5 (dev dependency) is not installed",
)

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


@pytest.fixture()
def client(sandbox: RunningSandbox) -> Any:
    # The constructor authenticates over HTTP straight away.
    return merchant_client.MerchantClient(CLIENT_ID, CLIENT_SECRET, ihela_url=sandbox.url)


def test_constructor_authenticates(client: Any, sandbox: RunningSandbox) -> None:
    assert client.ihela_base_url == sandbox.url
    assert client.is_authenticated()
    assert client.auth_token_object["token_type"] == "Bearer"
    assert client.auth_token_object["response_status"] == 200


def test_bad_credentials_leave_it_unauthenticated(sandbox: RunningSandbox) -> None:
    bad = merchant_client.MerchantClient(CLIENT_ID, "wrong", ihela_url=sandbox.url)
    assert not bad.is_authenticated()
    assert bad.auth_token_object == {"error": "invalid_client", "response_status": 401}


def test_init_and_verify_bill_as_the_readme_calls_them(
    client: Any, sandbox: RunningSandbox
) -> None:
    reference = secrets.token_hex(10)

    bill = client.init_bill(2000, "clientmail@gmail.com", "My description", reference)

    assert bill["response_status"] == 200
    assert bill["bill"]["amount"] == "2000.00"
    assert bill["bill"]["merchant_reference"] == reference
    assert bill["bill"]["status"]["label"] == "Initiated"
    assert bill["bill"]["description"] == f"Global Test Merchant (1) My description {reference}"
    assert bill["bill"]["confirmation_uri"].startswith(sandbox.url)
    assert bill["bill"]["bank"] is None  # 0.0.5 drops None-valued fields

    # README order: merchant reference first, then the bill code.
    verified = client.verify_bill(bill["bill"]["merchant_reference"], bill["bill"]["code"])

    assert verified == {
        "bill": {
            "bank_reference": None,
            "reference": bill["bill"]["code"],
            "code": reference,
            "status": "Pending",
            "message": "Bill waiting for payment",
        },
        "response_status": 200,
    }

    requests.post(bill["bill"]["confirmation_uri"], data={"action": "pay"}, timeout=5)
    paid = client.verify_bill(reference, bill["bill"]["code"])
    assert paid["bill"]["status"] == "Paid"
    assert paid["bill"]["bank_reference"]


def test_init_bill_to_a_mobile_money_bank_copies_user_into_bank_client_id(client: Any) -> None:
    bill = client.init_bill(5000, "79123456", "Airtime", secrets.token_hex(10), bank="MOB-0003")

    assert bill["response_status"] == 200
    assert bill["bill"]["bank"] == "MOB-0003"
    assert bill["bill"]["bank_client_id"] == "79123456"


def test_refusals_come_back_as_dicts_with_the_status(client: Any) -> None:
    reference = secrets.token_hex(10)
    client.init_bill(2000, "clientmail@gmail.com", "first", reference)

    duplicate = client.init_bill(2000, "clientmail@gmail.com", "again", reference)
    unknown = client.init_bill(2000, "nobody@example.com", "who", secrets.token_hex(10))

    assert duplicate["response_status"] == 400
    assert "merchant_reference" in duplicate
    assert unknown["response_status"] == 400
    assert "user" in unknown


def test_get_bank_list(client: Any, sandbox: RunningSandbox) -> None:
    banks = client.get_bank_list()

    assert banks["response_status"] == 200
    assert banks["count"] == len(banks["banks"]) == 6
    first = banks["banks"][0]
    assert {"slug", "name", "bank_type", "company", "limits_config", "account_masked_text"} <= set(
        first
    )
    assert first["company"]["logo"].startswith(sandbox.url)


def test_customer_lookup(client: Any) -> None:
    found = client.customer_lookup("MF1-0001", "000001-01")
    missing = client.customer_lookup("MF1-0001", "999999-01")

    assert found["response_status"] == 200
    assert found["account_number"] == "000001-01"
    assert found["name"] == "Bigirimana Fabrice"
    assert missing["response_status"] == 404
    assert missing["details"]


def test_cashin_client(client: Any, sandbox: RunningSandbox) -> None:
    reference = secrets.token_hex(10)

    cashin = client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Cashin description")
    again = client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Cashin description")

    assert cashin["response_status"] == 200
    assert cashin["error"] is False
    assert cashin["error_message"] == "Success"
    assert cashin["amount"] == "20000.00"
    assert cashin["merchant_reference"] == reference
    assert re.fullmatch(r"CPT-\d+/01-\d+", cashin["reference"])
    assert again["response_status"] == 400
    assert again["error"] is True
    recorded = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    assert [c["merchant_reference"] for c in recorded] == [reference]


def test_garbage_reply_becomes_the_clients_request_error(
    client: Any, sandbox: RunningSandbox
) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json={"garbage": True, "count": 1}, timeout=5)

    assert client.get_bank_list() == {"errors": {"request": "An error occured during request"}}
