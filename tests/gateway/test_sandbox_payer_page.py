"""The payer's page at a bill's confirmation_uri: plain HTML forms, no JS, no cookies."""

from __future__ import annotations

import re
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


def _issue(sandbox: RunningSandbox, reference: str = "PAGE-1", **extra: Any) -> dict[str, Any]:
    token = _token(sandbox)
    reply = requests.post(
        sandbox.url + "api/v1/payments/bill/init/",
        data={
            "amount": 2000,
            "user": "clientmail@gmail.com",
            "description": "Two <b>samosas</b>",
            "merchant_reference": reference,
            **extra,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    reply.raise_for_status()
    bill: dict[str, Any] = reply.json()["bill"]
    bill["_token"] = token
    return bill


def _verify(sandbox: RunningSandbox, bill: dict[str, Any]) -> dict[str, Any]:
    reply = requests.post(
        sandbox.url + "api/v1/payments/bill/verify/",
        data={"code": bill["merchant_reference"], "reference": bill["code"]},
        headers={"Authorization": f"Bearer {bill['_token']}"},
        timeout=5,
    )
    reply.raise_for_status()
    checked: dict[str, Any] = reply.json()["bill"]
    return checked


def _visible_text(html: str) -> str:
    text = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_page_shows_merchant_amount_description_and_two_buttons(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox)

    page = requests.get(bill["confirmation_uri"], timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Set-Cookie" not in page.headers
    text = _visible_text(page.text)
    assert "Global Test Merchant" in text
    assert "2 000" in text
    assert "2000.00" not in text and "2 000,00" not in text
    # The description is shown escaped, never as markup.
    assert "Two &lt;b&gt;samosas&lt;/b&gt;" in page.text
    assert re.search(r'<form method="post">', page.text)
    assert re.search(r'<button[^>]*name="action" value="pay"[^>]*>Pay</button>', page.text)
    assert re.search(r'<button[^>]*name="action" value="decline"[^>]*>Decline</button>', page.text)
    assert "<script" not in page.text
    assert "://" not in page.text  # nothing fetched from anywhere else
    assert "script-src" not in page.headers["Content-Security-Policy"]


def test_pay_without_redirect_uri_shows_paid_and_verify_says_paid(
    sandbox: RunningSandbox,
) -> None:
    bill = _issue(sandbox)

    posted = requests.post(
        bill["confirmation_uri"], data={"action": "pay"}, timeout=5, allow_redirects=False
    )
    done = requests.get(bill["confirmation_uri"], timeout=5)
    checked = _verify(sandbox, bill)

    assert posted.status_code == 303
    assert posted.headers["Location"].endswith(f"/u/operations/bill/confirm/{bill['code']}")
    assert "Set-Cookie" not in posted.headers and "Set-Cookie" not in done.headers
    assert "Paid" in _visible_text(done.text)
    assert 'value="pay"' not in done.text
    assert checked["status"] == "Paid"
    assert re.fullmatch(r"CPT-\d+/01-\d+", checked["bank_reference"])
    assert checked["bank_reference"] in done.text
    shown = requests.get(f"{sandbox.url}_sandbox/bills/{bill['code']}", timeout=5).json()["bill"]
    assert shown["payment_reference"] == checked["bank_reference"]
    assert shown["paid_by"]["email"] == "clientmail@gmail.com"


def test_decline_cancels_the_bill(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox)

    posted = requests.post(bill["confirmation_uri"], data={"action": "decline"}, timeout=5)

    assert posted.status_code == 200  # after following the redirect back to the page
    assert "declined" in _visible_text(posted.text)
    assert _verify(sandbox, bill)["status"] == "Cancelled"


@pytest.mark.parametrize("action", ["pay", "decline"])
def test_after_an_action_the_browser_goes_to_redirect_uri_unchanged(
    sandbox: RunningSandbox, action: str
) -> None:
    back = "http://127.0.0.1:5000/bills/42?from=ihela"
    bill = _issue(sandbox, redirect_uri=back)

    posted = requests.post(
        bill["confirmation_uri"], data={"action": action}, timeout=5, allow_redirects=False
    )

    assert posted.status_code == 303
    assert posted.headers["Location"] == back


def test_second_submission_changes_nothing(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox, redirect_uri="http://127.0.0.1:5000/back")
    requests.post(
        bill["confirmation_uri"], data={"action": "pay"}, timeout=5, allow_redirects=False
    )

    again = requests.post(
        bill["confirmation_uri"], data={"action": "decline"}, timeout=5, allow_redirects=False
    )

    assert again.status_code == 409
    assert "Location" not in again.headers
    assert "already" in _visible_text(again.text) or "Nothing done" in _visible_text(again.text)
    assert _verify(sandbox, bill)["status"] == "Paid"


def test_expired_bill_page_offers_no_buttons_and_cannot_be_paid(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox)
    requests.post(f"{sandbox.url}_sandbox/bills/{bill['code']}/expire", timeout=5)

    page = requests.get(bill["confirmation_uri"], timeout=5)
    attempt = requests.post(bill["confirmation_uri"], data={"action": "pay"}, timeout=5)

    assert "expired" in _visible_text(page.text)
    assert 'value="pay"' not in page.text
    assert attempt.status_code == 409
    assert _verify(sandbox, bill)["status"] == "Expired"


def test_unknown_action_is_refused_and_changes_nothing(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox)
    reply = requests.post(bill["confirmation_uri"], data={"action": "steal"}, timeout=5)
    assert reply.status_code == 400
    assert _verify(sandbox, bill)["status"] == "Pending"


def test_page_with_trailing_slash_works_too(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox)
    reply = requests.get(bill["confirmation_uri"] + "/", timeout=5, allow_redirects=False)
    assert reply.status_code == 200
    assert "Global Test Merchant" in reply.text


def test_unknown_bill_page_is_an_html_404(sandbox: RunningSandbox) -> None:
    reply = requests.get(
        sandbox.url + "u/operations/bill/confirm/BILL-20200101-AAAAAAAAAA", timeout=5
    )
    assert reply.status_code == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "not found" in reply.text.lower()


def test_mobile_money_bill_page_names_the_bank(sandbox: RunningSandbox) -> None:
    bill = _issue(sandbox, bank="MOB-0003", bank_client_id="79123456")
    page = requests.get(bill["confirmation_uri"], timeout=5)
    assert "EcoCash (79123456)" in _visible_text(page.text)
    assert 'src="/media/banks/icon/MOB-0003.svg"' in page.text
