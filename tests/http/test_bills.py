"""Issuing bills and following them, through the test client, against the real sandbox."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillEvent, User
from tests.conftest import WebClient

GOOD = {
    "amount": "20 000",
    "payer_kind": "email",
    "payer": "clientmail@gmail.com",
    "description": "2 bags of rice",
    "bank_slug": "",
    "bank_client_id": "",
}
FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')


def new_form_token(web: WebClient) -> str:
    page = web.get("/bills/new").get_data(as_text=True)
    match = FORM_TOKEN.search(page)
    assert match
    return match.group(1)


def issue(web: WebClient, **changes: str) -> Any:
    return web.post("/bills/new", {**GOOD, "form_token": new_form_token(web), **changes})


def bill_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Bill)) or 0


def only_bill(app: Flask) -> Bill:
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        db.session.expunge(bill)
        return bill


def fault(sandbox: Any, **spec: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=spec, timeout=5).raise_for_status()


@pytest.fixture()
def cashier(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("cashier@example.com")
    return web


def test_cashier_issues_a_bill_and_sees_its_page(
    app: Flask, cashier: WebClient, dialect: str
) -> None:
    response = issue(cashier)
    assert response.status_code == 303
    page = cashier.get(response.headers["Location"]).get_data(as_text=True)
    bill = only_bill(app)
    assert bill.status == "pending"
    assert bill.amount == 20000
    assert re.fullmatch(r"B\d{6}-[A-Z2-9]{6}", bill.merchant_reference)
    if dialect == "v1":
        assert bill.code and re.fullmatch(r"BILL-\d{8}-[A-Z0-9]{10}", bill.code)
        assert bill.confirmation_uri and bill.code in bill.confirmation_uri
    else:  # v2 bills have a shorter code and no confirmation page: the payer uses the app
        assert bill.code and re.fullmatch(r"CODE-\d{8}-[A-Z0-9]{7}", bill.code)
        assert bill.confirmation_uri is None
    for text in [
        bill.merchant_reference,
        bill.code,
        *([bill.confirmation_uri] if bill.confirmation_uri else []),
        "2 bags of rice",
        "clientmail@gmail.com",
        "Test Cashier",
        "Last checked",
        "Pending",
    ]:
        assert text in page, text
    assert "20\u202f000\xa0FBu" in page or "BIF\xa020,000" in page
    qr = cashier.get(f"/bills/{bill.id}/qr.svg")
    if dialect != "v1":  # nothing to point a phone at: the payer confirms in their app
        assert qr.status_code == 404
        return
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert b'<svg xmlns="http://www.w3.org/2000/svg"' in qr.data


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "-500"}, "amount", "more than zero"),
        ({"amount": "1500.50"}, "amount", "no cents"),
        ({"amount": "99 999 999"}, "amount", "The largest bill"),
        ({"amount": "abc"}, "amount", "digits"),
        ({"amount": ""}, "amount", "Enter an amount"),
        ({"payer": "not-an-email"}, "payer", "valid e-mail"),
        ({"payer_kind": "phone", "payer": "12345"}, "payer", "8 digits"),
        ({"payer_kind": "code", "payer": "12a"}, "payer", "digits only"),
        ({"payer_kind": "username", "payer": "9lives"}, "payer", "starts with a letter"),
        ({"payer": ""}, "payer", "Enter the payer"),
        ({"description": ""}, "description", "Say what the bill is for"),
        ({"description": "x" * 161}, "description", "under 160 characters"),
        ({"bank_slug": "NOPE-0009"}, "bank_slug", "Choose a bank from the list"),
    ],
)
def test_input_errors_are_shown_at_the_field_and_create_nothing(
    app: Flask, cashier: WebClient, changes: dict[str, str], field: str, message: str
) -> None:
    response = issue(cashier, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = re.findall(rf'data-field-error="{field}">([^<]*)<', page)
    assert errors and message in errors[0], (errors, page[-2000:])
    if "description" not in changes and "amount" not in changes:
        assert "2 bags of rice" in page  # what the person typed is kept
    assert bill_count(app) == 0


def test_gateway_rejection_keeps_input_and_shows_the_field_error(
    app: Flask, cashier: WebClient
) -> None:
    response = issue(cashier, payer="stranger@example.com")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field-error="payer"' in page
    assert "stranger@example.com" in page and "2 bags of rice" in page
    bill = only_bill(app)
    assert bill.status == "rejected"
    assert bill.field_errors and "payer" in bill.field_errors


def test_gateway_timeout_leaves_the_bill_unknown_and_says_so(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    fault(sandbox, stall=2, path=api_path("bill init"), count=1)
    response = issue(web)
    assert response.status_code == 303
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="unknown-banner"' in page
    assert "Try again with a new reference" in page
    bill = only_bill(app)
    assert bill.status == "unknown" and bill.code is None


def test_unknown_bill_is_retried_under_a_new_reference(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    app = make_app()
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    fault(sandbox, status=503, path=api_path("bill init"), count=1)
    first_url = issue(web).headers["Location"]
    page = web.get(first_url).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    bill_id = int(first_url.rstrip("/").split("/")[-1])
    response = web.post(f"/bills/{bill_id}/retry", {"form_token": token.group(1)})
    again = web.post(f"/bills/{bill_id}/retry", {"form_token": token.group(1)})
    assert response.headers["Location"] == again.headers["Location"]  # one retry, not two
    with app.app_context():
        bills = db.session.scalars(select(Bill).order_by(Bill.id)).all()
        assert [b.status for b in bills] == ["unknown", "pending"]
        assert bills[1].retry_of_id == bills[0].id
        assert bills[0].merchant_reference != bills[1].merchant_reference


def test_gateway_5xx_and_unreachable(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    app = make_app()
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    fault(sandbox, status=502, path=api_path("bill init"), count=1)
    page = web.get(issue(web).headers["Location"]).get_data(as_text=True)
    assert "We do not know whether iHela created this bill" in page
    # Said as it happened: an unavailable gateway, not a lost answer.
    assert "iHela is unavailable (HTTP 502)" in page
    assert "lost" not in page

    down = make_app(IHELA_BASE_URL="http://127.0.0.1:9/")
    web2 = WebClient(down.test_client())
    web2.login("cashier@example.com")
    page = web2.get(issue(web2).headers["Location"]).get_data(as_text=True)
    assert "Could not connect to iHela: nothing was sent. No bill was created at iHela." in page
    with app.app_context():
        assert sorted(db.session.scalars(select(Bill.status)).all()) == ["failed", "unknown"]


def test_double_submitted_form_creates_one_bill(app: Flask, cashier: WebClient) -> None:
    token = new_form_token(cashier)
    data = {**GOOD, "form_token": token, "csrf_token": cashier.csrf()}
    cookie = cashier.client.get_cookie("dashboard_session")
    assert cookie is not None
    results: list[int] = []

    def submit() -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie.value)
        results.append(client.post("/bills/new", data=data).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303, 303]
    assert bill_count(app) == 1
    with app.app_context():
        stats = requests.get(app.config["IHELA_BASE_URL"] + "_sandbox/bills", timeout=5).json()[
            "bills"
        ]
    assert len(stats) == 1


def test_reload_turns_paid_with_bank_reference(
    app: Flask,
    cashier: WebClient,
    sandbox: Any,
) -> None:
    issue(cashier)
    bill = only_bill(app)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    with app.app_context():  # pretend the last check was long ago
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    response = cashier.post(f"/bills/{bill.id}/refresh", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert "Paid" in fragment and 'data-testid="bank-reference"' in fragment
    bill = only_bill(app)
    assert bill.status == "paid" and bill.payment_reference
    with app.app_context():
        events = db.session.scalars(
            select(BillEvent).where(BillEvent.bill_id == bill.id).order_by(BillEvent.id)
        ).all()
        assert [(e.from_status, e.to_status) for e in events] == [
            (None, "creating"),
            ("creating", "pending"),
            ("pending", "paid"),
        ]
        assert events[-1].actor_label == "cashier@example.com"


def test_many_status_requests_make_one_verify_call(
    app: Flask, cashier: WebClient, sandbox: Any, api_path: Callable[[str], str]
) -> None:
    issue(cashier)
    bill = only_bill(app)
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    before = requests.get(sandbox.url + "_sandbox/stats", timeout=5).json()["api_requests"]
    for _ in range(5):
        assert cashier.get(f"/bills/{bill.id}/status", headers={"X-Poll": "1"}).status_code == 200
    after = requests.get(sandbox.url + "_sandbox/stats", timeout=5).json()["api_requests"]
    verify = [k for k in after if k.startswith(api_path("bill verify"))]
    assert sum(after[k] for k in verify) - sum(before.get(k, 0) for k in verify) == 1


def test_verify_error_keeps_bill_pending_with_message(
    app: Flask,
    cashier: WebClient,
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    issue(cashier)
    bill = only_bill(app)
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    fault(sandbox, status=500, path=api_path("bill verify"), count=2)  # v2 reads retry once
    fragment = cashier.get(f"/bills/{bill.id}/status").get_data(as_text=True)
    assert "Pending" in fragment and "Could not check with iHela" in fragment
    assert only_bill(app).status == "pending"


def test_payer_return_page_verifies_and_shows_no_staff_data(
    app: Flask,
    cashier: WebClient,
    sandbox: Any,
) -> None:
    issue(cashier)
    bill = only_bill(app)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    anonymous = app.test_client()
    page = anonymous.get(f"/pay/return/{bill.public_token}").get_data(as_text=True)
    assert "payment of" in page and "is received" in page
    assert "Test Cashier" not in page and "clientmail" not in page
    assert only_bill(app).status == "paid"
    assert anonymous.get("/pay/return/not-a-token").status_code == 404


def test_refresh_pending_cli_checks_only_stale_bills(
    app: Flask,
    cashier: WebClient,
    sandbox: Any,
) -> None:
    issue(cashier)
    issue(cashier, description="second")
    with app.app_context():
        bills = db.session.scalars(select(Bill).order_by(Bill.id)).all()
        requests.post(sandbox.url + f"_sandbox/bills/{bills[0].code}/pay", timeout=5)
        requests.post(sandbox.url + f"_sandbox/bills/{bills[1].code}/pay", timeout=5)
        db.session.execute(
            Bill.__table__.update().where(Bill.id == bills[0].id).values(last_checked_at=None)
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["bills", "refresh-pending"])
    assert result.exit_code == 0, result.output
    assert "Checked 1 pending bill(s); 1 changed status." in result.output
    with app.app_context():
        statuses = db.session.scalars(select(Bill.status).order_by(Bill.id)).all()
        assert statuses == ["paid", "pending"]  # the second was checked just now: skipped
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_label == "cron")
            )
            == 1
        )


def test_bill_list_filters_search_and_totals(app: Flask, cashier: WebClient) -> None:
    issue(cashier, amount="1000", description="bread")
    issue(cashier, amount="2500", description="milk")
    issue(cashier, payer="stranger@example.com", description="rejected one")
    page = cashier.get("/bills/").get_data(as_text=True)
    assert "3 bills" in page
    page = cashier.get("/bills/?status=pending").get_data(as_text=True)
    assert "2 bills" in page and "bread" in page and "rejected one" not in page
    page = cashier.get("/bills/?q=MILK").get_data(as_text=True)
    assert "1 bill " in page and "milk" in page and "bread" not in page
    totals = re.search(
        r'data-testid="bill-totals">([^<]*)<',
        cashier.get("/bills/?status=pending").get_data(as_text=True),
    )
    assert totals and ("3\u202f500" in totals.group(1) or "3,500" in totals.group(1))
    page = cashier.get("/bills/?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "0 bills" in page


def test_cashier_sees_slip_and_share_links(app: Flask, cashier: WebClient, dialect: str) -> None:
    issue(cashier)
    bill = only_bill(app)
    page = cashier.get(f"/bills/{bill.id}").get_data(as_text=True)
    slip = cashier.get(f"/bills/{bill.id}/slip").get_data(as_text=True)
    assert bill.merchant_reference in slip and "Global Test Merchant" in slip
    if dialect != "v1":  # no payment link in v2: the slip tells the payer to use the app
        assert "wa.me" not in page and "qr.svg" not in slip and "pay-in-app" in slip
        assert bill.code and bill.code in slip
        return
    assert "https://wa.me/?text=" in page and "sms:?&amp;body=" in page and "mailto:?" in page
    assert "qr.svg" in slip


def test_search_by_whole_reference_or_code_finds_exactly_that_bill(
    app: Flask, cashier: WebClient
) -> None:
    issue(cashier, description="alpha sale")
    issue(cashier, description="omega sale")
    with app.app_context():
        first = db.session.scalars(select(Bill).order_by(Bill.id)).first()
        assert first is not None and first.code
        reference, code = first.merchant_reference, first.code
    for term in (reference, reference.lower(), code, code.lower()):
        page = cashier.get(f"/bills/?q={term}").get_data(as_text=True)
        assert "1 bill " in page and "alpha sale" in page and "omega sale" not in page, term


def test_pages_keep_the_filters(make_app: Any, staff: dict[str, User], sandbox: Any) -> None:
    app = make_app(PAGE_SIZE=2)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    for description in ("one sale", "two sale", "three sale", "other"):
        issue(web, description=description)
    page = web.get("/bills/?q=sale").get_data(as_text=True)
    assert "3 bills" in page and "three sale" in page and "one sale" not in page
    older = re.search(r'href="([^"]*older=[^"]*)"', page)
    assert older and "q=sale" in older.group(1) and "newer=" not in page
    page2 = web.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "3 bills" in page2 and "one sale" in page2 and "other" not in page2
    assert not re.search(r'href="[^"]*older=', page2)  # the last page
    newer = re.search(r'href="([^"]*newer=[^"]*)"', page2)
    assert newer and "q=sale" in newer.group(1)
    back = web.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "three sale" in back and "two sale" in back and "one sale" not in back


def test_payer_return_page_learns_the_payment_another_tab_just_checked_before(
    app: Flask, cashier: WebClient, sandbox: Any, api_path: Callable[[str], str]
) -> None:
    issue(cashier)
    bill = only_bill(app)
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    # Another tab (the counter's poll) asks iHela: still pending, and the window starts.
    assert "Pending" in cashier.get(f"/bills/{bill.id}/status").get_data(as_text=True)
    # The payer pays, and iHela sends them back within the coalescing window.
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    anonymous = app.test_client()
    page = anonymous.get(f"/pay/return/{bill.public_token}").get_data(as_text=True)
    assert "is received" in page and "not confirmed yet" not in page
    assert only_bill(app).status == "paid"


def test_payer_return_page_bypasses_the_window_only_once(
    app: Flask, cashier: WebClient, sandbox: Any, api_path: Callable[[str], str]
) -> None:
    issue(cashier)
    bill = only_bill(app)

    def verify_calls() -> int:
        stats = requests.get(sandbox.url + "_sandbox/stats", timeout=5).json()["api_requests"]
        return sum(n for k, n in stats.items() if k.startswith(api_path("bill verify")))

    before = verify_calls()
    anonymous = app.test_client()
    for _ in range(4):  # the payer reloads, or anyone with the link does
        page = anonymous.get(f"/pay/return/{bill.public_token}").get_data(as_text=True)
        assert "not confirmed yet" in page
    assert verify_calls() - before == 1  # the issue had just checked: only the first return asks
