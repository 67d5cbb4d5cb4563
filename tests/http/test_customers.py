"""Customers: a directory built by itself from the payers of bills, found while typing."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select, update

from dashboard.customers import queries, services
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, Customer, CustomerIdentifier, User
from tests.conftest import WebClient
from tests.http.test_bills import issue

pytestmark = pytest.mark.both_dialects


def customers(app: Flask) -> list[tuple[str | None, list[tuple[str, str]], int, int]]:
    with app.app_context():
        found = []
        for c in db.session.scalars(select(Customer).order_by(Customer.id)):
            ids = sorted((i.kind, i.value) for i in c.identifiers)
            found.append((c.name, ids, c.bills_count, c.paid_amount))
        return found


def pay_and_check(web: WebClient, app: Flask, sandbox: Any, index: int, *, pay: bool) -> Bill:
    with app.app_context():
        bill = db.session.scalars(select(Bill).order_by(Bill.id)).all()[index]
        db.session.expunge(bill)
    if pay:
        requests.post(f"{sandbox.url}_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    with app.app_context():  # past the coalescing window: the button asks iHela again
        db.session.execute(update(Bill).where(Bill.id == bill.id).values(last_checked_at=None))
        db.session.commit()
    web.post(f"/bills/{bill.id}/refresh")
    return bill


@pytest.fixture()
def cashier(web: WebClient, staff: dict[str, User], sandbox: Any) -> WebClient:
    web.login("cashier@example.com")
    return web


def test_bills_make_customers_one_per_person_however_they_were_billed(
    cashier: WebClient, app: Flask, sandbox: Any, dialect: str
) -> None:
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="5 000")
    issue(cashier, payer_kind="email", payer="aline.niyonzima@example.com", amount="7 000")
    found = customers(app)
    assert len(found) == 2
    claude, aline = found
    assert ("email", "clientmail@gmail.com") in claude[1] and claude[2] == 2
    assert ("email", "aline.niyonzima@example.com") in aline[1] and aline[2] == 1
    if dialect == "v1":
        # iHela's reply names the payer's user: their username and client code are theirs too,
        # so a bill by client code later is the same customer, not a new one.
        assert ("username", "client-username") in claude[1] and ("code", "2") in claude[1]
        issue(cashier, payer_kind="code", payer="2", amount="1 000")
        assert len(customers(app)) == 2
        assert customers(app)[0][2] == 3


def _earlier_paid_bill_by_phone(app: Flask) -> None:
    """A paid bill of 3 000 to phone 79123456 from before iHela named its payers, counted for
    its customer (known by that number alone)."""
    with app.app_context():
        bill = Bill(
            merchant_reference="OLD-1",
            public_token="t-old-1",
            amount=3000,
            payer="79123456",
            payer_kind="phone",
            description="earlier",
            status="paid",
            issued_by_id=db.session.scalar(select(User.id).where(User.role == "cashier")),
        )
        db.session.add(bill)
        db.session.flush()
        services.record_bill(bill)
        services.record_paid(bill)
        db.session.commit()


def test_a_second_identifier_of_one_ihela_account_merges_two_customers(
    cashier: WebClient, app: Flask, sandbox: Any, dialect: str
) -> None:
    if dialect != "v1":
        pytest.skip("only v1 bill replies name the payer's iHela user")
    # Billed by phone first: nothing says yet who that is beyond the number itself...
    _earlier_paid_bill_by_phone(app)
    assert len(customers(app)) == 1
    # ...then by e-mail: iHela's reply gives the same person's username and code, and the phone
    # customer is not one of those; the e-mail bill's customer is new. Then a bill by phone's
    # reply (v1 names the user) ties the phone to the same account: one customer left.
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    assert len(customers(app)) == 2
    issue(cashier, payer_kind="phone", payer="79 12 34 56", amount="4 000")
    found = customers(app)
    assert len(found) == 1
    _, ids, bills, paid = found[0]
    assert {("phone", "79123456"), ("email", "clientmail@gmail.com"), ("code", "2")} <= set(ids)
    assert bills == 3 and paid == 3000
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Bill).where(Bill.customer_id.is_(None))
            )
            == 0
        )
        merged = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.merged")
        ).all()
        assert len(merged) == 1


def test_a_payer_billed_before_learns_the_identifiers_ihela_names_for_the_first_time(
    cashier: WebClient, app: Flask, sandbox: Any, dialect: str
) -> None:
    if dialect != "v1":
        pytest.skip("only v1 bill replies name the payer's iHela user")
    # Known by phone alone (a bill from before iHela named anyone)...
    _earlier_paid_bill_by_phone(app)
    # ...billed by phone again: the issue reads the customer's identifiers with the form token,
    # and iHela's reply names ones it lacks (nobody's yet): they become this customer's.
    issue(cashier, payer_kind="phone", payer="79 12 34 56", amount="4 000")
    found = customers(app)
    assert len(found) == 1
    _, ids, bills, _ = found[0]
    assert {("phone", "79123456"), ("email", "clientmail@gmail.com"), ("code", "2")} <= set(ids)
    assert bills == 2
    # Billed by one of those now: the same customer, and nothing new to learn.
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="1 000")
    assert [(len(c[1]), c[2]) for c in customers(app)] == [(len(ids), 3)]


def test_paid_bills_count_in_the_customers_figures(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="5 000")
    pay_and_check(cashier, app, sandbox, 0, pay=True)
    pay_and_check(cashier, app, sandbox, 0, pay=False)  # checked again: counted once
    assert customers(app)[0][3] == 20_000


def test_suggestions_after_two_characters_by_name_email_or_phone(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    issue(cashier, payer_kind="email", payer="aline.niyonzima@example.com", amount="7 000")
    issue(cashier, payer_kind="phone", payer="68123456", amount="7 000")
    issue(cashier, payer_kind="email", payer="clientmail@gmail.com", amount="7 000")
    assert cashier.get("/customers/suggest?q=a").get_json() == []
    found = cashier.get("/customers/suggest?q=ali").get_json()
    assert [s["value"] for s in found][:1] == ["aline.niyonzima@example.com"]
    assert found[0]["kind"] == "email"
    by_phone = cashier.get("/customers/suggest?q=6812").get_json()
    assert [s["value"] for s in by_phone] == ["68123456"]
    assert by_phone[0]["kind"] == "phone"
    assert cashier.get("/customers/suggest?q=zz").get_json() == []
    # The name iHela confirmed is searched too; several words narrow it, each starting a word.
    with app.app_context():
        bill = db.session.scalars(
            select(Bill).where(Bill.payer == "aline.niyonzima@example.com")
        ).first()
        assert bill is not None
        services.learn_identity(bill, name="Niyonzima Aline")
        db.session.commit()
    named = cashier.get("/customers/suggest?q=niyonzima%20al").get_json()
    assert [(s["name"], s["value"]) for s in named] == [
        ("Niyonzima Aline", "aline.niyonzima@example.com")
    ]
    assert cashier.get("/customers/suggest?q=niyonzima%20cl").get_json() == []


def test_at_most_eight_suggestions(app: Flask, staff: dict[str, User]) -> None:
    with app.app_context():
        for n in range(12):
            bill = Bill(
                merchant_reference=f"R-{n}",
                public_token=f"t-{n}",
                amount=1000,
                payer=f"alice{n:02d}@example.com",
                payer_kind="email",
                description="x",
                issued_by_id=staff["cashier"].id,
            )
            db.session.add(bill)
            db.session.flush()
            services.record_bill(bill)
        db.session.commit()
        found = queries.suggest("alice")
        assert len(found) == 8
        assert [s.value for s in found] == [f"alice{n:02d}@example.com" for n in range(8)]


def test_cashiers_see_names_and_identifiers_the_office_sees_figures_and_notes(
    web: WebClient, app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    with app.app_context():
        customer_id = db.session.scalar(select(Customer.id))
    listing = web.get("/customers/").get_data(as_text=True)
    assert "clientmail@gmail.com" in listing and "Refunded" not in listing
    page = web.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "clientmail@gmail.com" in page and 'data-testid="customer-paid"' not in page
    assert 'data-testid="note-form"' not in page
    assert web.post(f"/customers/{customer_id}", {"note": "mine"}).status_code == 403
    assert web.get("/reports/customers.csv").status_code == 403
    web.logout()

    web.login("accountant@example.com")
    page = web.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert 'data-testid="customer-paid"' in page and 'data-testid="note-form"' in page
    saved = web.post(f"/customers/{customer_id}", {"note": "Pays on Fridays"})
    assert saved.status_code == 303
    assert "Pays on Fridays" in web.get(f"/customers/{customer_id}").get_data(as_text=True)
    too_long = web.post(f"/customers/{customer_id}", {"note": "x" * 1001})
    assert too_long.status_code == 422
    assert "under 1000 characters" in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer_id).note == "Pays on Fridays"
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "customer.note_changed")
            )
            == 1
        )


def test_new_bill_for_this_customer_opens_the_form_with_their_payer(
    cashier: WebClient, app: Flask, sandbox: Any
) -> None:
    issue(cashier, payer_kind="email", payer="aline.niyonzima@example.com", amount="7 000")
    with app.app_context():
        customer_id = db.session.scalar(select(Customer.id))
    page = cashier.get(f"/customers/{customer_id}").get_data(as_text=True)
    link = page.split('data-testid="new-bill-for-customer"')[0].rsplit('href="', 1)[1]
    link = link.split('"', 1)[0].replace("&amp;", "&")
    form = cashier.get(link).get_data(as_text=True)
    assert 'value="aline.niyonzima@example.com"' in form


def test_the_directory_exports_as_csv_for_accountants(
    web: WebClient, app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    issue(web, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    web.logout()
    web.login("accountant@example.com")
    response = web.get("/reports/customers.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["customer", "name", "identifiers"]
    assert "clientmail@gmail.com" in rows[1][2] and rows[1][5] == "1"


def test_two_first_bills_for_one_new_payer_at_once_make_one_customer(
    app: Flask, staff: dict[str, User], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: the race needs PostgreSQL")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    people = list(staff.values())

    def one(n: int) -> None:
        try:
            with app.app_context():
                bill = Bill(
                    merchant_reference=f"RACE-{n}",
                    public_token=f"race-{n}",
                    amount=1000,
                    payer="newcomer@example.com",
                    payer_kind="email",
                    description="x",
                    # One issuer each: bills of one issuer and day share a totals row,
                    # whose lock would line the four up before the race.
                    issued_by_id=people[n].id,
                )
                db.session.add(bill)
                db.session.flush()
                barrier.wait(timeout=10)
                services.record_bill(bill)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        assert db.session.scalar(select(func.count()).select_from(CustomerIdentifier)) == 1
        assert db.session.scalar(select(Customer.bills_count)) == 4


def test_bills_from_before_the_directory_are_linked_by_the_command(
    app: Flask, staff: dict[str, User]
) -> None:
    with app.app_context():
        for n, status in enumerate(["paid", "pending", "paid"]):
            db.session.add(
                Bill(
                    merchant_reference=f"OLD-{n}",
                    public_token=f"old-{n}",
                    amount=1000 * (n + 1),
                    payer="79000001",
                    payer_kind="phone",
                    description="x",
                    status=status,
                    issued_by_id=staff["cashier"].id,
                )
            )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["customers", "link-bills"])
    assert "Linked 3 bill(s)" in result.output
    assert customers(app) == [(None, [("phone", "79000001")], 3, 4000)]
    again = app.test_cli_runner().invoke(args=["customers", "link-bills"])
    assert "Linked 0 bill(s)" in again.output


def test_the_name_ihela_gives_for_the_payers_account_names_the_customer(
    web: WebClient, app: Flask, staff: dict[str, User], sandbox: Any, dialect: str
) -> None:
    web.login("cashier@example.com")
    issue(web, payer_kind="email", payer="clientmail@gmail.com", amount="20 000")
    assert customers(app)[0][0] is None  # no name in a bill's reply
    pay_and_check(web, app, sandbox, 0, pay=True)
    web.logout()
    web.login("accountant@example.com")
    with app.app_context():
        bill_id = db.session.scalars(select(Bill.id)).one()
    refund = web.get(f"/cashins/new?bill={bill_id}").get_data(as_text=True)
    assert "000002-01" in refund  # iHela named the payer's account (the refund's prefill)
    assert customers(app)[0][0] == "Ndayishimiye Claude"
    names = web.get("/customers/suggest?q=ndayi").get_json()
    assert [n["name"] for n in names] == ["Ndayishimiye Claude"]
