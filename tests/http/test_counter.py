"""Counter mode and the customer display, through the test client, against the real sandbox."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import brotli
import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard.bills.counter import guess_payer_kind
from dashboard.db import db, utcnow
from dashboard.models import Bill, CounterDisplay, User
from tests.conftest import WebClient

FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')
CODE = re.compile(r'data-testid="pairing-code">([A-Z0-9]{6})<')
DISPLAY = re.compile(r"/display/([A-Za-z0-9_-]{20,})$")


@pytest.fixture()
def cashier(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("cashier@example.com")
    return web


def counter_page(web: WebClient) -> str:
    page: str = web.get("/counter").get_data(as_text=True)
    return page


def issue_at_counter(
    web: WebClient, amount: str = "5 000", payer: str = "clientmail@gmail.com"
) -> Any:
    page = counter_page(web)
    if "counter-form" not in page:  # another bill on screen: the next customer first
        web.post("/counter/next")
        page = counter_page(web)
    match = FORM_TOKEN.search(page)
    assert match
    return web.post(
        "/counter",
        {
            "amount": amount,
            "payer": payer,
            "payer_kind": "auto",
            "description": "Bread",
            "form_token": match.group(1),
        },
    )


def pairing_code(web: WebClient) -> str:
    match = CODE.search(counter_page(web))
    assert match
    return match.group(1)


def pair(app: Flask, code: str) -> tuple[Any, str]:
    """A fresh browser with no session at all opens /display and types the code."""
    display = app.test_client()
    response = display.get("/display", query_string={"code": code})
    location = response.headers.get("Location", "")
    match = DISPLAY.search(location)
    return response, match.group(1) if match else ""


def test_guess_payer_kind() -> None:
    assert guess_payer_kind("clientmail@gmail.com") == "email"
    assert guess_payer_kind("79 123 456") == "phone"
    assert guess_payer_kind("+257 79123456") == "phone"
    assert guess_payer_kind("2") == "code"
    assert guess_payer_kind("client-username") == "username"


def test_counter_issues_the_bill_and_shows_its_qr_then_next_customer_clears(
    cashier: WebClient, app: Flask
) -> None:
    response = issue_at_counter(cashier)
    assert response.status_code == 303
    # The address names the bill: the status poll's reload keeps it on screen whatever happens.
    assert re.search(r"/counter\?bill=\d+$", response.headers["Location"])
    page = counter_page(cashier)
    assert 'data-testid="counter-qr"' in page
    assert "data-poll-url=" in page and "shown=pending" in page  # the bill page's own poll
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        assert bill.payer_kind == "email" and bill.status == "pending"
        assert db.session.scalars(select(CounterDisplay)).one().bill_id == bill.id
    response = cashier.post("/counter/next")
    assert response.status_code == 303
    page = counter_page(cashier)
    assert 'data-testid="counter-form"' in page and "counter-qr" not in page


def test_counter_shows_errors_next_to_the_fields(cashier: WebClient, app: Flask) -> None:
    response = issue_at_counter(cashier, amount="12,5", payer="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field-error="amount"' in page
    response = issue_at_counter(cashier, amount="5000", payer="x")
    assert response.status_code == 422
    assert 'data-field-error="payer"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Bill)).all() == []


def test_counter_needs_staff_login(web: WebClient, staff: dict[str, User]) -> None:
    response = web.get("/counter")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_display_pairs_by_code_and_follows_the_counter(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    code = pairing_code(cashier)
    response, token = pair(app, code.lower())  # typed in lower case: still the code
    assert response.status_code == 303 and token
    display = app.test_client()
    page = display.get(f"/display/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Test Merchant" in text or app.config["MERCHANT_NAME"] in text
    assert 'data-testid="display-waiting"' in text
    assert "Set-Cookie" not in page.headers  # no session of any kind

    issue_at_counter(cashier, amount="7 000")
    state = display.get(f"/display/{token}/state")
    assert state.status_code == 200
    body = state.get_data()
    assert len(body) <= 1024, len(body)
    html = body.decode()
    assert 'data-testid="display-amount"' in html and "7" in html
    assert 'data-testid="display-qr"' in html
    assert "clientmail" not in html and "Bread" not in html  # nothing about the customer
    qr = re.search(r'src="([^"]+)"', html)
    assert qr and display.get(qr.group(1)).mimetype == "image/svg+xml"

    etag = state.headers["ETag"]
    again = display.get(f"/display/{token}/state", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    with app.app_context():
        code = db.session.scalars(select(Bill.code)).one()
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    paid = display.get(f"/display/{token}/state", headers={"If-None-Match": etag})
    assert paid.status_code == 200
    assert 'data-testid="display-paid"' in paid.get_data(as_text=True)
    assert "display-qr" not in paid.get_data(as_text=True)
    assert display.get(qr.group(1)).status_code == 404  # no QR for a paid bill

    cashier.post("/counter/next")
    waiting = display.get(f"/display/{token}/state").get_data(as_text=True)
    assert 'data-testid="display-waiting"' in waiting


def test_display_without_or_with_a_wrong_code_shows_nothing(cashier: WebClient, app: Flask) -> None:
    issue_at_counter(cashier, amount="9 000")
    anonymous = app.test_client()
    page = anonymous.get("/display")
    assert page.status_code == 200
    assert "9" not in re.sub(r"<[^>]+>", "", page.get_data(as_text=True))
    wrong = anonymous.get("/display", query_string={"code": "ZZZZZZ"})
    assert wrong.status_code == 404
    text = wrong.get_data(as_text=True)
    assert 'data-field-error="code"' in text and "display-amount" not in text
    for path in ("/display/not-a-token", "/display/not-a-token/state"):
        response = anonymous.get(path)
        assert response.status_code in (404, 410)
        assert "display-amount" not in response.get_data(as_text=True)


def test_display_ends_with_the_cashier_session_or_when_idle(
    cashier: WebClient, app: Flask, staff: dict[str, User]
) -> None:
    code = pairing_code(cashier)
    _, token = pair(app, code)
    display = app.test_client()
    assert display.get(f"/display/{token}/state").status_code == 200

    with app.app_context():  # idle for more than 12 hours
        db.session.execute(update(CounterDisplay).values(touched_at=utcnow() - timedelta(hours=13)))
        db.session.commit()
    assert display.get(f"/display/{token}/state").status_code == 410
    assert display.get(f"/display/{token}").status_code == 404
    assert pair(app, code)[0].status_code == 404  # the old code no longer pairs

    code = pairing_code(cashier)  # the cashier comes back: a new counter, a new code
    _, token = pair(app, code)
    assert display.get(f"/display/{token}/state").status_code == 200
    cashier.logout()
    assert display.get(f"/display/{token}/state").status_code == 410
    page = display.get(f"/display/{token}")
    assert page.status_code == 404 and 'data-testid="display-ended"' in page.get_data(as_text=True)


def test_pairing_guesses_are_rate_limited(cashier: WebClient, make_app: Any) -> None:
    app = make_app(DISPLAY_PAIRING_ATTEMPTS=3)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    code = pairing_code(web)
    guesser = app.test_client()
    for _ in range(3):
        assert guesser.get("/display", query_string={"code": "WRONG1"}).status_code == 404
    limited = guesser.get("/display", query_string={"code": code})  # even the right code now
    assert limited.status_code == 429
    assert "Too many wrong codes" in limited.get_data(as_text=True)


# --- the bill page: receipt, issue again, payer's name, expiry; the list's own poll ----------


def issue_and_pay(web: WebClient, app: Flask, sandbox: Any) -> Bill:
    issue_at_counter(web, amount="8 000")
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        bill = db.session.scalars(select(Bill)).one()
        db.session.expunge(bill)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    web.get(f"/bills/{bill.id}/status")  # the page's poll records it
    return bill


def test_a_paid_bill_offers_a_receipt_to_print_and_share(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    bill = issue_and_pay(cashier, app, sandbox)
    page = cashier.get(f"/bills/{bill.id}").get_data(as_text=True)
    links = dict(re.findall(r'href="([^"]+)"[^>]*data-testid="(receipt-[a-z]+)"', page))
    by_name = {name: href for href, name in links.items()}
    assert by_name["receipt-link"] == f"/bills/{bill.id}/slip"
    assert by_name["receipt-whatsapp"].startswith("https://wa.me/?text=")
    assert by_name["receipt-sms"].startswith("sms:?&amp;body=")
    assert by_name["receipt-email"].startswith("mailto:?subject=")
    from urllib.parse import unquote

    text = unquote(by_name["receipt-whatsapp"].split("text=", 1)[1])
    assert "payment received" in text and bill.merchant_reference in text
    assert "8,000" in text and "Thank you!" in text
    assert "Pay with iHela" not in text and (bill.confirmation_uri or "x") not in text
    assert "Bank reference" in text
    slip = cashier.get(f"/bills/{bill.id}/slip").get_data(as_text=True)
    assert 'data-testid="receipt"' in slip
    # A pending bill has no receipt yet.
    issue_at_counter(cashier, amount="3 000")
    with app.app_context():
        pending = db.session.scalars(select(Bill).where(Bill.status == "pending")).one()
    assert "receipt-whatsapp" not in cashier.get(f"/bills/{pending.id}").get_data(as_text=True)


@pytest.mark.parametrize("state", ["expired", "cancelled", "rejected", "failed"])
def test_issue_again_on_bills_that_are_over(
    cashier: WebClient, app: Flask, sandbox: Any, state: str
) -> None:
    issue_at_counter(cashier, amount="4 000", payer="79 123 456")
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        bill.status = state  # type: ignore[assignment]
        db.session.commit()
        bill_id, reference = bill.id, bill.merchant_reference
    page = cashier.get(f"/bills/{bill_id}").get_data(as_text=True)
    match = re.search(r'href="([^"]+)"[^>]*data-testid="issue-again"', page)
    assert match and match.group(1) == f"/bills/new?copy={bill_id}"
    form = cashier.get(match.group(1)).get_data(as_text=True)
    assert 'value="4000"' in form and 'value="79123456"' in form
    assert reference not in form  # a new reference is made when it is sent


def test_no_issue_again_on_pending_or_paid(cashier: WebClient, app: Flask, sandbox: Any) -> None:
    bill = issue_and_pay(cashier, app, sandbox)
    assert "issue-again" not in cashier.get(f"/bills/{bill.id}").get_data(as_text=True)


def test_bill_page_shows_expiry_and_payer_name_or_a_dash(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    issue_at_counter(cashier, amount="4 000")
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        bill_id = bill.id
    page = cashier.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert re.search(r'data-testid="payer-name">—<', page)  # the v1 wire carries no name
    assert re.search(r'data-testid="expiry">around [^<]+\(iHela', page)
    with app.app_context():
        db.session.execute(update(Bill).values(payer_name="Ndayishimiye Claude"))
        db.session.commit()
    page = cashier.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert 'data-testid="payer-name">Ndayishimiye Claude<' in page


def test_the_list_poll_answers_304_until_a_bill_changes(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    issue_at_counter(cashier, amount="8 000")
    page = cashier.get("/bills/").get_data(as_text=True)
    stamp = re.search(r'data-stamp="(\d+)"', page)
    assert stamp and 'data-bill-id="' in page
    quiet = cashier.get(f"/bills/changes?since={stamp.group(1)}", headers={"X-Poll": "1"})
    assert quiet.status_code == 304 and quiet.get_data() == b""
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        bill = db.session.scalars(select(Bill)).one()
        db.session.expunge(bill)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    cashier.get(f"/bills/{bill.id}/status")
    changed = cashier.get(f"/bills/changes?since={stamp.group(1)}", headers={"X-Poll": "1"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["stamp"] > int(stamp.group(1))
    assert "Paid" in body["rows"][str(bill.id)]
    assert bill.merchant_reference in body["notice"] and "1 bill paid" in body["notice"]
    again = cashier.get(f"/bills/changes?since={body['stamp']}", headers={"X-Poll": "1"})
    assert again.status_code == 304


def test_the_list_poll_needs_staff(web: WebClient, staff: dict[str, User]) -> None:
    assert web.get("/bills/changes?since=0").status_code == 302


def first_load_bytes(client: Any, page: Any) -> int:
    """The page plus every asset it names, as a browser that accepts brotli receives them."""
    body = page.get_data()
    if page.headers.get("Content-Encoding") == "br":
        body = brotli.decompress(body)
    html = body.decode()
    total = len(page.get_data())
    for url in set(re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)):
        asset = client.get(url, headers={"Accept-Encoding": "br"})
        assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"], url
        total += len(asset.get_data())
    return total


def test_counter_and_display_pages_keep_the_bytes_budget(cashier: WebClient, app: Flask) -> None:
    issue_at_counter(cashier)
    page = cashier.get("/counter", headers={"Accept-Encoding": "br"})
    html = cashier.get("/counter").get_data(as_text=True)
    assert re.search(r'src="/assets/js/counter\.[0-9a-f]{12}\.js" defer', html)
    assert "<script>" not in html and " style=" not in html  # nothing inline (CSP)
    assert first_load_bytes(cashier.client, page) <= 200_000
    _, token = pair(app, pairing_code(cashier))
    display = app.test_client()
    page = display.get(f"/display/{token}", headers={"Accept-Encoding": "br"})
    html = display.get(f"/display/{token}").get_data(as_text=True)
    assert "htmx" not in html and " style=" not in html
    assert first_load_bytes(display, page) <= 120_000


def test_counter_and_display_speak_french(cashier: WebClient, app: Flask) -> None:
    with cashier.client.session_transaction() as session:
        session["lang"] = "fr"
    issue_at_counter(cashier, amount="2 000")
    page = counter_page(cashier)
    assert "Client suivant" in page and "Écran client" in page
    assert re.search(r"2\s000\sFBu", page)
    _, token = pair(app, pairing_code(cashier))
    display = app.test_client()
    state = display.get(f"/display/{token}/state", headers={"Accept-Language": "fr"})
    text = state.get_data(as_text=True)
    assert "Scannez avec l" in text and "FBu" in text


def test_pairing_is_in_the_audit_trail(cashier: WebClient, app: Flask) -> None:
    from dashboard.models import AuditEvent

    pair(app, pairing_code(cashier))
    pair(app, "WRONG2")
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("display.%"))
        ).all()
    assert sorted(actions) == ["display.paired", "display.pairing_failed"]
