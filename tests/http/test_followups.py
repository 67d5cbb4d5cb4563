"""What the first exploratory run asked for: passwords from the web, every error at once,
paid bills that stop inviting payment, unknown bills that can be followed again."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask
from sqlalchemy import update

from dashboard.db import db
from dashboard.models import Bill, User
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill
from tests.http.test_cashins import cashins, confirm, prepare


def test_admin_sets_a_new_password_from_the_staff_page(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    cashier_id = staff["cashier"].id
    short = web.post(f"/admin/users/{cashier_id}/password", {"password": "short"})
    assert short.status_code == 422
    assert re.search(r'data-field-error="password">[^<]*10', short.get_data(as_text=True))
    done = web.post(
        f"/admin/users/{cashier_id}/password",
        {"password": "brand-new-secret"},
        follow_redirects=True,
    )
    assert "has a new password" in done.get_data(as_text=True)
    other = WebClient(app.test_client())
    assert other.login("cashier@example.com").status_code == 401  # the old one is gone
    assert other.login("cashier@example.com", "brand-new-secret").status_code == 302


def test_new_staff_form_shows_every_error_at_once(web: WebClient, staff: dict[str, User]) -> None:
    web.login("admin@example.com")
    page = web.post(
        "/admin/users", {"email": "bad", "name": "", "role": "cashier", "password": "short"}
    ).get_data(as_text=True)
    fields = set(re.findall(r'data-field-error="(\w+)"', page))
    assert {"email", "name", "password"} <= fields


def _pending_bill(app: Flask, web: WebClient) -> Bill:
    issue(web)
    bill = only_bill(app)
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    return bill


def test_a_bill_turning_paid_reloads_the_page_and_stops_inviting_payment(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    bill = _pending_bill(app, web)
    assert 'data-testid="qr"' in web.get(f"/bills/{bill.id}").get_data(as_text=True)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
    poll = web.get(f"/bills/{bill.id}/status", headers={"HX-Request": "true", "X-Poll": "1"})
    assert poll.headers.get("HX-Refresh") == "true"
    page = web.get(f"/bills/{bill.id}").get_data(as_text=True)
    assert 'data-testid="qr"' not in page and "Copy link" not in page
    assert "Paid" in page


def test_reload_within_the_interval_says_it_was_just_checked(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web)  # checked a moment ago by the issue itself
    bill = only_bill(app)
    fragment = web.post(f"/bills/{bill.id}/refresh", headers={"HX-Request": "true"})
    assert 'data-testid="just-checked"' in fragment.get_data(as_text=True)
    assert "HX-Refresh" not in fragment.headers


def test_list_totals_separate_paid_and_waiting(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web, amount="1000")
    issue(web, amount="2000")
    issue(web, amount="4000", payer="stranger@example.com")  # rejected: counts nowhere
    with app.app_context():
        first = db.session.get(Bill, min(b.id for b in db.session.query(Bill).all()))
        assert first is not None
        requests.post(sandbox.url + f"_sandbox/bills/{first.code}/pay", timeout=5)
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        first_id = first.id
    web.post(f"/bills/{first_id}/refresh")
    totals = re.search(
        r'data-testid="bill-totals">([^<]*)<', web.get("/bills/").get_data(as_text=True)
    )
    assert totals
    text = totals.group(1).replace("\xa0", " ")
    assert (
        "3 bills" in text and "paid BIF 1,000" in text and "waiting for payment BIF 2,000" in text
    )


def test_an_unknown_bill_is_followed_by_the_code_the_customer_received(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"stall": 2, "path": "/api/v1/payments/bill/init", "count": 1},
        timeout=5,
    )
    url = issue(web).headers["Location"]
    bill = only_bill(app)
    assert bill.status == "unknown" and bill.code is None
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    [created] = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    wrong = web.post(url + "/link", {"code": "BILL-20260101-AAAAAAAAAA"})
    assert wrong.status_code == 422
    assert "does not know this code" in wrong.get_data(as_text=True)
    bad = web.post(url + "/link", {"code": "hello"})
    assert bad.status_code == 422 and 'data-field-error="code"' in bad.get_data(as_text=True)
    web.post(url + "/link", {"code": created["code"].lower()})
    bill = only_bill(app)
    assert bill.status == "pending" and bill.code == created["code"]
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    web.post(url + "/refresh")
    assert only_bill(app).status == "paid"


def test_resolving_an_unknown_cashin_keeps_the_ihela_reference(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"stall": 2, "path": "/api/v1/payments/cash-in", "count": 1},
        timeout=5,
    )
    confirm(web, url)
    web.post(
        url + "/resolve",
        {"outcome": "succeeded", "note": "Called iHela at 10:05", "reference": "CPT-9/01-42"},
    )
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and cashin.gateway_reference == "CPT-9/01-42"
