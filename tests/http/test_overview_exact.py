"""The overview's one statement (dashboard/reports/figures.py) gives what a recount of the rows
gives: this month, today, the per-person tables and the chart's days, everyone's and one
person's, for shops east and west of UTC, with summer time, and twelve hours or more from UTC;
on SQLite and PostgreSQL. And it is one statement."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select

from dashboard.db import db
from dashboard.models import Bill, BillState, Cashin, CashinState, User
from dashboard.reports import figures, services
from tests.http.test_summaries_exact import BASE, Shop, _staff_ids
from tests.unit.test_overview_figures import add_bill, add_cashin

CHART_DAYS = 30
ZONES = [
    "Africa/Bujumbura",  # UTC+2: local midnight 22:00 UTC the day before
    "America/Lima",  # UTC-5
    "Europe/Paris",  # summer time ends on 25 October 2026, inside the chart
    "Pacific/Chatham",  # UTC+13:45 in the southern summer: the nearest UTC midnight flips
    "Pacific/Kiritimati",  # UTC+14
    "UTC",  # local midnights are UTC midnights: no slices
]
# Around the end of October (where the random rows are): a month of 31 days (32 midnights in
# the span), the month's first day, and a day in November whose chart reaches into October.
TODAYS = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 3), date(2026, 10, 24)]


def _recount(
    bills: list[Any],
    cashins: list[Any],
    names: dict[int, str],
    today: date,
    zone: str,
    person: int | None,
) -> dict[str, Any]:
    """Every figure of the overview from the rows themselves, in Python."""
    everyone = person is None

    def bill_figures(rows: list[Any]) -> services.BillFigures:
        found = services.BillFigures()
        for status, _, amount, _ in rows:
            found.add(status, 1, amount)
        return found

    def section(period: services.Period) -> tuple[Any, Any, Any]:
        inside = [
            b for b in bills if period.start <= b[3] < period.end and (everyone or b[1] == person)
        ]
        people = []
        if everyone:
            for uid in {b[1] for b in inside}:
                mine = bill_figures([b for b in inside if b[1] == uid])
                people.append(services.PersonFigures(uid, names[uid], mine))
            people.sort(key=lambda p: (-p.bills.collected, p.name.lower(), p.user_id))
        cashin_figures = None
        if everyone:
            counted: dict[Any, tuple[int, int]] = {}
            for status, reason, _, amount, at in cashins:
                if period.start <= at < period.end:
                    before = counted.get((status, reason), (0, 0))
                    counted[(status, reason)] = (before[0] + 1, before[1] + amount)
            cashin_figures = services.cashin_figures_of(counted)
        return bill_figures(inside), people, cashin_figures

    flows = []
    for n in range(CHART_DAYS):
        day = today - timedelta(days=CHART_DAYS - 1 - n)
        period = services.days_period(day, day, zone)
        flow = services.DayFlow(day)
        flow.collected = sum(
            amount
            for status, by, amount, at in bills
            if status == BillState.PAID
            and (everyone or by == person)
            and period.start <= at < period.end
        )
        flow.paid_out = sum(
            amount
            for status, _, by, amount, at in cashins
            if status == CashinState.SUCCEEDED
            and (everyone or by == person)
            and period.start <= at < period.end
        )
        flows.append(flow)
    return {
        "today": section(services.days_period(today, today, zone)),
        "month": section(services.month_to_date(today, zone)),
        "flows": flows,
    }


def _edges(zone: str, staff: list[int]) -> None:
    """Bills and cash-ins on each local and UTC midnight of October and early November, and
    one microsecond before each: the rows the slices at the edges must count once."""
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(staff)))}
    day = date(2026, 9, 20)
    n = 0
    while day <= date(2026, 11, 6):
        local = datetime.combine(day, time.min, ZoneInfo(zone))
        for moment in (local, datetime.combine(day, time.min, UTC)):
            for at in (moment, moment - timedelta(microseconds=1)):
                n += 1
                who = people[staff[n % len(staff)]]
                status = ("paid", "pending", "expired")[n % 3]
                add_bill(who, 1000 + n, status, at)
                if n % 2:
                    state = ("succeeded", "awaiting_approval", "unknown")[n % 3]
                    reason = "refund" if n % 4 == 1 else "payout"
                    add_cashin(who, 500 + n, state, at, reason=reason)
        day += timedelta(days=1)
    db.session.commit()


@pytest.mark.parametrize("zone", ZONES)
def test_overview_equals_a_recount_of_the_rows(
    app: Flask, staff: dict[str, User], zone: str
) -> None:
    people = _staff_ids(staff)
    with app.app_context():
        shop = Shop(random.Random(17), people, "o-")
        for _ in range(250):
            shop.step()
        _edges(zone, people)
        bills = db.session.execute(
            select(Bill.status, Bill.issued_by_id, Bill.amount, Bill.created_at)
        ).all()
        cashins = db.session.execute(
            select(
                Cashin.status, Cashin.reason, Cashin.created_by_id, Cashin.amount, Cashin.created_at
            )
        ).all()
        names = {u.id: u.name for u in db.session.scalars(select(User))}
        assert min(b[3] for b in bills) < BASE - timedelta(days=40)  # history before the chart
        for today in TODAYS:
            for person in (None, people[0], people[2]):
                found = figures.overview(today, zone, person, CHART_DAYS)
                expected = _recount(bills, cashins, names, today, zone, person)
                for name, section in (("today", found.today), ("month", found.month)):
                    wanted = expected[name]
                    where = (zone, today, person, name)
                    assert section.bills == wanted[0], where
                    assert [(p.user_id, p.name, p.bills) for p in section.people] == [
                        (p.user_id, p.name, p.bills) for p in wanted[1]
                    ], where
                    assert section.cashins == wanted[2], where
                assert found.flows == expected["flows"], (zone, today, person)
                assert found.chart == services.last_days(today, CHART_DAYS, zone)
                assert found.month.period == services.month_to_date(today, zone)


def test_overview_is_one_statement(app: Flask, staff: dict[str, User]) -> None:
    """Every figure and the people's names come from one statement, whatever the day."""
    with app.app_context():
        add_bill(staff["cashier"], 1000, "paid", datetime(2026, 11, 30, 10, tzinfo=UTC))
        db.session.commit()
        statements: list[str] = []

        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            if not statement.startswith("SET LOCAL"):  # PostgreSQL: JIT off, see figures.py
                statements.append(statement.lower())

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            for today in (date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 1)):
                statements.clear()
                found = figures.overview(today, "Africa/Bujumbura", None, CHART_DAYS)
                assert len(statements) == 1, statements
                for table in ("bill_day_totals", "cashin_day_totals", "bills", "cashins", "users"):
                    assert f"from {table}" in statements[0] or f"join {table}" in statements[0]
                if today == date(2026, 11, 30):
                    assert [p.name for p in found.today.people] == ["Test Cashier"]
                statements.clear()
                figures.overview(today, "Africa/Bujumbura", staff["cashier"].id, CHART_DAYS)
                assert len(statements) == 1 and "from users" not in statements[0], statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        # The same statement text whatever the day: compiled once.
        assert figures._statement.cache_info().currsize <= 4
