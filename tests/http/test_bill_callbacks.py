"""Payment callbacks: a hint that makes us verify the named bill, never a status we believe."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from dashboard.bills.callbacks import signature
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillEvent, User
from tests.conftest import WebClient, run_jobs
from tests.http.test_bills import issue, only_bill

pytestmark = pytest.mark.both_dialects

SECRET = "callback-test-secret"
NO_POLLING = {"BILL_REFRESH_MIN_SECONDS": 10**6, "BILL_CRON_MIN_AGE_SECONDS": 10**6}


def verify_calls(sandbox: Any) -> int:
    stats = requests.get(sandbox.url + "_sandbox/stats", timeout=5).json()["api_requests"]
    return sum(n for path, n in stats.items() if "verify" in path or "bill-check" in path)


def bill_events(app: Flask, bill_id: int) -> list[tuple[str | None, str, str | None]]:
    with app.app_context():
        events = db.session.scalars(
            select(BillEvent).where(BillEvent.bill_id == bill_id).order_by(BillEvent.id)
        ).all()
        return [(e.from_status, e.to_status, e.actor_label) for e in events]


def callback(
    app: Flask, payload: Any, *, secret: str | None = None, sig: str | None = None, run: bool = True
) -> Any:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Ihela-Signature"] = sig or signature(secret, body)
    # A bare client: no session, no CSRF token, no login, like iHela.
    response = app.test_client().post("/ihela/callback", data=body, headers=headers)
    if run:
        run_jobs(app)  # what a worker does with the verify the callback left
    return response


@pytest.fixture()
def issued(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> Callable[..., tuple[Flask, Bill]]:
    def factory(**overrides: Any) -> tuple[Flask, Bill]:
        app = make_app(**NO_POLLING, **overrides)
        web = WebClient(app.test_client())
        web.login("cashier@example.com")
        assert issue(web).status_code == 303
        return app, only_bill(app)

    return factory


@pytest.fixture()
def served(sandbox: Any) -> Iterator[Callable[[Flask], str]]:
    """Serve a dashboard app over HTTP so the sandbox can call it back; unhook afterwards."""
    servers: list[Any] = []

    def serve(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}/"

    yield serve
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = None
    sandbox.app.config["SANDBOX_CALLBACK_SECRET"] = None
    sandbox.app.config["SANDBOX_CALLBACK_SIGNATURE"] = "prefixed"
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("signed", ["prefixed", "bare"])
def test_a_paid_bill_turns_paid_through_the_callback_alone(
    issued: Callable[..., tuple[Flask, Bill]],
    served: Callable[[Flask], str],
    sandbox: Any,
    signed: str,
) -> None:
    """Signed ``sha256=<hex>`` or, as ihela-sdk 0.4.0 signs, bare hex in X-iHela-Signature."""
    app, bill = issued(IHELA_CALLBACK_SECRET=SECRET)
    url = served(app)
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = url + "ihela/callback"
    sandbox.app.config["SANDBOX_CALLBACK_SECRET"] = SECRET
    sandbox.app.config["SANDBOX_CALLBACK_SIGNATURE"] = signed
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    deadline = time.monotonic() + 10
    while only_bill(app).status != "paid" and time.monotonic() < deadline:
        run_jobs(app)
        time.sleep(0.05)
    paid = only_bill(app)
    assert paid.status == "paid" and paid.payment_reference
    assert bill_events(app, bill.id)[-1] == ("pending", "paid", "iHela callback")
    # Polling is off: a page poll now answers from the row, without asking iHela.
    assert verify_calls(sandbox) == 1


def test_callbacks_are_idempotent(issued: Callable[..., tuple[Flask, Bill]], sandbox: Any) -> None:
    app, bill = issued()
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    payload = {"bill_code": bill.code, "merchant_reference": bill.merchant_reference}
    for _ in range(3):
        assert callback(app, payload).status_code == 202
        time.sleep(0.05)
    assert only_bill(app).status == "paid"
    changes = [e for e in bill_events(app, bill.id) if e[1] == "paid"]
    assert len(changes) == 1
    assert verify_calls(sandbox) == 1  # once paid, the bill is not verified again


@pytest.mark.parametrize(
    "forgery",
    ["unknown bill", "code of another bill", "wrong signature", "no signature", "claims paid"],
)
def test_a_forged_callback_changes_nothing(
    issued: Callable[..., tuple[Flask, Bill]], sandbox: Any, forgery: str
) -> None:
    app, bill = issued(IHELA_CALLBACK_SECRET=SECRET)
    payload: dict[str, Any] = {
        "bill_code": bill.code,
        "merchant_reference": bill.merchant_reference,
    }
    secret: str | None = SECRET
    sig: str | None = None
    expected_status, expected_verifies = 202, 0
    if forgery == "unknown bill":
        payload = {"bill_code": "CODE-20260101-NOPE123", "merchant_reference": "B000000-NOPE00"}
    elif forgery == "code of another bill":
        payload["bill_code"] = "BILL-20260101-AAAAAAAAAA"
    elif forgery == "wrong signature":
        sig = signature("not-the-secret", json.dumps(payload).encode())
        expected_status = 401
    elif forgery == "no signature":
        secret = None
        expected_status = 401
    else:  # correctly signed, names a real bill, and lies about its status
        payload.update(status="Paid", payment_reference="FAKE-1")
        expected_verifies = 1
    before = verify_calls(sandbox)
    response = callback(app, payload, secret=secret, sig=sig)
    assert response.status_code == expected_status
    assert verify_calls(sandbox) - before == expected_verifies
    after = only_bill(app)
    assert (after.status, after.payment_reference) == ("pending", None)
    assert [e[1] for e in bill_events(app, bill.id)] == ["creating", "pending"]


def test_callbacks_are_rate_limited(
    issued: Callable[..., tuple[Flask, Bill]], sandbox: Any
) -> None:
    app, _bill = issued(CALLBACK_RATE_PER_MINUTE=3)
    payload = {"bill_code": "x", "merchant_reference": "y"}
    statuses = [callback(app, payload).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("bill.callback%"))
        ).all()
        assert len(actions) == 3


def test_the_rate_limit_is_per_sending_address(
    issued: Callable[..., tuple[Flask, Bill]], sandbox: Any
) -> None:
    app, _bill = issued(CALLBACK_RATE_PER_MINUTE=1)
    payload = json.dumps({"bill_code": "x", "merchant_reference": "y"}).encode()

    def send(address: str) -> int:
        client = app.test_client()
        reply = client.post(
            "/ihela/callback",
            data=payload,
            content_type="application/json",
            environ_base={"REMOTE_ADDR": address},
        )
        return int(reply.status_code)

    assert [send("198.51.100.7"), send("198.51.100.7")] == [202, 429]
    assert send("203.0.113.9") == 202  # a flood from one sender does not silence another


def test_an_oversized_callback_is_refused_unread(
    issued: Callable[..., tuple[Flask, Bill]], sandbox: Any
) -> None:
    app, bill = issued()
    padding = "x" * 10_000
    payload = {"bill_code": bill.code, "merchant_reference": bill.merchant_reference, "p": padding}
    assert callback(app, payload).status_code == 413
    assert verify_calls(sandbox) == 0


def test_both_signature_forms_are_accepted_and_nothing_else(
    issued: Callable[..., tuple[Flask, Bill]], sandbox: Any
) -> None:
    from ihela_sdk import generate_signature

    app, bill = issued(IHELA_CALLBACK_SECRET=SECRET)
    payload = {"bill_code": bill.code, "merchant_reference": bill.merchant_reference}
    body = json.dumps(payload)
    bare = generate_signature(body, SECRET)  # the published SDK's own signer
    assert callback(app, payload, secret=SECRET, sig=bare).status_code == 202
    assert callback(app, payload, secret=SECRET, sig="sha256=" + bare).status_code == 202
    assert callback(app, payload, secret=SECRET, sig=bare.upper()).status_code == 202
    for wrong in (bare[:-1] + ("0" if bare[-1] != "0" else "1"), "sha256=", "md5=" + bare):
        assert callback(app, payload, secret=SECRET, sig=wrong).status_code == 401
