"""A send still in flight is not resolvable; a late answer never overrides a person's resolution.

The send really is in flight: the sandbox holds the cash-in's answer back while this test acts as
the colleague who, seeing the row "submitting", tries to resolve it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard.db import db, utcnow
from dashboard.models import AuditEvent, Bill, Cashin, User
from tests.conftest import WebClient
from tests.http.test_cashins import _paid_bill, cashins, prepare, token_on

CASHIN_PATH = "/api/v1/payments/cash-in"


@pytest.fixture()
def long_timeouts(make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any) -> Flask:
    # 150 s is a legal read timeout (README): a send may then last more than five minutes.
    return make_app(IHELA_READ_TIMEOUT=150.0, IHELA_CONNECT_TIMEOUT=5.0)


def _login(app: Flask, email: str) -> WebClient:
    web = WebClient(app.test_client())
    web.login(email)
    return web


def _reserved(app: Flask, bill_id: int) -> int:
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None
        return bill.refund_reserved


@contextmanager
def refund_in_flight(
    app: Flask, sandbox: Any, web: WebClient, *, started_ago: timedelta, answer: dict[str, Any]
) -> Iterator[tuple[str, int]]:
    """Confirm a full refund of a paid bill whose answer the sandbox holds back for a while;
    inside the block the send is in flight and its ``submitted_at`` is ``started_ago``. On
    leaving, wait for the send to end and write (or not) its outcome."""
    bill_id = _paid_bill(app, sandbox, 20000)
    url = prepare(web, f"/cashins/new?bill={bill_id}", amount="20000").headers["Location"]
    data = {"send_token": token_on(web, url, "send_token"), "csrf_token": web.csrf()}
    cookie = web.client.get_cookie("dashboard_session")
    assert cookie is not None
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"stall": 3, "path": CASHIN_PATH, "count": 1, **answer},
        timeout=5,
    ).raise_for_status()

    def click() -> None:
        client = app.test_client()
        client.set_cookie("dashboard_session", cookie.value)
        client.post(url + "/confirm", data=data)

    sender = threading.Thread(target=click)
    sender.start()
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline and cashins(app)[0].status != "submitting":
        time.sleep(0.02)
    with app.app_context():
        assert db.session.scalars(select(Cashin.status)).one() == "submitting"
        db.session.execute(update(Cashin).values(submitted_at=utcnow() - started_ago))
        db.session.commit()
    try:
        yield url, bill_id
    finally:
        sender.join(timeout=30)
    assert not sender.is_alive()


def test_with_a_150_s_read_timeout_a_send_in_flight_cannot_be_resolved_failed(
    long_timeouts: Flask, sandbox: Any
) -> None:
    app = long_timeouts
    web, other = _login(app, "accountant@example.com"), _login(app, "accountant2@example.com")
    # Five minutes is more than the old fixed two, and less than this configuration's longest
    # send (token then cash-in, each 5 + 150 s, a 401 renewal and re-send, and a margin).
    with refund_in_flight(app, sandbox, web, started_ago=timedelta(minutes=5), answer={}) as (
        url,
        bill_id,
    ):
        page = other.get(url).get_data(as_text=True)
        assert 'data-testid="still-sending"' in page and "Mark resolved" not in page
        assert "unknown-cashins-banner" not in other.get("/cashins/").get_data(as_text=True)
        listed = other.get("/cashins/?status=needs_checking").get_data(as_text=True)
        assert "No cash-ins match this filter." in listed
        refused = other.post(
            url + "/resolve",
            {"outcome": "failed", "note": "iHela says nothing arrived"},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "may still be on its way to iHela" in refused
        assert cashins(app)[0].status == "submitting"
        assert _reserved(app, bill_id) == 20000
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and cashin.resolved_by_id is None
    assert _reserved(app, bill_id) == 20000


def test_a_late_success_after_a_failed_resolution_is_a_conflict_and_frees_nothing(
    long_timeouts: Flask, sandbox: Any
) -> None:
    app = long_timeouts
    web, other = _login(app, "accountant@example.com"), _login(app, "accountant2@example.com")
    # Longer than any send can last with these timeouts: the process is taken for dead.
    with refund_in_flight(app, sandbox, web, started_ago=timedelta(hours=1), answer={}) as (
        url,
        bill_id,
    ):
        assert "Mark resolved" in other.get(url).get_data(as_text=True)
        other.post(url + "/resolve", {"outcome": "failed", "note": "iHela: not received yet"})
        assert cashins(app)[0].status == "failed"
        assert _reserved(app, bill_id) == 0  # the resolution freed the refund, once
    [cashin] = cashins(app)
    # The late success is kept beside the resolution, not over it, and frees nothing again.
    assert cashin.status == "failed" and cashin.late_outcome == "succeeded"
    assert cashin.late_reference
    assert _reserved(app, bill_id) == 0
    page = other.get(url).get_data(as_text=True)
    assert 'data-testid="late-conflict"' in page and cashin.late_reference in page
    listed = other.get("/cashins/?status=needs_checking").get_data(as_text=True)
    assert cashin.merchant_reference in listed and "late-conflict-badge" in listed
    assert "unknown-cashins-banner" in listed
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == cashin.merchant_reference)
        ).all()
    assert "cashin.late_reply" in actions

    # A person settles it: iHela confirms the money left, so the refund counts again (once).
    bad = other.post(url + "/settle", {"decision": "adopt", "late_note": ""})
    assert bad.status_code == 422 and "Write what iHela told you" in bad.get_data(as_text=True)
    other.post(url + "/settle", {"decision": "adopt", "late_note": "iHela: paid at 10:02"})
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and cashin.gateway_reference == cashin.late_reference
    assert _reserved(app, bill_id) == 20000
    assert "unknown-cashins-banner" not in other.get("/cashins/").get_data(as_text=True)
    again = other.post(url + "/settle", {"decision": "adopt", "late_note": "once more, please"})
    assert "already settled" in other.get(again.headers["Location"]).get_data(as_text=True)
    assert _reserved(app, bill_id) == 20000


def test_a_late_refusal_after_a_success_resolution_does_not_free_the_refund(
    long_timeouts: Flask, sandbox: Any
) -> None:
    app = long_timeouts
    web, other = _login(app, "accountant@example.com"), _login(app, "accountant2@example.com")
    with refund_in_flight(
        app, sandbox, web, started_ago=timedelta(hours=1), answer={"status": 400}
    ) as (url, bill_id):
        other.post(url + "/resolve", {"outcome": "succeeded", "note": "iHela: arrived, CPT-7"})
        assert _reserved(app, bill_id) == 20000
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and cashin.late_outcome == "failed"
    assert _reserved(app, bill_id) == 20000  # not freed: a second refund cannot slip through
    assert "20000" not in web.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    # Keeping the resolution closes the conflict and changes nothing else.
    other.post(url + "/settle", {"decision": "keep", "late_note": "iHela: it did arrive"})
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and not cashin.has_open_conflict
    assert _reserved(app, bill_id) == 20000


def test_a_late_success_agreeing_with_the_resolution_is_no_conflict(
    long_timeouts: Flask, sandbox: Any
) -> None:
    app = long_timeouts
    web, other = _login(app, "accountant@example.com"), _login(app, "accountant2@example.com")
    with refund_in_flight(app, sandbox, web, started_ago=timedelta(hours=1), answer={}) as (
        url,
        bill_id,
    ):
        other.post(url + "/resolve", {"outcome": "succeeded", "note": "iHela: arrived"})
    [cashin] = cashins(app)
    assert cashin.status == "succeeded" and cashin.late_outcome is None
    assert _reserved(app, bill_id) == 20000  # counted once


def test_the_stuck_threshold_follows_the_configured_timeouts(
    make_app: Callable[..., Flask],
) -> None:
    from dashboard.cashins.services import longest_send

    with make_app(IHELA_READ_TIMEOUT=150.0, IHELA_CONNECT_TIMEOUT=5.0).app_context():
        long = longest_send()
    with make_app(IHELA_READ_TIMEOUT=20.0, IHELA_CONNECT_TIMEOUT=5.0).app_context():
        short = longest_send()
    # Token fetch + cash-in + the 401 renewal and re-send, each connect + read, at the least.
    assert long >= timedelta(seconds=4 * 155) and short >= timedelta(seconds=4 * 25)
    assert long > short


def test_rows_left_submitting_by_a_crash_are_listed_under_needs_checking(
    app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web = _login(app, "accountant@example.com")
    urls = [prepare(web).headers["Location"] for _ in range(7)]
    done = prepare(web, amount="1000").headers["Location"]
    web.post(done + "/confirm", {"send_token": token_on(web, done, "send_token")})
    with app.app_context():  # as if the process died during seven sends, an hour ago
        db.session.execute(
            update(Cashin)
            .where(Cashin.status == "draft")
            .values(status="submitting", submitted_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    page = web.get("/bills/").get_data(as_text=True)
    assert "7 cash-ins need checking." in page
    # The banner links to the whole filtered list, not to the five oldest rows.
    assert 'href="/cashins/?status=needs_checking"' in page
    listed = web.get("/cashins/?status=needs_checking").get_data(as_text=True)
    references = {c.id: c.merchant_reference for c in cashins(app)}
    for url in urls:
        assert references[int(url.rsplit("/", 1)[1])] in listed
    assert references[int(done.rsplit("/", 1)[1])] not in listed  # succeeded: nothing to check
    assert 'value="needs_checking" selected' in listed


def test_a_refund_draft_left_after_a_full_refund_says_so_and_can_be_discarded(
    app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web = _login(app, "accountant@example.com")
    bill_id = _paid_bill(app, sandbox, 20000)
    first, leftover = (
        prepare(web, f"/cashins/new?bill={bill_id}", amount="20000").headers["Location"]
        for _ in range(2)
    )
    web.post(first + "/confirm", {"send_token": token_on(web, first, "send_token")})
    page = web.get(leftover).get_data(as_text=True)
    assert 'data-testid="draft-blockers"' in page and "fully refunded" in page
    assert 'name="send_token"' not in page
    other = _login(app, "accountant2@example.com")  # anyone may tidy up a draft: it sends nothing
    response = other.post(leftover + "/discard", follow_redirects=True)
    assert "Draft discarded" in response.get_data(as_text=True)
    assert [c.status for c in cashins(app)] == ["succeeded", "discarded"]
    assert _reserved(app, bill_id) == 20000
    again = other.post(leftover + "/discard", follow_redirects=True).get_data(as_text=True)
    assert "no longer a draft" in again


def test_a_draft_over_a_lowered_limit_says_so_instead_of_offering_send(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    web = _login(make_app(), "accountant@example.com")
    url = prepare(web).headers["Location"]  # 20 000
    lowered = make_app(CASHIN_MAX_AMOUNT=10000)
    web = _login(lowered, "accountant@example.com")
    page = web.get(url).get_data(as_text=True)
    assert 'data-testid="draft-blockers"' in page
    assert "The largest amount for one cash-in is BIF 10,000." in page
    assert 'name="send_token"' not in page
    assert "Discard this draft" in page


def test_the_bill_shows_a_leftover_refund_draft_as_not_sendable(
    app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    """Issue 15, row 21: after a full refund, a draft left over looks sendable on the bill."""
    web = _login(app, "accountant@example.com")
    bill_id = _paid_bill(app, sandbox, 20000)
    first, leftover = (
        prepare(web, f"/cashins/new?bill={bill_id}", amount=amount).headers["Location"]
        for amount in ("20000", "5000")
    )
    page = web.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert 'data-testid="refund-draft-blocked"' not in page  # both could still be sent
    web.post(first + "/confirm", {"send_token": token_on(web, first, "send_token")})
    page = web.get(f"/bills/{bill_id}").get_data(as_text=True)
    reference = cashins(app)[1].merchant_reference
    line = re.search(rf"<li>[^\n]*{reference}[^\n]*</li>", page)
    assert line, page[-3000:]
    assert 'data-testid="refund-draft-blocked"' in line.group(0)
    assert "cannot be sent: the bill is fully refunded" in line.group(0)
    web.post("/lang", {"lang": "fr"})
    page = web.get(f"/bills/{bill_id}").get_data(as_text=True).replace("&#39;", "'")
    assert "ne peut pas être envoyé : la facture est entièrement remboursée" in page.replace(
        "\u00a0", " "
    )
    assert leftover
