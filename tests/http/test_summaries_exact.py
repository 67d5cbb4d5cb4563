"""The summaries the database keeps (bill day, month and all-time totals, cash-in day, month
and all-time totals, cash-in banks) stay exact through random sequences of issue / pay /
expire / refund / resolve, and every total the pages show from them equals a recount of the
rows: on SQLite and on PostgreSQL, and on PostgreSQL with several transactions writing at
once."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from dashboard import summaries
from dashboard.bills import queries as bills_queries
from dashboard.bills.queries import BillFilters
from dashboard.cashins import queries as cashins_queries
from dashboard.cashins.queries import CashinFilters
from dashboard.db import db
from dashboard.models import (
    STUCK_AFTER,
    Bill,
    BillAllTimeTotal,
    BillDayTotal,
    BillMonthTotal,
    BillState,
    Cashin,
    CashinAllTimeTotal,
    CashinBank,
    CashinDayTotal,
    CashinMonthTotal,
    CashinState,
    User,
)
from dashboard.reports import services as reports

ZONE = ZoneInfo("Africa/Bujumbura")
# Around a month's end in UTC and in Bujumbura (22:00 UTC), so rows fall on both sides.
BASE = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
BANKS = [("BCB", "Banque de Crédit"), ("BGF", "BGF"), ("MOBILE", "Lumicash")]


def _moment(rng: random.Random) -> datetime:
    # Mostly within five days around the month's end; some weeks and months away.
    spread = rng.choice((5, 5, 5, 40, 120))
    return BASE + timedelta(minutes=rng.randrange(-spread * 24 * 60, spread * 24 * 60))


class Shop:
    """Random actions on bills and cash-ins, each its own transaction."""

    def __init__(self, rng: random.Random, staff: list[int], tag: str) -> None:
        self.rng = rng
        self.staff = staff
        self.tag = tag
        self.count = 0

    def _bill(self, *states: BillState) -> Bill | None:
        ids = db.session.scalars(
            select(Bill.id).where(Bill.status.in_([s.value for s in states]))
        ).all()
        return db.session.get(Bill, self.rng.choice(ids)) if ids else None

    def _cashin(self, *states: CashinState) -> Cashin | None:
        ids = db.session.scalars(
            select(Cashin.id).where(Cashin.status.in_([s.value for s in states]))
        ).all()
        return db.session.get(Cashin, self.rng.choice(ids)) if ids else None

    def issue(self) -> None:
        self.count += 1
        n = f"{self.tag}{self.count:05d}"
        db.session.add(
            Bill(
                merchant_reference=f"B-{n}",
                public_token=f"pt-{n}",
                amount=100 * self.rng.randrange(5, 5000),
                payer="aline@example.com",
                payer_kind="email",
                description="bags of rice",
                status=self.rng.choice((BillState.CREATING, BillState.PENDING)).value,
                issued_by_id=self.rng.choice(self.staff),
                created_at=_moment(self.rng),
            )
        )

    def pay(self) -> None:
        bill = self._bill(BillState.PENDING, BillState.UNKNOWN)
        if bill:
            bill.status = BillState.PAID

    def expire(self) -> None:
        bill = self._bill(BillState.PENDING)
        if bill:
            bill.status = BillState.EXPIRED

    def lose(self) -> None:  # the gateway's reply was lost
        bill = self._bill(BillState.CREATING)
        if bill:
            bill.status = BillState.UNKNOWN

    def refund(self) -> None:
        bill = self._bill(BillState.PAID)
        if bill is None:
            return
        self.count += 1
        slug, name = self.rng.choice(BANKS)
        db.session.add(
            Cashin(
                merchant_reference=f"C-{self.tag}{self.count:05d}",
                bank_slug=slug,
                bank_name=name,
                account=f"{self.rng.randrange(10**6)}",
                holder_name="Aline Kaneza",
                holder_check="confirmed",
                amount=max(bill.amount // 2, 100),
                description="refund",
                reason=self.rng.choice(("refund", "payout")),
                bill_id=bill.id,
                status=self.rng.choice(
                    (CashinState.DRAFT, CashinState.AWAITING_APPROVAL, CashinState.SUBMITTING)
                ).value,
                created_by_id=self.rng.choice(self.staff),
                created_at=_moment(self.rng),
            )
        )

    def resolve(self) -> None:
        cashin = self._cashin(
            CashinState.SUBMITTING, CashinState.UNKNOWN, CashinState.AWAITING_APPROVAL
        )
        if cashin is None:
            return
        cashin.status = self.rng.choice(
            (CashinState.SUCCEEDED, CashinState.FAILED, CashinState.UNKNOWN, CashinState.REJECTED)
        ).value

    def resolve_bill(self) -> None:  # an unknown bill found again, or given up
        bill = self._bill(BillState.UNKNOWN)
        if bill:
            bill.status = self.rng.choice((BillState.PENDING, BillState.FAILED)).value

    def edit(self) -> None:  # a draft's amount or bank changed
        cashin = self._cashin(CashinState.DRAFT)
        if cashin:
            cashin.amount += 100
            cashin.bank_slug, cashin.bank_name = self.rng.choice(BANKS)

    def delete(self) -> None:  # a bill removed by hand (kept exact all the same)
        bill = self._bill(BillState.FAILED, BillState.EXPIRED)
        if bill and not db.session.scalar(select(Cashin.id).where(Cashin.bill_id == bill.id)):
            db.session.delete(bill)

    def step(self) -> None:
        actions: list[tuple[Callable[[], None], int]] = [
            (self.issue, 6),
            (self.pay, 3),
            (self.expire, 2),
            (self.lose, 1),
            (self.refund, 2),
            (self.resolve, 2),
            (self.resolve_bill, 1),
            (self.edit, 1),
            (self.delete, 1),
        ]
        action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        action()
        db.session.commit()


def _recount_rows() -> dict[str, dict[Any, tuple[int, int]]]:
    """Every summary table recounted from the rows (in Python, from plain reads)."""
    found: dict[str, dict[Any, tuple[int, int]]] = {
        "bill_day": {},
        "bill_month": {},
        "bill_all_time": {},
        "cashin_day": {},
        "cashin_month": {},
        "cashin_all_time": {},
    }
    for status, issuer, amount, at in db.session.execute(
        select(Bill.status, Bill.issued_by_id, Bill.amount, Bill.created_at)
    ):
        day = at.astimezone(UTC).date()
        summaries.add(found["bill_day"], {(day, status, issuer): (1, amount)})
        summaries.add(found["bill_month"], {(day.replace(day=1), status, issuer): (1, amount)})
        summaries.add(found["bill_all_time"], {(status, issuer): (1, amount)})
    for status, reason, bank, by, amount, at in db.session.execute(
        select(
            Cashin.status,
            Cashin.reason,
            Cashin.bank_slug,
            Cashin.created_by_id,
            Cashin.amount,
            Cashin.created_at,
        )
    ):
        day = at.astimezone(UTC).date()
        summaries.add(found["cashin_day"], {(day, status, reason): (1, amount)})
        month = (day.replace(day=1), status, reason, bank, by)
        summaries.add(found["cashin_month"], {month: (1, amount)})
        summaries.add(found["cashin_all_time"], {(status, reason, bank, by): (1, amount)})
    return found


def _kept() -> dict[str, dict[Any, tuple[int, int]]]:
    def table(rows: Any) -> dict[Any, tuple[int, int]]:
        return summaries.nonzero({tuple(key): (count, amount) for *key, count, amount in rows})

    def as_date(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    return {
        "bill_day": table(
            (as_date(r.day), r.status, r.issued_by_id, r.bills, r.amount)
            for r in db.session.scalars(select(BillDayTotal))
        ),
        "bill_month": table(
            (as_date(r.month), r.status, r.issued_by_id, r.bills, r.amount)
            for r in db.session.scalars(select(BillMonthTotal))
        ),
        "cashin_day": table(
            (as_date(r.day), r.status, r.reason, r.cashins, r.amount)
            for r in db.session.scalars(select(CashinDayTotal))
        ),
        "cashin_month": table(
            (
                as_date(r.month),
                r.status,
                r.reason,
                r.bank_slug,
                r.created_by_id,
                r.cashins,
                r.amount,
            )
            for r in db.session.scalars(select(CashinMonthTotal))
        ),
        "bill_all_time": table(
            (r.status, r.issued_by_id, r.bills, r.amount)
            for r in db.session.scalars(select(BillAllTimeTotal))
        ),
        "cashin_all_time": table(
            (r.status, r.reason, r.bank_slug, r.created_by_id, r.cashins, r.amount)
            for r in db.session.scalars(select(CashinAllTimeTotal))
        ),
    }


def _ranges(rng: random.Random, count: int) -> list[tuple[datetime | None, datetime | None]]:
    """Local-day ranges as the lists make them, some open-ended, some within a day."""
    found: list[tuple[datetime | None, datetime | None]] = [(None, None)]
    for _ in range(count):
        first = (BASE + timedelta(days=rng.randrange(-130, 130))).astimezone(ZONE).date()
        last = first + timedelta(days=rng.choice((0, 1, 2, 6, 30, 45, 200)))
        start = datetime.combine(first, datetime.min.time(), ZONE)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), ZONE)
        if rng.random() < 0.1:  # odd hours, as an API caller might ask
            start += timedelta(minutes=rng.randrange(1, 1440))
        found.append(rng.choice(((start, end), (start, None), (None, end), (start, end))))
    return found


def _check_pages_against_rows(rng: random.Random, staff: list[int]) -> None:
    """What the lists, the overview and its chart show equals a count of the rows."""
    every_bill = db.session.execute(
        select(Bill.status, Bill.issued_by_id, Bill.amount, Bill.created_at)
    ).all()
    every_cashin = db.session.execute(
        select(
            Cashin.status,
            Cashin.reason,
            Cashin.bank_slug,
            Cashin.created_by_id,
            Cashin.amount,
            Cashin.created_at,
        )
    ).all()

    def inside(at: datetime, start: datetime | None, end: datetime | None) -> bool:
        return (start is None or at >= start) and (end is None or at < end)

    now = datetime.now(UTC)
    # Everything ever (the lists' first pages: the all-time summaries), then random filters.
    everything: dict[str, tuple[int, int]] = {}
    for s, _, amount, _ in every_bill:
        summaries.add(everything, {s: (1, amount)})
    assert bills_queries._totals(BillFilters()) == everything and everything
    assert cashins_queries.cashin_totals(CashinFilters()) == cashins_queries.CashinTotals(
        len(every_cashin),
        sum(c.amount for c in every_cashin),
        sum(c.amount for c in every_cashin if c.status == CashinState.SUCCEEDED),
    )
    for start, end in _ranges(rng, 25):
        status = rng.choice(["", "", *[s.value for s in BillState]])
        issuer = rng.choice([None, None, *staff])
        filters = BillFilters(status=status, date_from=start, date_to=end, issued_by=issuer)
        expected: dict[str, tuple[int, int]] = {}
        for s, by, amount, at in every_bill:
            wanted = (
                s in (BillState.UNKNOWN, BillState.CREATING)
                and (s == BillState.UNKNOWN or at < now - STUCK_AFTER)
                if status == BillState.UNKNOWN
                else not status or s == status
            )
            if wanted and (issuer is None or by == issuer) and inside(at, start, end):
                summaries.add(expected, {s: (1, amount)})
        assert bills_queries._totals(filters) == expected, filters

        cashin_filters = CashinFilters(
            status=rng.choice(["", "", *[s.value for s in CashinState]]),
            bank_slug=rng.choice(["", "", *[b for b, _ in BANKS]]),
            prepared_by=rng.choice([None, None, *staff]),
            reason=rng.choice(["", "", "refund", "payout"]),
            date_from=start,
            date_to=end,
        )
        f = cashin_filters
        rows = [
            (s, amount)
            for s, reason, bank, by, amount, at in every_cashin
            if (not f.status or s == f.status)
            and (not f.bank_slug or bank == f.bank_slug)
            and (f.prepared_by is None or by == f.prepared_by)
            and (not f.reason or reason == f.reason)
            and inside(at, start, end)
        ]
        assert cashins_queries.cashin_totals(f) == cashins_queries.CashinTotals(
            len(rows),
            sum(a for _, a in rows),
            sum(a for s, a in rows if s == CashinState.SUCCEEDED),
        ), f

    # The overview's month and the 30-day chart (local days), everyone's and one person's.
    today = (BASE + timedelta(days=3)).astimezone(ZONE).date()
    chart = reports.last_days(today, 30, "Africa/Bujumbura")
    for person in (None, staff[0]):
        flows = reports.daily_flows(chart, "Africa/Bujumbura", person)
        for flow in flows:
            day = reports.days_period(flow.day, flow.day, "Africa/Bujumbura")
            collected = sum(
                amount
                for s, by, amount, at in every_bill
                if s == BillState.PAID
                and (person is None or by == person)
                and day.start <= at < day.end
            )
            paid_out = sum(
                amount
                for s, _, _, by, amount, at in every_cashin
                if s == CashinState.SUCCEEDED
                and (person is None or by == person)
                and day.start <= at < day.end
            )
            assert (flow.collected, flow.paid_out) == (collected, paid_out), (person, flow)
    month = reports.month_to_date(today, "Africa/Bujumbura")
    people = {p.user_id: p.bills.issued.count for p in reports.bill_figures_by_person(month)}
    counted: dict[int, int] = {}
    for _, by, _, at in every_bill:
        if month.start <= at < month.end:
            counted[by] = counted.get(by, 0) + 1
    assert people == counted
    banks = dict(cashins_queries.cashin_banks())
    assert set(banks) == {bank for _, _, bank, *_ in every_cashin}


def _staff_ids(staff: dict[str, User]) -> list[int]:
    return [staff["cashier"].id, staff["accountant"].id, staff["admin"].id]


@pytest.mark.parametrize("seed", [1, 2])
def test_summaries_stay_exact_through_random_sequences(
    app: Flask, staff: dict[str, User], seed: int
) -> None:
    rng = random.Random(seed)
    people = _staff_ids(staff)
    with app.app_context():
        shop = Shop(rng, people, f"s{seed}-")
        for step in range(400):
            shop.step()
            if step % 100 == 99:
                assert _kept() == _recount_rows(), step
        _check_pages_against_rows(rng, people)
        assert db.session.scalar(select(CashinBank.slug).limit(1)) is not None


def test_summaries_stay_exact_with_transactions_writing_at_once(
    app: Flask, staff: dict[str, User]
) -> None:
    """Four threads, each its own connection and transactions, on the same few days and
    people: the summary rows they all update stay exact (PostgreSQL; SQLite takes turns)."""
    if db_kind(app) != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs at once")
    people = _staff_ids(staff)
    errors: list[BaseException] = []
    committed: list[int] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        try:
            with app.app_context():
                shop = Shop(random.Random(100 + n), people, f"t{n}-")
                start.wait()
                for _ in range(150):
                    try:
                        shop.step()
                        committed.append(n)
                    except Exception:  # a row another thread just changed: try another step
                        db.session.rollback()
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors
    assert len(committed) > 500 and set(committed) == {0, 1, 2, 3}
    with app.app_context():
        assert db.session.scalar(select(Bill.id).limit(1)) is not None
        assert _kept() == _recount_rows()
        _check_pages_against_rows(random.Random(9), people)


def db_kind(app: Flask) -> str:
    with app.app_context():
        return db.engine.dialect.name
