"""The overview's figures: SQL aggregates over local days, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from dashboard.db import db
from dashboard.models import Bill, Cashin, HolderCheck, User
from dashboard.reports import services

ZONE = "Africa/Bujumbura"  # UTC+2, no summer time
TODAY = date(2026, 11, 30)


def add_bill(user: User, amount: int, status: str, at: datetime) -> None:
    db.session.add(
        Bill(
            merchant_reference="B-" + secrets.token_hex(6),
            public_token=secrets.token_hex(10),
            amount=amount,
            payer="payer@example.com",
            payer_kind="email",
            description="test",
            status=status,
            issued_by_id=user.id,
            created_at=at,
        )
    )


def add_cashin(user: User, amount: int, status: str, at: datetime, reason: str = "payout") -> None:
    db.session.add(
        Cashin(
            merchant_reference="C-" + secrets.token_hex(6),
            bank_slug="MF1-0001",
            bank_name="Bank",
            account="000016-01",
            holder_name="Holder",
            holder_check=HolderCheck.CONFIRMED,
            amount=amount,
            description="test",
            reason=reason,
            status=status,
            created_by_id=user.id,
            created_at=at,
        )
    )


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture()
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "ana": make_user("cashier", "ana@example.com", "Ana"),
        "ben": make_user("cashier", "ben@example.com", "Ben"),
        "acc": make_user("accountant", "acc@example.com", "Acc"),
    }


def test_day_boundaries_are_the_merchants_midnight(app: Flask, people: dict[str, User]) -> None:
    ana = people["ana"]
    yesterday = TODAY - timedelta(days=1)
    with app.app_context():
        # 21:59 UTC on the 29th is 23:59 in Bujumbura: yesterday. 22:00 UTC is today's 00:00.
        add_bill(ana, 1000, "paid", utc(yesterday, 21, 59))
        add_bill(ana, 2000, "paid", utc(yesterday, 22, 0))
        add_bill(ana, 4000, "paid", utc(TODAY, 21, 59))
        add_bill(ana, 8000, "paid", utc(TODAY, 22, 0))  # tomorrow, local
        db.session.commit()
        today = services.bill_figures(services.days_period(TODAY, TODAY, ZONE))
        assert (today.paid.count, today.collected) == (2, 6000)
        flows = services.daily_flows(services.last_days(TODAY, 3, ZONE), ZONE)
        assert [(f.day, f.collected) for f in flows] == [
            (TODAY - timedelta(days=2), 0),
            (yesterday, 1000),
            (TODAY, 6000),
        ]


def test_bill_figures_per_status_and_per_person(app: Flask, people: dict[str, User]) -> None:
    ana, ben = people["ana"], people["ben"]
    noon = utc(TODAY, 10)
    with app.app_context():
        add_bill(ana, 10_000, "paid", noon)
        add_bill(ana, 2_500, "paid", noon)
        add_bill(ana, 3_000, "pending", noon)
        add_bill(ana, 700, "expired", noon)
        add_bill(ben, 50_000, "paid", noon)
        add_bill(ben, 1_000, "rejected", noon)
        add_bill(ben, 99_000, "paid", utc(TODAY.replace(day=1), 21))  # 1 Nov 23:00 local
        add_bill(ben, 77_000, "paid", utc(date(2026, 10, 31), 21, 59))  # 31 Oct 23:59 local
        db.session.commit()
        period = services.days_period(TODAY, TODAY, ZONE)
        everyone = services.bill_figures(period)
        assert (everyone.issued.count, everyone.issued.amount) == (6, 67_200)
        assert (everyone.paid.count, everyone.paid.amount) == (3, 62_500)
        assert (everyone.waiting.count, everyone.waiting.amount) == (1, 3_000)
        assert (everyone.expired.count, everyone.expired.amount) == (1, 700)
        mine = services.bill_figures(period, issued_by=ana.id)
        assert (mine.issued.count, mine.collected) == (4, 12_500)
        month = services.bill_figures(services.month_to_date(TODAY, ZONE))
        assert month.collected == 62_500 + 99_000  # 31 Oct local is last month
        rows = services.bill_figures_by_person(period)
        assert [(p.name, p.bills.issued.count, p.bills.collected) for p in rows] == [
            ("Ben", 2, 50_000),
            ("Ana", 4, 12_500),
        ]


def test_cashin_figures_and_paid_out_per_day(app: Flask, people: dict[str, User]) -> None:
    acc = people["acc"]
    with app.app_context():
        add_cashin(acc, 20_000, "succeeded", utc(TODAY, 8))
        add_cashin(acc, 5_000, "succeeded", utc(TODAY, 9), reason="refund")
        add_cashin(acc, 300_000, "awaiting_approval", utc(TODAY, 9))
        add_cashin(acc, 7_000, "unknown", utc(TODAY, 9))
        add_cashin(acc, 9_000, "failed", utc(TODAY, 9))
        add_cashin(acc, 4_000, "succeeded", utc(TODAY - timedelta(days=1), 12))
        db.session.commit()
        today = services.cashin_figures(services.days_period(TODAY, TODAY, ZONE))
        assert (today.sent.count, today.sent.amount) == (2, 25_000)
        assert (today.refunds.count, today.refunds.amount) == (1, 5_000)
        assert (today.awaiting_approval.count, today.awaiting_approval.amount) == (1, 300_000)
        assert (today.unknown.count, today.unknown.amount) == (1, 7_000)
        flows = services.daily_flows(services.last_days(TODAY, 30, ZONE), ZONE)
        assert len(flows) == 30 and flows[-1].day == TODAY
        assert [f.paid_out for f in flows[-2:]] == [4_000, 25_000]
        assert sum(f.paid_out for f in flows[:-2]) == 0
        mine = services.daily_flows(
            services.last_days(TODAY, 30, ZONE), ZONE, person=people["ana"].id
        )
        assert sum(f.paid_out for f in mine) == 0


def test_figures_never_load_rows_and_stay_in_their_date_range(
    app: Flask, people: dict[str, User]
) -> None:
    """Every statement is an aggregate bounded by created_at (so an index can serve it)."""
    with app.app_context():
        add_bill(people["ana"], 1000, "paid", utc(TODAY, 10))
        db.session.commit()
        statements: list[str] = []

        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement.lower())

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            period = services.month_to_date(TODAY, ZONE)
            services.bill_figures(period)
            services.bill_figures_by_person(period)
            services.cashin_figures(period)
            services.daily_flows(services.last_days(TODAY, 30, ZONE), ZONE)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        figures = [s for s in statements if "from bills" in s or "from cashins" in s]
        assert len(figures) == 5
        for statement in figures:
            assert "created_at >=" in statement and "created_at <" in statement
            assert "group by" in statement
