"""The sandbox's v2 API on the wire: envelope, PIN, shared state with v1, status, callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

PIN = "1234"


def token(sandbox: RunningSandbox) -> dict[str, str]:
    reply = requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def post(sandbox: RunningSandbox, path: str, **body: Any) -> requests.Response:
    return requests.post(sandbox.url + path, json=body, headers=token(sandbox), timeout=5)


def init(sandbox: RunningSandbox, reference: str) -> dict[str, Any]:
    reply = post(
        sandbox,
        "api/v2/payments/bill-init/",
        debit_account="clientmail@gmail.com",
        amount=2000,
        description="Bread",
        merchant_reference=reference,
        pin_code=PIN,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_bill_init_and_check_speak_the_envelope(sandbox: RunningSandbox) -> None:
    body = init(sandbox, "V2-1")
    assert (body["success"], body["response_code"]) == (True, "00")
    code = body["response_data"]["code"]
    assert code.startswith("CODE-") and code in body["response_message"]
    check = post(
        sandbox,
        "api/v2/payments/bill-check",  # no trailing slash: accepted, never redirected
        bill_code=code,
        merchant_reference="V2-1",
        pin_code=PIN,
    ).json()
    assert check["response_data"] == {
        "bill_code": code,
        "merchant_reference": "V2-1",
        "payment_reference": None,
        "status": "Initial",
    }


def test_v1_and_v2_share_one_state(sandbox: RunningSandbox) -> None:
    init(sandbox, "SHARED-1")
    reply = requests.post(
        sandbox.url + "api/v1/payments/bill/init/",
        data={
            "amount": 2000,
            "user": "clientmail@gmail.com",
            "description": "Bread",
            "merchant_reference": "SHARED-1",
        },
        headers=token(sandbox),
        timeout=5,
    )
    assert reply.status_code == 400 and "already exists" in reply.text
    bills = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert [b["merchant_reference"] for b in bills] == ["SHARED-1"]


@pytest.mark.parametrize(("pin", "status", "code"), [(None, 400, "03"), ("0000", 403, "08")])
def test_the_pin_is_checked(
    sandbox: RunningSandbox, pin: str | None, status: int, code: str
) -> None:
    body: dict[str, Any] = {
        "credit_bank": "MF1-0001",
        "credit_account": "000016-01",
        "credit_account_holder": "Niyonzima Aline",
        "amount": 20000,
        "merchant_reference": "PIN-1",
        "description": "Refund",
    }
    if pin is not None:
        body["pin_code"] = pin
    reply = post(sandbox, "api/v2/payments/cash-in/", **body)
    assert (reply.status_code, reply.json()["response_code"]) == (status, code)
    assert reply.json()["success"] is False
    assert requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"] == []


def test_operation_status_by_our_reference(sandbox: RunningSandbox) -> None:
    reply = post(
        sandbox,
        "api/v2/payments/cash-in/",
        credit_bank="MF1-0001",
        credit_account="000016-01",
        credit_account_holder="Niyonzima Aline",
        amount=20000,
        merchant_reference="OP-1",
        description="Refund",
        pin_code=PIN,
        currency="BIF",
    )
    reference = reply.json()["response_data"]["reference"]
    status = post(sandbox, "api/v2/operations/status/", external_reference="OP-1", pin_code=PIN)
    assert status.json()["response_data"]["status"] == "Success"
    assert status.json()["response_data"]["reference"] == reference
    missing = post(sandbox, "api/v2/operations/status/", external_reference="OP-2", pin_code=PIN)
    assert (missing.status_code, missing.json()["response_code"]) == (404, "04")


class _Catcher(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def catcher(sandbox: RunningSandbox) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Catcher.received = []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = None
    sandbox.app.config["SANDBOX_CALLBACK_SECRET"] = None
    server.shutdown()
    server.server_close()


def test_a_settled_bill_is_called_back_signed(sandbox: RunningSandbox, catcher: str) -> None:
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = catcher
    sandbox.app.config["SANDBOX_CALLBACK_SECRET"] = "s3cret"
    code = init(sandbox, "CB-1")["response_data"]["code"]
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    for thread in threading.enumerate():
        if thread.name == "sandbox-callback":
            thread.join(5)
    [(headers, body)] = _Catcher.received
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Ihela-Signature"] == expected
    payload = json.loads(body)
    assert (payload["bill_code"], payload["merchant_reference"], payload["status"]) == (
        code,
        "CB-1",
        "Paid",
    )
