"""Sandbox test controls under /_sandbox/: bills, cash-ins, stats, tokens, clock, reset."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox


def _token(sandbox: RunningSandbox) -> str:
    reply = requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def _issue(sandbox: RunningSandbox, token: str, reference: str) -> dict[str, Any]:
    reply = requests.post(
        sandbox.url + "api/v1/payments/bill/init/",
        data={
            "amount": 1500,
            "user": "79123456",
            "description": "Test",
            "merchant_reference": reference,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    reply.raise_for_status()
    bill: dict[str, Any] = reply.json()["bill"]
    return bill


def _control(sandbox: RunningSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, sandbox.url + "_sandbox/" + path, timeout=5, **kwargs)


@pytest.mark.parametrize(
    ("action", "label", "value"),
    [
        ("pay", "Paid", "P"),
        ("expire", "Expired", "E"),
        ("cancel", "Cancelled", "C"),
        ("fail", "Error", "R"),
    ],
)
def test_bill_actions_answer_with_the_init_shaped_bill(
    sandbox: RunningSandbox, action: str, label: str, value: str
) -> None:
    bill = _issue(sandbox, _token(sandbox), "CTRL-1")

    reply = _control(sandbox, "POST", f"bills/{bill['code']}/{action}")

    assert reply.status_code == 200
    settled = reply.json()["bill"]
    assert set(settled) == set(bill)
    assert settled["status"]["label"] == label
    assert settled["status"]["value"] == value
    assert settled["expired"] is (action == "expire")
    assert (settled["payment_reference"] is not None) is (action == "pay")


def test_bill_actions_only_apply_to_pending_bills(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox, _token(sandbox), "CTRL-2")
    _control(sandbox, "POST", f"bills/{bill['code']}/pay").raise_for_status()

    again = _control(sandbox, "POST", f"bills/{bill['code']}/cancel")
    unknown_bill = _control(sandbox, "POST", "bills/BILL-20200101-AAAAAAAAAA/pay")
    unknown_action = _control(sandbox, "POST", f"bills/{bill['code']}/refund")

    assert again.status_code == 409
    assert again.json()["bill"]["status"]["label"] == "Paid"
    assert unknown_bill.status_code == 404
    assert unknown_action.status_code == 404


def test_bills_lists_every_bill_init_shaped(sandbox: RunningSandbox) -> None:
    token = _token(sandbox)
    created = [_issue(sandbox, token, f"LIST-{n}")["code"] for n in range(3)]

    bills = _control(sandbox, "GET", "bills").json()["bills"]

    assert [bill["code"] for bill in bills] == created
    assert all(bill["confirmation_uri"].startswith(sandbox.url) for bill in bills)


def test_stats_count_token_and_api_requests_by_path(sandbox: RunningSandbox) -> None:
    token = _token(sandbox)
    headers = {"Authorization": f"Bearer {token}"}
    requests.get(sandbox.url + "api/v1/payments/bank/", headers=headers, timeout=5)
    requests.get(sandbox.url + "api/v1/payments/bank/", headers=headers, timeout=5)
    requests.get(sandbox.url + "api/v1/bank/all", headers=headers, timeout=5)

    stats = _control(sandbox, "GET", "stats").json()

    assert stats["token_requests"] == 1
    assert stats["api_requests"] == {"/api/v1/payments/bank/": 2, "/api/v1/bank/all": 1}


def test_revoke_makes_every_issued_token_fail(sandbox: RunningSandbox) -> None:
    old = _token(sandbox)
    url = sandbox.url + "api/v1/payments/bank/"

    _control(sandbox, "POST", "tokens/revoke").raise_for_status()

    assert (
        requests.get(url, headers={"Authorization": f"Bearer {old}"}, timeout=5).status_code == 401
    )
    fresh = _token(sandbox)
    assert requests.get(url, headers={"Authorization": f"Bearer {fresh}"}, timeout=5).ok


def test_clock_advances_and_refuses_nonsense(sandbox: RunningSandbox) -> None:
    before = _control(sandbox, "GET", "clock").json()["now"]
    moved = _control(sandbox, "POST", "clock", json={"advance": 86400})
    bad = [
        _control(sandbox, "POST", "clock", json=body).status_code
        for body in ({"advance": -1}, {"advance": "soon"}, {}, {"advance": True})
    ]

    assert moved.status_code == 200
    assert moved.json()["now"][:10] > before[:10]
    assert bad == [400, 400, 400, 400]


def test_reset_goes_back_to_fixtures(sandbox: RunningSandbox) -> None:
    token = _token(sandbox)
    _issue(sandbox, token, "RESET-1")
    requests.post(
        sandbox.url + "api/v1/payments/cash-in/",
        data={
            "bank_slug": "MF1-0001",
            "account": "000016-01",
            "amount": 100,
            "merchant_reference": "RESET-C",
            "description": "x",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).raise_for_status()
    _control(sandbox, "POST", "faults", json={"latency": 0.01, "path": "/nowhere"})
    _control(sandbox, "POST", "clock", json={"advance": 3600})
    before_reset_clock = _control(sandbox, "GET", "clock").json()["now"]

    _control(sandbox, "POST", "reset").raise_for_status()

    assert _control(sandbox, "GET", "bills").json() == {"bills": []}
    assert _control(sandbox, "GET", "cashins").json() == {"cashins": []}
    assert _control(sandbox, "GET", "faults").json() == {"faults": []}
    assert _control(sandbox, "GET", "clock").json()["now"] < before_reset_clock
    stats = _control(sandbox, "GET", "stats").json()
    assert stats["token_requests"] == 0 and stats["api_requests"] == {}
    old_token = requests.get(
        sandbox.url + "api/v1/payments/bank/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert old_token.status_code == 401
    # The same merchant references are free again.
    assert _issue(sandbox, _token(sandbox), "RESET-1")["merchant_reference"] == "RESET-1"


def test_controls_need_no_auth_and_answer_json(sandbox: RunningSandbox) -> None:
    for path in ("bills", "cashins", "stats", "faults", "clock"):
        reply = _control(sandbox, "GET", path)
        assert reply.status_code == 200, path
        assert isinstance(reply.json(), dict)
