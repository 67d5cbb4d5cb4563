"""Edges found in review: limits checked when money is committed, stuck rows, odd input."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard.db import db, utcnow
from dashboard.models import Bill, Cashin, User
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill
from tests.http.test_cashins import cashins, confirm, prepare, received, token_on


@pytest.fixture()
def accountant(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("accountant@example.com")
    return web


def test_daily_limit_is_checked_again_when_drafts_are_confirmed(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(CASHIN_DAILY_MAX_PER_ACCOUNT=30000)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    first, second = prepare(web), prepare(web)  # each alone is within the limit
    second_url = second.headers["Location"]
    stale_token = token_on(web, second_url, "send_token")  # a review page left open
    confirm(web, first.headers["Location"])
    page = web.post(
        second_url + "/confirm", {"send_token": stale_token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "daily maximum per account" in page
    assert [c.status for c in cashins(app)] == ["succeeded", "draft"]
    assert len(received(sandbox)) == 1
    # The draft's page says why instead of offering to send it.
    assert 'data-testid="draft-blockers"' in page and "now</button>" not in page


def test_unexpected_error_while_sending_is_an_unknown_outcome(
    app: Flask, accountant: WebClient, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = prepare(accountant).headers["Location"]
    from dashboard.ihela import IhelaClient

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker crashed mid-call")

    monkeypatch.setattr(IhelaClient, "cashin_client", broken)
    page = confirm(accountant, url).get_data(as_text=True)
    assert "the money may or may not have left" in page
    assert cashins(app)[0].status == "unknown"


def test_a_cashin_stuck_in_submitting_shows_in_the_banner_and_can_be_resolved(
    app: Flask, accountant: WebClient, sandbox: Any
) -> None:
    url = prepare(accountant).headers["Location"]
    with app.app_context():  # as if the process died during the call, three minutes ago
        db.session.execute(
            update(Cashin).values(status="submitting", submitted_at=utcnow() - timedelta(minutes=3))
        )
        db.session.commit()
    html = accountant.get("/bills/").get_data(as_text=True)
    assert 'data-testid="unknown-cashins-banner"' in html
    detail = accountant.get(url).get_data(as_text=True)
    assert "The dashboard stopped while sending" in detail and "Mark resolved" in detail
    other = WebClient(app.test_client())
    other.login("accountant2@example.com")
    other.post(url + "/resolve", {"outcome": "failed", "note": "iHela says never received"})
    assert cashins(app)[0].status == "failed"


def test_the_author_cannot_mark_an_unknown_cashin_failed(
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
    response = web.post(url + "/resolve", {"outcome": "failed", "note": "I think it failed"})
    assert response.status_code == 422
    assert "another accountant or an admin must confirm" in response.get_data(as_text=True)
    assert cashins(app)[0].status == "unknown"


def test_two_tabs_retrying_an_unknown_bill_issue_it_once(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"status": 503, "path": "/api/v1/payments/bill/init", "count": 1},
        timeout=5,
    )
    url = issue(web).headers["Location"]
    tokens = [
        re.search(r'name="form_token" value="([^"]+)"', web.get(url).get_data(as_text=True))
        for _ in range(2)
    ]
    cookie = web.client.get_cookie("dashboard_session")
    assert cookie is not None and all(tokens)
    barrier = threading.Barrier(2)

    def retry(token: str) -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie.value)
        barrier.wait()
        client.post(url + "/retry", data={"form_token": token, "csrf_token": web.csrf()})

    threads = [threading.Thread(target=retry, args=(t.group(1),)) for t in tokens if t]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        assert len(db.session.scalars(select(Bill).where(Bill.retry_of_id.is_not(None))).all()) == 1


def test_a_bill_stuck_in_creating_is_shown_as_unknown_and_can_be_retried(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web)
    bill = only_bill(app)
    with app.app_context():
        db.session.execute(
            update(Bill).values(
                status="creating", code=None, created_at=utcnow() - timedelta(minutes=5)
            )
        )
        db.session.commit()
    page = web.get(f"/bills/{bill.id}").get_data(as_text=True)
    assert 'data-testid="unknown-banner"' in page and "Try again with a new reference" in page


@pytest.mark.parametrize(
    "url",
    [
        "/cashins/99999999999999999999",
        "/bills/99999999999999999999",
        "/bills/?issued_by=99999999999999999999",
        "/bills/new?copy=99999999999999999999",
        "/cashins/new?bill=99999999999999999999",
        "/bills/?to=9999-12-31",
        "/bills/?from=0001-01-01",
        "/bills/?page=99999999999999999999",
        "/admin/audit?page=99999999999999999999",
        "/admin/users/99999999999999999999/active",
        "/admin/audit?day=9999-12-31",
        "/admin/audit?day=0001-01-01",
    ],
)
def test_odd_numbers_in_addresses_are_never_a_500(
    app: Flask, web: WebClient, staff: dict[str, User], url: str
) -> None:
    web.login("admin@example.com")
    assert web.get(url).status_code in (200, 302, 404, 405)


def test_odd_bill_id_in_the_cashin_form_is_not_a_500(accountant: WebClient) -> None:
    response = accountant.post(
        "/cashins/new",
        {
            "bill_id": "²",
            "bank_slug": "MF1-0001",
            "account": "000016-01",
            "amount": "1000",
            "description": "x",
            "reason": "payout",
            "form_token": "t" * 20,
        },
    )
    assert response.status_code in (303, 422)


def test_non_ascii_digits_are_not_an_account_number(accountant: WebClient, app: Flask) -> None:
    response = prepare(accountant, account="\u0660\u0660\u0660\u0660\u0661\u0666-\u0660\u0661")
    assert response.status_code == 422
    assert cashins(app) == []


def test_unexpected_error_while_issuing_leaves_the_bill_unknown(
    app: Flask,
    web: WebClient,
    staff: dict[str, User],
    sandbox: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dashboard.ihela import IhelaClient

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker crashed mid-call")

    monkeypatch.setattr(IhelaClient, "init_bill", broken)
    web.login("cashier@example.com")
    page = web.get(issue(web).headers["Location"]).get_data(as_text=True)
    assert 'data-testid="unknown-banner"' in page
    assert only_bill(app).status == "unknown"


def test_deep_audit_page_is_clamped(web: WebClient, staff: dict[str, User]) -> None:
    web.login("admin@example.com")
    assert web.get("/admin/audit?page=999999999999999999").status_code == 200


def test_splitting_an_amount_does_not_skip_approval(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(CASHIN_APPROVAL_THRESHOLD=100000)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    first, second = prepare(web, amount="60000"), prepare(web, amount="60000")
    assert "Not needed" in web.get(second.headers["Location"]).get_data(as_text=True)
    confirm(web, first.headers["Location"])
    page = confirm(web, second.headers["Location"]).get_data(as_text=True)
    assert "another accountant must approve it" in page
    assert "earlier cash-ins to this account" in page
    assert [c.status for c in cashins(app)] == ["succeeded", "awaiting_approval"]
    third = prepare(web, amount="1000")  # known at preparation time now
    assert "earlier cash-ins to this account" in web.get(third.headers["Location"]).get_data(
        as_text=True
    )
    assert len(received(sandbox)) == 1


def test_one_account_typed_three_ways_is_one_account(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(CASHIN_APPROVAL_THRESHOLD=100000)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    for spelling in ("00012345", "12345", "0001 2345"):
        response = prepare(web, bank_slug="BNQ-0002", account=spelling, amount="60000")
        assert response.status_code == 303, spelling
        confirm(web, response.headers["Location"])
    rows = cashins(app)
    assert {c.account for c in rows} == {"00012345"}
    assert [c.status for c in rows] == ["succeeded", "awaiting_approval", "awaiting_approval"]
    assert len(received(sandbox)) == 1


def test_two_drafts_confirmed_at_once_do_not_both_skip_approval(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(CASHIN_APPROVAL_THRESHOLD=100000)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    urls = [prepare(web, amount="60000").headers["Location"] for _ in range(2)]
    cookie = web.client.get_cookie("dashboard_session")
    assert cookie is not None
    posts = []
    for url in urls:
        page = web.get(url).get_data(as_text=True)
        token = re.search(r'name="send_token"[^>]*value="([^"]+)"', page)
        assert token
        posts.append((url, {"send_token": token.group(1), "csrf_token": web.csrf()}))
    barrier = threading.Barrier(2)

    def click(url: str, data: dict[str, str]) -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie.value)
        barrier.wait()
        client.post(url + "/confirm", data=data)

    threads = [threading.Thread(target=click, args=post) for post in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c.status for c in cashins(app)) == ["awaiting_approval", "succeeded"]
    assert len(received(sandbox)) == 1


def test_language_switch_after_a_posted_form_goes_home(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    page = web.post(
        "/admin/users", {"email": "bad", "name": "", "role": "cashier", "password": "x"}
    ).get_data(as_text=True)
    assert 'name="next" value=""' in page
    response = web.post("/lang", {"lang": "fr", "next": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")


def test_pager_ignores_unknown_query_arguments(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(PAGE_SIZE=1)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    issue(web)
    issue(web)
    for query in ("endpoint=x", "_method=POST", "_external=1&_scheme=javascript"):
        response = web.get(f"/bills/?{query}")
        assert response.status_code == 200, query
        assert 'href="javascript' not in response.get_data(as_text=True)
