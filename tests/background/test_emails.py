"""E-mail notifications through a real SMTP server on loopback (aiosmtpd): who is told, once,
in their language; digests; payers' receipts only when turned on; the morning summary."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard.auth import services as accounts
from dashboard.background import periodic
from dashboard.db import db, utcnow
from dashboard.models import Bill, Job, Role, User
from dashboard.settings import save_settings
from tests.background.conftest import Inbox
from tests.conftest import WebClient, run_jobs
from tests.http.test_bills import issue
from tests.http.test_cashins import confirm, prepare


@pytest.fixture()
def mailing(make_app: Callable[..., Flask], inbox: tuple[Inbox, str]) -> Callable[..., Flask]:
    def factory(**overrides: Any) -> Flask:
        return make_app(SMTP_URL=inbox[1], MAIL_FROM="dashboard@shop.bi", **overrides)

    return factory


def chose_language(app: Flask, email: str, lang: str) -> None:
    """The person switches language in the header (remembered for their e-mails)."""
    web = WebClient(app.test_client())
    web.login(email)
    assert web.post("/lang", {"lang": lang, "next": "/"}).status_code == 303


def submit_for_approval(web: WebClient, amount: str = "150 000") -> int:
    url = prepare(web, amount=amount).headers["Location"]
    assert "another accountant must approve it" in confirm(web, url).get_data(as_text=True)
    return int(url.rstrip("/").split("/")[-1])


def body(message: Any, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def test_an_approval_request_reaches_exactly_who_may_approve_once_in_their_language(
    mailing: Callable[..., Flask],
    inbox: tuple[Inbox, str],
    staff: dict[str, User],
    make_user: Callable[..., User],
    sandbox: Any,
) -> None:
    app = mailing()
    server, _url = inbox
    gone = make_user(Role.ACCOUNTANT, "gone@example.com", "Left Last Year")
    with app.app_context():
        accounts.set_active(db.session.get(User, gone.id), False, by_label="test")
    chose_language(app, "accountant2@example.com", "fr")
    chose_language(app, "admin@example.com", "en")
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    cashin_id = submit_for_approval(web)
    run_jobs(app)
    run_jobs(app)  # a second pass (a job handed over twice) sends nothing more
    recipients = sorted(address for rcpts, _m in server.messages for address in rcpts)
    assert recipients == ["accountant2@example.com", "admin@example.com"]
    [french] = server.to("accountant2@example.com")
    [english] = server.to("admin@example.com")
    assert french["Subject"].startswith("Versement à approuver")
    assert english["Subject"] == "Cash-in to approve: BIF\xa0150,000 to Niyonzima Aline"
    link = f"http://dashboard.test/cashins/{cashin_id}"
    for message in (french, english):
        text, html = body(message, "plain"), body(message, "html")
        assert link in text and f'href="{link}"' in html
        assert "Test Accountant" in text  # who prepared it
        assert "<img" not in html and "http" not in html.replace(link, "").replace(
            "http://dashboard.test/account/emails", ""
        )
        assert len(message.as_bytes()) < 8000
    assert "Approuver ou refuser" in body(french, "plain")


def test_more_requests_within_ten_minutes_wait_in_one_digest(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing(APPROVAL_MAIL_EVERY_MINUTES=0.03)  # 1.8 s here, 10 minutes by default
    server, _url = inbox
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    submit_for_approval(web, "150 000")
    run_jobs(app)
    assert len(server.to("admin@example.com")) == 1
    submit_for_approval(web, "160 000")
    submit_for_approval(web, "170 000")
    run_jobs(app)
    assert len(server.to("admin@example.com")) == 1  # not yet: the digest waits its turn
    time.sleep(2.0)
    run_jobs(app)
    for address in ("admin@example.com", "accountant2@example.com"):
        _first, digest = server.to(address)
        assert digest["Subject"] == "2 more cash-ins to approve"
        text = body(digest, "plain")
        assert (
            "BIF\xa0160,000" in text and "BIF\xa0170,000" in text and "BIF\xa0150,000" not in text
        )
    assert server.to("accountant@example.com") == []


def _paid_bill(app: Flask, web: WebClient, sandbox: Any) -> Bill:
    assert issue(web).status_code == 303
    with app.app_context():
        bill = db.session.scalars(select(Bill).order_by(Bill.id.desc())).first()
        assert bill is not None
        code = bill.code
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    with app.app_context():
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        periodic.run_now("refresh_bills")
        bill = db.session.get(Bill, bill.id)
        assert bill is not None and bill.status == "paid"
        db.session.expunge(bill)
    run_jobs(app)
    return bill


def test_the_payer_gets_a_receipt_only_when_the_merchant_turned_receipts_on(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing()
    server, _url = inbox
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    _paid_bill(app, web, sandbox)
    assert server.messages == []  # receipts are off by default; the cashier did not ask
    with app.app_context():
        save_settings({"PAYER_RECEIPTS": True}, by=db.session.get(User, staff["admin"].id))
    bill = _paid_bill(app, web, sandbox)
    [receipt] = server.to("clientmail@gmail.com")
    assert receipt["Subject"] == "Receipt from Global Test Merchant: BIF\xa020,000"
    text = body(receipt, "plain")
    assert bill.merchant_reference in text and bill.public_token not in text
    assert "http" not in text  # no staff link, no token
    assert server.to("cashier@example.com") == []


def test_a_cashier_who_asked_is_told_when_their_bill_is_paid(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing()
    server, _url = inbox
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    page = web.get("/account/emails").get_data(as_text=True)
    assert 'name="bill_paid"' in page and 'name="approval"' not in page
    assert web.post("/account/emails", {"bill_paid": "on"}).status_code == 303
    bill = _paid_bill(app, web, sandbox)
    [told] = server.to("cashier@example.com")
    assert told["Subject"] == "Bill paid: BIF\xa020,000 by clientmail@gmail.com"
    assert f"http://dashboard.test/bills/{bill.id}" in body(told, "plain")


def test_every_morning_admins_get_yesterdays_figures_with_open_problems(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing(DAILY_SUMMARY_AT="00:00")
    server, _url = inbox
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    _paid_bill(app, web, sandbox)
    with app.app_context():
        db.session.execute(update(Bill).values(created_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        claimed = [c for c in periodic.claim_due() if c[0] == "daily_summary"]
        assert len(claimed) == 1
        periodic.run(*claimed[0])
        assert [c for c in periodic.claim_due() if c[0] == "daily_summary"] == []  # once a day
    run_jobs(app)
    [summary] = server.to("admin@example.com")
    assert re.match(r"Global Test Merchant, .*: BIF\xa020,000 collected", summary["Subject"])
    text = body(summary, "plain")
    assert "Paid: 1 · BIF\xa020,000" in text and "Nothing is waiting to be checked." in text
    assert [m for rcpts, m in server.messages if "admin@example.com" not in rcpts] == []


def test_noticing_an_event_again_makes_no_second_e_mail(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing()
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    cashin_id = submit_for_approval(web)
    run_jobs(app)
    with app.app_context():
        from dashboard.notifications.services import cashin_awaiting

        cashin_awaiting(cashin_id)  # the fan-out run again (its worker died before "done")
        keys = db.session.scalars(select(Job.key).where(Job.kind == "email")).all()
    run_jobs(app)
    assert len(keys) == 2
    assert len(inbox[0].messages) == 2


def test_a_refused_delivery_is_retried_then_shown_failed_on_the_system_page(
    mailing: Callable[..., Flask], inbox: tuple[Inbox, str], staff: dict[str, User], sandbox: Any
) -> None:
    app = mailing(JOB_MAX_ATTEMPTS=3, JOB_RETRY_SECONDS=0.1)
    server, _url = inbox
    server.refuse.add("admin@example.com")
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    submit_for_approval(web)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_jobs(app)
        with app.app_context():
            job = db.session.scalars(
                select(Job).where(Job.kind == "email", Job.recipient_id == staff["admin"].id)
            ).one()
            if job.state == "failed":
                break
        time.sleep(0.1)
    assert (job.state, job.attempts) == ("failed", 3)
    assert "451" in (job.last_error or "")
    assert len(server.to("accountant2@example.com")) == 1  # the others were not held up
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    page = admin.get("/admin/system").get_data(as_text=True)
    failed = page[page.index('data-testid="failed-jobs"') :]
    assert "E-mail: cash-in to approve" in failed and "admin@example.com" in failed
    assert "451" in failed and ">3<" in failed
    assert 'data-task="refresh_bills"' in page and 'data-task="daily_summary"' in page
    assert "Jobs waiting or running: 0." in page
    assert web.get("/admin/system").status_code == 403  # accountants do not see it
