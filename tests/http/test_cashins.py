"""Cash-ins, refunds and approvals through the test client, against the real sandbox."""

from __future__ import annotations

import csv
import html
import io
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from dashboard.db import db
from dashboard.models import Bill, Cashin, User
from tests.conftest import WebClient

GOOD = {
    "bank_slug": "MF1-0001",
    "account": "000016-01",
    "amount": "20 000",
    "description": "Refund of a returned pair of shoes",
    "reason": "payout",
    "holder_name": "",
}
TOKEN = re.compile(r'name="(form_token|send_token)"[^>]*value="([^"]*)"')


def token_on(web: WebClient, url: str, name: str) -> str:
    page = web.get(url).get_data(as_text=True)
    tokens = dict(TOKEN.findall(page))
    assert name in tokens, page[-3000:]
    return tokens[name]


# The account of the payer of the bills these tests refund (clientmail@gmail.com).
PAYERS_ACCOUNT = "000002-01"


def prepare(web: WebClient, url: str = "/cashins/new", **changes: str) -> Any:
    # A refund goes back to the payer's own account: anywhere else waits for a second person.
    good = {**GOOD, "account": PAYERS_ACCOUNT} if "bill=" in url else GOOD
    data = {**good, "form_token": token_on(web, url, "form_token"), **changes}
    return web.post(url, data)


def confirm(web: WebClient, cashin_url: str) -> Any:
    send_token = token_on(web, cashin_url, "send_token")
    return web.post(cashin_url + "/confirm", {"send_token": send_token}, follow_redirects=True)


def cashins(app: Flask) -> list[Cashin]:
    with app.app_context():
        rows = db.session.scalars(select(Cashin).order_by(Cashin.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def received(sandbox: Any) -> list[dict[str, Any]]:
    reply = requests.get(sandbox.url + "_sandbox/cashins", timeout=5)
    return list(reply.json()["cashins"])


def fault(sandbox: Any, **spec: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=spec, timeout=5).raise_for_status()


@pytest.fixture()
def accountant(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("accountant@example.com")
    return web


def second_accountant(app: Flask) -> WebClient:
    other = WebClient(app.test_client())
    other.login("accountant2@example.com")
    return other


def test_prepare_review_confirm_succeeds_with_gateway_reference(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    response = prepare(accountant)
    assert response.status_code == 303
    url = response.headers["Location"]
    review = accountant.get(url).get_data(as_text=True)
    assert "Review before sending" in review
    assert "Niyonzima Aline" in review and "000016-01" in review and "iHela Credit Union" in review
    assert "Not needed" in review
    assert received(sandbox) == []  # nothing leaves before the confirmation
    page = confirm(accountant, url).get_data(as_text=True)
    [cashin] = cashins(app)
    assert cashin.status == "succeeded"
    assert cashin.gateway_reference and cashin.gateway_reference in page
    [sent] = received(sandbox)
    assert sent["merchant_reference"] == cashin.merchant_reference
    assert sent["amount"] == 20000 and sent["account"] == "000016-01"
    receipt = accountant.get(url + "/receipt").get_data(as_text=True)
    assert cashin.gateway_reference in receipt and "Niyonzima Aline" in receipt


def test_digits_typed_without_separator_follow_the_mask(app: Flask, accountant: WebClient) -> None:
    assert prepare(accountant, account="00001601").status_code == 303
    assert cashins(app)[0].account == "000016-01"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"account": "16-01"}, "account", "look like 000000-00"),
        ({"account": "ABCDEF-GH"}, "account", "look like 000000-00"),
        ({"account": "000099-01"}, "account", "No account 000099-01"),
        ({"account": ""}, "account", "Enter the account number"),
        ({"bank_slug": ""}, "bank_slug", "Choose the receiving bank"),
        ({"bank_slug": "MF1-0007", "account": "000003-01"}, "bank_slug", "Choose the receiving"),
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "100.5"}, "amount", "no cents"),
        ({"amount": "6 000 000"}, "amount", "largest amount for one cash-in"),
        (
            {"bank_slug": "MOB-0006", "account": "68123456", "amount": "5000"},
            "amount",
            "smallest amount to PesaFlash is BIF 10,000",
        ),
        (
            {"bank_slug": "MOB-0003", "account": "79123456", "amount": "3 000 000"},
            "amount",
            "largest amount for EcoCash",
        ),
        ({"description": ""}, "description", "Say what the money is for"),
        (
            {"bank_slug": "BNQ-0005", "account": "0150012345600"},
            "holder_name",
            "type the holder's name",
        ),
        (
            {"bank_slug": "BNQ-0005", "account": "0150012345600", "holder_name": "Eric N."},
            "holder_verified",
            "Tick to confirm",
        ),
    ],
)
def test_input_errors_at_the_field_create_nothing(
    app: Flask,
    accountant: WebClient,
    sandbox: Any,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = prepare(accountant, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = [html.unescape(e) for e in re.findall(rf'data-field-error="{field}">([^<]*)<', page)]
    assert errors and any(message in e for e in errors), (
        errors,
        re.findall(r'data-field-error="(\w+)">([^<]*)<', page),
    )
    assert cashins(app) == []
    assert received(sandbox) == []


def test_daily_maximum_per_account(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
) -> None:
    app = make_app(CASHIN_DAILY_MAX_PER_ACCOUNT=30000)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    confirm(web, prepare(web).headers["Location"])
    response = prepare(web, amount="15000")
    assert response.status_code == 422
    assert "already received BIF 20,000 today" in response.get_data(as_text=True)


def test_unavailable_lookup_with_vouched_name_needs_approval(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    response = prepare(
        accountant,
        bank_slug="BNQ-0005",
        account="0150012345600",
        holder_name="Eric Nshimirimana",
        holder_verified="y",
        amount="5000",
    )
    assert response.status_code == 303
    page = accountant.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be confirmed by the bank" in page
    assert "Submit for approval" in page
    [cashin] = cashins(app)
    assert cashin.needs_approval and cashin.holder_check == "unavailable"


def test_double_confirmation_reaches_the_gateway_once(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    url = prepare(accountant).headers["Location"]
    send_token = token_on(accountant, url, "send_token")
    cookie = accountant.client.get_cookie("dashboard_session")
    assert cookie is not None
    data = {"send_token": send_token, "csrf_token": accountant.csrf()}
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie.value)
        barrier.wait()
        codes.append(client.post(url + "/confirm", data=data).status_code)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [303, 303]
    assert len(received(sandbox)) == 1  # the sandbox's own record: sent once
    assert [c.status for c in cashins(app)] == ["succeeded"]
    # The back button and a resubmission later change nothing either.
    page = accountant.post(
        url + "/confirm", {"send_token": send_token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "already confirmed; nothing was sent again" in page
    assert len(received(sandbox)) == 1


def test_resubmitted_form_creates_one_draft(app: Flask, accountant: WebClient) -> None:
    data = {**GOOD, "form_token": token_on(accountant, "/cashins/new", "form_token")}
    first = accountant.post("/cashins/new", data)
    second = accountant.post("/cashins/new", data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(cashins(app)) == 1


def test_stalled_gateway_leaves_unknown_in_banner_and_never_retries(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
    dialect: str,
) -> None:
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    fault(sandbox, stall=2, path=api_path("cash-in"), count=1)
    page = confirm(web, url).get_data(as_text=True)
    assert "iHela did not answer in time." in page
    assert "We do not know whether the money left" in page
    [cashin] = cashins(app)
    assert cashin.status == "unknown"
    for other_page in ["/cashins/", "/bills/", "/cashins/approvals"]:
        html = web.get(other_page).get_data(as_text=True)
        assert 'data-testid="unknown-cashins-banner"' in html, other_page
        # The banner links to the whole filtered list, which shows the row.
        assert 'href="/cashins/?status=needs_checking"' in html, other_page
    listed = web.get("/cashins/?status=needs_checking").get_data(as_text=True)
    assert cashin.merchant_reference in listed
    # The stalled request did arrive: the gateway applied it once; nothing was sent again.
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    assert len(received(sandbox)) == 1
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    assert "unknown-cashins-banner" not in cashier.get("/bills/").get_data(as_text=True)

    unknown_page = web.get(url).get_data(as_text=True)
    assert "Mark resolved" in unknown_page
    # Its preparer is told before filling the form what they alone may record.
    assert 'data-testid="resolve-own"' in unknown_page
    assert "resolve-own" not in second_accountant(app).get(url).get_data(as_text=True)
    # No receipt while nobody knows whether the money left, not even by its address.
    assert 'data-testid="cashin-receipt"' not in unknown_page
    refused = web.get(url + "/receipt", follow_redirects=True).get_data(as_text=True)
    assert "A receipt is made once the outcome is known." in refused
    # Only v2 can ask iHela by our reference; with v1 a person settles it.
    assert ('data-testid="check-with-ihela"' in unknown_page) == (dialect != "v1")
    bad = web.post(url + "/resolve", {"outcome": "succeeded", "note": ""})
    assert bad.status_code == 422 and "Write what iHela told you" in bad.get_data(as_text=True)
    web.post(url + "/resolve", {"outcome": "succeeded", "note": "Called iHela, ref CPT-1 ok"})
    assert cashins(app)[0].status == "succeeded"
    assert 'data-testid="cashin-receipt"' in web.get(url).get_data(as_text=True)
    assert "Receipt" in web.get(url + "/receipt").get_data(as_text=True)
    assert "unknown-cashins-banner" not in web.get("/cashins/").get_data(as_text=True)


def test_approval_above_threshold_by_another_accountant(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    url = prepare(accountant, amount="150 000").headers["Location"]
    page = confirm(accountant, url).get_data(as_text=True)
    assert "another accountant must approve it" in page
    assert "You cannot approve your own cash-in" in page
    assert received(sandbox) == []
    cashin_id = int(url.rstrip("/").split("/")[-1])
    # The author cannot approve, even by posting directly.
    page = accountant.post(f"/cashins/{cashin_id}/approve", follow_redirects=True)
    assert "another accountant must approve it" in page.get_data(as_text=True)
    assert cashins(app)[0].status == "awaiting_approval"

    assert 'data-testid="approvals-badge"' not in accountant.get("/bills/").get_data(
        as_text=True
    )  # one's own cash-in is not waiting for oneself
    other = second_accountant(app)
    assert re.search(
        r'data-testid="approvals-badge"[^>]*>1<', other.get("/bills/").get_data(as_text=True)
    )
    queue = other.get("/cashins/approvals").get_data(as_text=True)
    assert "Niyonzima Aline" in queue
    page = other.post(f"/cashins/{cashin_id}/approve", follow_redirects=True)
    assert "Sent. iHela reference" in page.get_data(as_text=True)
    [cashin] = cashins(app)
    assert cashin.status == "succeeded"
    assert cashin.decided_by_id is not None and cashin.decided_by_id != cashin.created_by_id
    assert len(received(sandbox)) == 1


def test_rejection_records_a_reason(app: Flask, accountant: WebClient, sandbox: Any) -> None:
    url = prepare(accountant, amount="150 000").headers["Location"]
    confirm(accountant, url)
    cashin_id = int(url.rstrip("/").split("/")[-1])
    other = second_accountant(app)
    response = other.post(f"/cashins/{cashin_id}/reject", {"rejection_reason": ""})
    assert response.status_code == 422
    assert "Say why it is rejected" in response.get_data(as_text=True)
    other.post(
        f"/cashins/{cashin_id}/reject",
        {"rejection_reason": "Wrong account: customer gave a new one"},
    )
    [cashin] = cashins(app)
    assert cashin.status == "rejected"
    assert cashin.rejection_reason == "Wrong account: customer gave a new one"
    assert received(sandbox) == []


def _paid_bill(app: Flask, sandbox: Any, amount: int) -> int:
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    page = cashier.get("/bills/new").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page)
    assert token
    cashier.post(
        "/bills/new",
        {
            "amount": str(amount),
            "payer_kind": "email",
            "payer": "clientmail@gmail.com",
            "description": "shoes",
            "bank_slug": "",
            "bank_client_id": "",
            "form_token": token.group(1),
        },
    )
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
        bill_id = bill.id
    cashier.post(f"/bills/{bill_id}/refresh")
    return bill_id


def test_refund_is_prefilled_linked_and_shown_on_the_bill(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    bill_id = _paid_bill(app, sandbox, 20000)
    page = accountant.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert f"/cashins/new?bill={bill_id}" in page
    form = accountant.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    assert 'value="20000"' in form and "Refund of bill" in form
    url = prepare(
        accountant,
        f"/cashins/new?bill={bill_id}",
        amount="5000",
        description="Refund of bill: one shoe",
    ).headers["Location"]
    confirm(accountant, url)
    [cashin] = cashins(app)
    assert cashin.bill_id == bill_id and cashin.reason == "refund"
    page = accountant.get(f"/bills/{bill_id}").get_data(as_text=True)
    refunded = re.search(r'data-testid="refunded">([^<]*)<', page)
    left = re.search(r'data-testid="refund-left">([^<]*)<', page)
    assert refunded and "5,000" in refunded.group(1).replace("\u202f", ",")
    assert left and "15,000" in left.group(1).replace("\u202f", ",")
    too_much = prepare(accountant, f"/cashins/new?bill={bill_id}", amount="16000")
    assert "Only BIF 15,000 of this bill is left to refund" in too_much.get_data(as_text=True)


def test_two_concurrent_refunds_cannot_exceed_the_bill(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    bill_id = _paid_bill(app, sandbox, 20000)
    other = second_accountant(app)
    urls = [
        prepare(web, f"/cashins/new?bill={bill_id}", amount="15000").headers["Location"]
        for web in (accountant, other)
    ]
    posts = []
    for web, url in zip((accountant, other), urls, strict=True):
        cookie = web.client.get_cookie("dashboard_session")
        assert cookie is not None
        posts.append(
            (
                cookie.value,
                url,
                {"send_token": token_on(web, url, "send_token"), "csrf_token": web.csrf()},
            )
        )
    barrier = threading.Barrier(2)

    def click(cookie: str, url: str, data: dict[str, str]) -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie)
        barrier.wait()
        client.post(url + "/confirm", data=data)

    threads = [threading.Thread(target=click, args=post) for post in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(c.status for c in cashins(app))
    assert statuses == ["draft", "succeeded"]  # the loser was refused and stays unsent
    assert len(received(sandbox)) == 1
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None and bill.refund_reserved == 15000


def test_failed_cashin_releases_the_refund(app: Flask, accountant: WebClient, sandbox: Any) -> None:
    bill_id = _paid_bill(app, sandbox, 20000)
    url = prepare(accountant, f"/cashins/new?bill={bill_id}", amount="20000").headers["Location"]
    # The token is refused and cannot be renewed: the cash-in is never sent.
    requests.post(sandbox.url + "_sandbox/tokens/revoke", timeout=5).raise_for_status()
    fault(sandbox, status=503, path="/oAuth2/token", count=1)
    page = confirm(accountant, url).get_data(as_text=True)
    assert "Nothing was sent" in page
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None and bill.refund_reserved == 0
        assert db.session.scalar(select(func.count()).select_from(Cashin)) == 1


def test_lookup_fragment_and_no_js_check(app: Flask, accountant: WebClient) -> None:
    fragment = accountant.get("/cashins/lookup?bank_slug=MF1-0001&account=000001-01")
    assert 'data-testid="holder-name">Bigirimana Fabrice<' in fragment.get_data(as_text=True)
    missing = accountant.get("/cashins/lookup?bank_slug=MF1-0001&account=000099-01")
    assert "No account 000099-01" in missing.get_data(as_text=True)
    unavailable = accountant.get("/cashins/lookup?bank_slug=BNQ-0005&account=0150012345600")
    assert 'name="holder_verified"' in unavailable.get_data(as_text=True)
    data = {
        **GOOD,
        "form_token": token_on(accountant, "/cashins/new", "form_token"),
        "action": "lookup",
        "account": "000001-01",
    }
    page = accountant.post("/cashins/new", data).get_data(as_text=True)
    assert "Bigirimana Fabrice" in page
    assert cashins(app) == []


def test_bank_list_survives_a_gateway_outage(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    app = make_app(BANK_LIST_TTL_SECONDS=0, BANK_LIST_BACKGROUND_REFRESH=False)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    assert "PesaFlash" in web.get("/cashins/new").get_data(as_text=True)
    fault(sandbox, status=503, path=api_path("bank list"))
    page = web.get("/cashins/new").get_data(as_text=True)
    assert "PesaFlash" in page and 'data-testid="banks-stale"' in page
    assert "Old Credit Union" not in page  # inactive banks are never offered
    logo = web.get("/banks/MOB-0006/logo")
    assert logo.status_code == 200 and logo.mimetype.startswith("image/")
    initials = web.get("/banks/NOPE-0001/logo")
    assert initials.status_code == 200 and b"<svg" in initials.data


def test_cashier_cannot_reach_cashins(web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com")
    for url in ["/cashins/", "/cashins/new", "/cashins/approvals", "/cashins/lookup"]:
        assert web.get(url).status_code == 403, url


def _exported(web: WebClient) -> dict[str, str]:
    """The one bill of this month's bills export, column code: value."""
    month = datetime.now(ZoneInfo("Africa/Bujumbura")).strftime("%Y-%m")
    body = web.get(f"/reports/bills.csv?month={month}").get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    return dict(zip(header, row, strict=True))


def test_the_bills_export_tells_refunds_sent_from_refunds_pending(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    """A refund sent counts as sent; one waiting for a second accountant is pending (the bill
    holds it), not sent; once approved and sent, it moves to sent."""
    bill_id = _paid_bill(app, sandbox, 200000)
    sent = prepare(accountant, f"/cashins/new?bill={bill_id}", amount="5000")
    confirm(accountant, sent.headers["Location"])
    waiting = prepare(accountant, f"/cashins/new?bill={bill_id}", amount="150 000")
    confirm(accountant, waiting.headers["Location"])
    assert sorted(c.status for c in cashins(app)) == ["awaiting_approval", "succeeded"]

    row = _exported(accountant)
    assert (row["refunds_bif"], row["refunds_pending_bif"]) == ("5000", "150000"), row
    other = second_accountant(app)
    cashin_id = int(waiting.headers["Location"].rstrip("/").split("/")[-1])
    other.post(f"/cashins/{cashin_id}/approve")
    assert sorted(c.status for c in cashins(app)) == ["succeeded", "succeeded"]
    row = _exported(accountant)
    assert (row["refunds_bif"], row["refunds_pending_bif"]) == ("155000", "0"), row


def test_a_refund_of_unknown_outcome_is_exported_pending_until_settled(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    """iHela did not answer: nobody knows whether the refund left, so it is pending, not sent;
    settled as not sent by a second accountant, the bill holds nothing for it any more."""
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    bill_id = _paid_bill(app, sandbox, 20000)
    url = prepare(web, f"/cashins/new?bill={bill_id}", amount="5000").headers["Location"]
    fault(sandbox, stall=2, path=api_path("cash-in"), count=1)
    confirm(web, url)
    assert [c.status for c in cashins(app)] == ["unknown"]
    row = _exported(web)
    assert (row["refunds_bif"], row["refunds_pending_bif"]) == ("0", "5000"), row
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    # "Not sent" is another person's word than the preparer's (it frees the money again).
    second_accountant(app).post(url + "/resolve", {"outcome": "failed", "note": "iHela: none"})
    assert [c.status for c in cashins(app)] == ["failed"]
    row = _exported(web)
    assert (row["refunds_bif"], row["refunds_pending_bif"]) == ("0", "0"), row
