"""Sandbox cash-in, over real HTTP (ihela-api.md §3.5, §6 #5, #11)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

CASHIN = "api/v1/payments/cash-in/"


@pytest.fixture()
def api(sandbox: RunningSandbox) -> Iterator[requests.Session]:
    """A session carrying a fresh bearer token for the sandbox."""
    reply = requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    reply.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    yield session
    session.close()


def _fields(reference: str = "REF3223", **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "bank_slug": "MF1-0001",
        "account": "000016-01",
        "amount": 20000,
        "merchant_reference": reference,
        "description": "Cashin description",
    }
    fields.update(changes)
    return fields


def _recorded(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    reply = requests.get(sandbox.url + "_sandbox/cashins", timeout=5)
    reply.raise_for_status()
    cashins: list[dict[str, Any]] = reply.json()["cashins"]
    return cashins


def test_cashin_reply_is_a_flat_echo_with_a_reference(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    reply = api.post(sandbox.url + CASHIN, data=_fields(), timeout=5)

    assert reply.status_code == 200, reply.text
    body = reply.json()
    reference = body.pop("reference")
    assert re.fullmatch(r"CPT-\d+/01-\d+", reference)
    assert body == {
        "bank_slug": "MF1-0001",
        "account": "000016-01",
        "amount": "20000.00",
        "description": "Cashin description",
        "merchant_reference": "REF3223",
        "error": False,
        "error_message": "Success",
    }


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
@pytest.mark.parametrize("slash", [True, False], ids=["slash", "no-slash"])
def test_cashin_accepts_every_body_encoding_with_or_without_slash(
    api: requests.Session, sandbox: RunningSandbox, encoding: str, slash: bool
) -> None:
    url = sandbox.url + (CASHIN if slash else CASHIN.rstrip("/"))
    fields = _fields(amount="20000.00")
    if encoding == "form":
        reply = api.post(url, data=fields, timeout=5, allow_redirects=False)
    elif encoding == "multipart":
        multipart = {key: (None, str(value)) for key, value in fields.items()}
        reply = api.post(url, files=multipart, timeout=5, allow_redirects=False)
    else:
        reply = api.post(url, json=fields, timeout=5, allow_redirects=False)

    assert reply.status_code == 200, reply.text
    assert reply.json()["amount"] == "20000.00"
    assert reply.json()["error"] is False


def test_duplicate_merchant_reference_is_refused_and_paid_once(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    first = api.post(sandbox.url + CASHIN, data=_fields("REF-DUP"), timeout=5)
    again = api.post(sandbox.url + CASHIN, data=_fields("REF-DUP", amount=500), timeout=5)

    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json()["error"] is True
    assert "REF-DUP" in again.json()["error_message"]
    assert again.json()["reference"] is None
    assert [c["merchant_reference"] for c in _recorded(sandbox)] == ["REF-DUP"]


def test_concurrent_duplicates_pay_exactly_once(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    token = api.headers["Authorization"]
    statuses: list[int] = []

    def attempt() -> None:
        reply = requests.post(
            sandbox.url + CASHIN,
            data=_fields("REF-RACE"),
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
    assert len(_recorded(sandbox)) == 1


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"account": "999999-01"}, "No account"),
        ({"bank_slug": "XYZ-0009"}, "Unknown bank"),
        ({"bank_slug": "MF1-0007", "account": "000003-01"}, "not active"),
        ({"bank_slug": "MOB-0003", "account": "79123456", "amount": 999}, "at least 1000"),
        ({"bank_slug": "MOB-0003", "account": "79123456", "amount": 2_000_001}, "at most 2000000"),
        ({"bank_slug": "MOB-0006", "account": "68000007", "amount": 9_999}, "at least 10000"),
    ],
    ids=["unknown-account", "unknown-bank", "inactive-bank", "below-min", "above-max", "pesa"],
)
def test_refused_cashins_say_error_true_and_are_not_recorded(
    api: requests.Session, sandbox: RunningSandbox, changes: dict[str, Any], fragment: str
) -> None:
    reply = api.post(sandbox.url + CASHIN, data=_fields(**changes), timeout=5)

    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] is True
    assert fragment in body["error_message"]
    assert body["merchant_reference"] == "REF3223"
    assert _recorded(sandbox) == []


@pytest.mark.parametrize("amount", [1_000, 2_000_000])
def test_bank_limits_are_inclusive(
    api: requests.Session, sandbox: RunningSandbox, amount: int
) -> None:
    reply = api.post(
        sandbox.url + CASHIN,
        data=_fields(bank_slug="MOB-0003", account="79123456", amount=amount),
        timeout=5,
    )
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("amount", ["20000.50", "0.99", "0", "-100", "lots"])
def test_bad_amounts_are_field_errors(
    api: requests.Session, sandbox: RunningSandbox, amount: str
) -> None:
    reply = api.post(sandbox.url + CASHIN, data=_fields(amount=amount), timeout=5)

    assert reply.status_code == 400
    assert list(reply.json()) == ["amount"]
    assert _recorded(sandbox) == []


def test_missing_fields_are_field_errors(api: requests.Session, sandbox: RunningSandbox) -> None:
    reply = api.post(sandbox.url + CASHIN, json={"amount": 100}, timeout=5)

    assert reply.status_code == 400
    assert set(reply.json()) == {"bank_slug", "account", "merchant_reference", "description"}


def test_cashin_needs_a_token(sandbox: RunningSandbox) -> None:
    reply = requests.post(sandbox.url + CASHIN, data=_fields(), timeout=5)
    assert reply.status_code == 401
    assert _recorded(sandbox) == []


def test_sandbox_cashins_lists_accepted_ones_only(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    accepted = api.post(sandbox.url + CASHIN, data=_fields("A-1"), timeout=5).json()
    api.post(sandbox.url + CASHIN, data=_fields("A-2", account="nope"), timeout=5)
    api.post(
        sandbox.url + CASHIN,
        data=_fields("A-3", bank_slug="MOB-0003", account="71000002", amount=1500),
        timeout=5,
    )

    recorded = _recorded(sandbox)

    assert [c["merchant_reference"] for c in recorded] == ["A-1", "A-3"]
    first = recorded[0]
    assert set(first) == {
        "merchant_reference", "bank_slug", "account", "amount", "description", "reference",
        "received_at",
    }  # fmt: skip
    assert first["amount"] == 20000
    assert first["reference"] == accepted["reference"]
    assert first["bank_slug"] == "MF1-0001"
    assert first["account"] == "000016-01"
    assert recorded[1]["amount"] == 1500
    assert recorded[0]["reference"] != recorded[1]["reference"]
