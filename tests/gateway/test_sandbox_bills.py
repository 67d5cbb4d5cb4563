"""Sandbox bill init and verify, over real HTTP (ihela-api.md §3.1, §3.2, §4, §6)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

INIT = "api/v1/payments/bill/init/"
VERIFY = "api/v1/payments/bill/verify/"
PAYER = "clientmail@gmail.com"
CODE_PATTERN = re.compile(r"^BILL-(\d{8})-[A-Z0-9]{10}$")


def _token(sandbox: RunningSandbox) -> str:
    reply = requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@pytest.fixture()
def api(sandbox: RunningSandbox) -> Iterator[requests.Session]:
    """A session carrying a fresh bearer token for the sandbox."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(sandbox)}"
    yield session
    session.close()


def _bill_form(reference: str = "ref-0001", **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "amount": 2000,
        "user": PAYER,
        "description": "My description",
        "merchant_reference": reference,
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def _init(
    api: requests.Session, sandbox: RunningSandbox, reference: str = "ref-0001", **changes: Any
) -> requests.Response:
    return api.post(sandbox.url + INIT, data=_bill_form(reference, **changes), timeout=5)


def _verify(
    api: requests.Session, sandbox: RunningSandbox, merchant_reference: str, bill_code: str
) -> requests.Response:
    # The wire's verify vocabulary: code = merchant reference, reference = bill code.
    return api.post(
        sandbox.url + VERIFY,
        data={"code": merchant_reference, "reference": bill_code},
        timeout=5,
    )


def _advance_clock(sandbox: RunningSandbox, seconds: float) -> None:
    requests.post(
        sandbox.url + "_sandbox/clock", json={"advance": seconds}, timeout=5
    ).raise_for_status()


def test_init_reply_is_shaped_like_the_r4_sample(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = _init(api, sandbox, "58646cc904c471d6413e")

    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in reply.headers
    bill = reply.json()["bill"]
    assert set(bill) == {
        "merchant", "initiated_by", "paid_by", "amount", "currency", "currency_info",
        "description", "merchant_reference", "status", "expired", "code", "redirect_uri",
        "confirmation_uri", "payment_reference", "created_at", "bank", "bank_client_id",
    }  # fmt: skip
    assert bill["merchant"]["title"] == "Global Test Merchant"
    assert bill["merchant"]["merchant"]["merchant_slug"] == "global-test-merchant"
    assert bill["merchant"]["user"]["ihela_code"] == "1"
    assert bill["initiated_by"]["email"] == PAYER
    assert bill["initiated_by"]["ihela_code"] == "2"
    assert bill["paid_by"] is None
    assert bill["amount"] == "2000.00"
    assert bill["currency"] == 108
    assert bill["currency_info"]["iso_alpha_code"] == "BIF"
    assert bill["currency_info"]["operation_min_amount"] == "1.00"
    assert bill["description"] == ("Global Test Merchant (1) My description 58646cc904c471d6413e")
    assert bill["merchant_reference"] == "58646cc904c471d6413e"
    assert bill["status"] == {"label": "Initiated", "value": "I", "css": "tag is-info"}
    assert bill["expired"] is False
    match = CODE_PATTERN.match(bill["code"])
    assert match is not None, bill["code"]
    assert match.group(1) == bill["created_at"][:10].replace("-", "")
    assert bill["created_at"].endswith("Z")
    assert bill["confirmation_uri"] == f"{sandbox.url}u/operations/bill/confirm/{bill['code']}"
    assert bill["redirect_uri"] is None
    assert bill["payment_reference"] is None
    assert bill["bank"] is None
    assert bill["bank_client_id"] is None


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
@pytest.mark.parametrize("slash", [True, False], ids=["slash", "no-slash"])
def test_init_accepts_every_body_encoding_with_or_without_slash(
    api: requests.Session, sandbox: RunningSandbox, encoding: str, slash: bool
) -> None:
    url = sandbox.url + (INIT if slash else INIT.rstrip("/"))
    fields = _bill_form("ref-enc")
    if encoding == "form":
        reply = api.post(url, data=fields, timeout=5, allow_redirects=False)
    elif encoding == "multipart":
        multipart = {key: (None, str(value)) for key, value in fields.items()}
        reply = api.post(url, files=multipart, timeout=5, allow_redirects=False)
    else:
        reply = api.post(url, json=fields, timeout=5, allow_redirects=False)

    assert reply.status_code == 200, reply.text
    assert reply.json()["bill"]["merchant_reference"] == "ref-enc"
    assert reply.json()["bill"]["amount"] == "2000.00"


@pytest.mark.parametrize("amount", [2000, "2000", "2000.00", "2000.0"])
def test_whole_amounts_are_echoed_with_two_places(
    api: requests.Session, sandbox: RunningSandbox, amount: object
) -> None:
    reply = api.post(sandbox.url + INIT, json=_bill_form(amount=amount), timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["bill"]["amount"] == "2000.00"


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("20.50", "decimal places"),
        ("0.5", "decimal places"),
        (20.5, "decimal places"),
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("abc", "valid number"),
        ("", "required"),
        (True, "valid number"),
    ],
)
def test_fractions_and_amounts_below_one_are_refused(
    api: requests.Session, sandbox: RunningSandbox, amount: object, problem: str
) -> None:
    reply = api.post(sandbox.url + INIT, json=_bill_form(amount=amount), timeout=5)

    assert reply.status_code == 400
    errors = reply.json()
    assert list(errors) == ["amount"]
    assert problem in errors["amount"][0]
    assert requests.get(sandbox.url + "_sandbox/bills", timeout=5).json() == {"bills": []}


def test_missing_fields_are_drf_field_errors(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = api.post(sandbox.url + INIT, data={}, timeout=5)

    assert reply.status_code == 400
    assert reply.json() == {
        "amount": ["This field is required."],
        "user": ["This field is required."],
        "description": ["This field is required."],
        "merchant_reference": ["This field is required."],
    }


def test_json_that_is_not_an_object_is_refused(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = api.post(sandbox.url + INIT, json=["amount", 2000], timeout=5)
    assert reply.status_code == 400
    assert "non_field_errors" in reply.json()


def test_only_bif_is_accepted(api: requests.Session, sandbox: RunningSandbox) -> None:
    refused = _init(api, sandbox, "ref-usd", currency="USD")
    accepted = _init(api, sandbox, "ref-bif", currency="BIF")

    assert refused.status_code == 400
    assert list(refused.json()) == ["currency"]
    assert accepted.status_code == 200


@pytest.mark.parametrize("user", ["79123456", "client-username", "2", "ClientMail@Gmail.com"])
def test_payers_are_found_by_phone_username_code_or_email(
    api: requests.Session, sandbox: RunningSandbox, user: str
) -> None:
    reply = _init(api, sandbox, user=user)
    assert reply.status_code == 200, reply.text
    assert reply.json()["bill"]["initiated_by"]["email"] == PAYER


def test_unknown_payer_is_a_user_field_error(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = _init(api, sandbox, user="nobody@example.com")
    assert reply.status_code == 400
    errors = reply.json()
    assert list(errors) == ["user"]
    assert isinstance(errors["user"][0], str)


@pytest.mark.parametrize("bank", ["XYZ-0099", "MF1-0007"], ids=["unknown", "inactive"])
def test_unknown_or_inactive_bank_is_a_bank_field_error(
    api: requests.Session, sandbox: RunningSandbox, bank: str
) -> None:
    reply = _init(api, sandbox, bank=bank, bank_client_id="79123456")
    assert reply.status_code == 400
    assert list(reply.json()) == ["bank"]


def test_bank_bill_echoes_bank_and_client_id_and_accepts_php_field_name(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    with_bank = _init(api, sandbox, "ref-mob", bank="MOB-0003", bank_client_id="79123456")
    with_bank_slug = _init(api, sandbox, "ref-php", bank_slug="MOB-0006", bank_client_id="68123456")

    assert with_bank.status_code == 200, with_bank.text
    assert with_bank.json()["bill"]["bank"] == "MOB-0003"
    assert with_bank.json()["bill"]["bank_client_id"] == "79123456"
    assert with_bank_slug.json()["bill"]["bank"] == "MOB-0006"


def test_redirect_uri_is_stored_and_must_be_a_url(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    good = _init(api, sandbox, "ref-r1", redirect_uri="http://127.0.0.1:5000/bills/back?x=1")
    bad = _init(api, sandbox, "ref-r2", redirect_uri="javascript:alert(1)")

    assert good.json()["bill"]["redirect_uri"] == "http://127.0.0.1:5000/bills/back?x=1"
    assert bad.status_code == 400
    assert list(bad.json()) == ["redirect_uri"]


def test_duplicate_merchant_reference_is_refused(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    first = _init(api, sandbox, "ref-dup")
    second = _init(api, sandbox, "ref-dup", amount=5000)

    assert first.status_code == 200
    assert second.status_code == 400
    assert list(second.json()) == ["merchant_reference"]
    assert "already exists" in second.json()["merchant_reference"][0]
    bills = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert [b["amount"] for b in bills] == ["2000.00"]


def test_concurrent_duplicates_create_exactly_one_bill(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    token = api.headers["Authorization"]
    statuses: list[int] = []

    def attempt() -> None:
        reply = requests.post(
            sandbox.url + INIT,
            data=_bill_form("ref-race"),
            headers={"Authorization": token},
            timeout=10,
        )
        statuses.append(reply.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [400] * 11


def test_verify_reply_is_shaped_like_section_3_2(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    bill = _init(api, sandbox, "58646cc904c471d6413e").json()["bill"]

    reply = _verify(api, sandbox, bill["merchant_reference"], bill["code"])

    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "bill": {
            "bank_reference": None,
            "reference": bill["code"],
            "code": "58646cc904c471d6413e",
            "status": "Pending",
            "message": "Bill waiting for payment",
        }
    }


@pytest.mark.parametrize("encoding", ["multipart", "json"])
def test_verify_accepts_multipart_and_json_without_slash(
    api: requests.Session, sandbox: RunningSandbox, encoding: str
) -> None:
    bill = _init(api, sandbox).json()["bill"]
    fields = {"code": bill["merchant_reference"], "reference": bill["code"]}
    url = sandbox.url + VERIFY.rstrip("/")
    if encoding == "json":
        reply = api.post(url, json=fields, timeout=5, allow_redirects=False)
    else:
        multipart = {key: (None, value) for key, value in fields.items()}
        reply = api.post(url, files=multipart, timeout=5, allow_redirects=False)
    assert reply.status_code == 200
    assert reply.json()["bill"]["status"] == "Pending"


def test_verify_needs_both_values_of_the_same_bill(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    one = _init(api, sandbox, "ref-one").json()["bill"]
    two = _init(api, sandbox, "ref-two").json()["bill"]

    mismatches = [
        ("ref-one", two["code"]),  # each value exists, but on different bills
        (one["code"], "ref-one"),  # swapped: code/reference the other way round
        ("ref-one", "BILL-20200101-AAAAAAAAAA"),
        ("nope", one["code"]),
    ]
    for merchant_reference, bill_code in mismatches:
        reply = _verify(api, sandbox, merchant_reference, bill_code)
        assert reply.status_code == 404, (merchant_reference, bill_code)
        assert reply.json() == {"detail": "Not found."}


def test_verify_without_fields_is_a_field_error(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = api.post(sandbox.url + VERIFY, data={"code": "ref"}, timeout=5)
    assert reply.status_code == 400
    assert reply.json() == {"reference": ["This field is required."]}


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("pay", "Paid", "Bill paid"),
        ("cancel", "Cancelled", "Bill cancelled by the payer"),
        ("fail", "Error", "Payment failed"),
        ("expire", "Expired", "Bill expired"),
    ],
)
def test_verify_reports_each_final_status(
    api: requests.Session, sandbox: RunningSandbox, action: str, status: str, message: str
) -> None:
    bill = _init(api, sandbox).json()["bill"]
    requests.post(
        f"{sandbox.url}_sandbox/bills/{bill['code']}/{action}", timeout=5
    ).raise_for_status()

    checked = _verify(api, sandbox, bill["merchant_reference"], bill["code"]).json()["bill"]

    assert checked["status"] == status
    assert checked["message"] == message
    if status == "Paid":
        assert re.fullmatch(r"CPT-\d+/01-\d+", checked["bank_reference"])
    else:
        assert checked["bank_reference"] is None


def test_bills_expire_after_seven_days_on_the_sandbox_clock(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    bill = _init(api, sandbox).json()["bill"]

    _advance_clock(sandbox, 7 * 24 * 3600 - 60)
    # Tokens live on the same clock (10 h), so a week later the old one is gone too.
    api.headers["Authorization"] = f"Bearer {_token(sandbox)}"
    still_pending = _verify(api, sandbox, bill["merchant_reference"], bill["code"]).json()
    _advance_clock(sandbox, 120)
    expired = _verify(api, sandbox, bill["merchant_reference"], bill["code"]).json()
    shown = requests.get(f"{sandbox.url}_sandbox/bills/{bill['code']}", timeout=5).json()

    assert still_pending["bill"]["status"] == "Pending"
    assert expired["bill"]["status"] == "Expired"
    assert shown["bill"]["expired"] is True
    assert shown["bill"]["status"]["label"] == "Expired"


def test_mobile_money_bills_expire_after_ten_minutes(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    mobile = _init(api, sandbox, "ref-mob", bank="MOB-0003", bank_client_id="79123456").json()
    local = _init(api, sandbox, "ref-icu").json()

    _advance_clock(sandbox, 11 * 60)

    mobile_check = _verify(api, sandbox, "ref-mob", mobile["bill"]["code"]).json()
    local_check = _verify(api, sandbox, "ref-icu", local["bill"]["code"]).json()
    assert mobile_check["bill"]["status"] == "Expired"
    assert local_check["bill"]["status"] == "Pending"


def test_unauthenticated_init_creates_nothing(sandbox: RunningSandbox) -> None:
    reply = requests.post(sandbox.url + INIT, data=_bill_form(), timeout=5)
    assert reply.status_code == 401
    assert requests.get(sandbox.url + "_sandbox/bills", timeout=5).json() == {"bills": []}
