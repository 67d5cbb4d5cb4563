"""Month exports for the accountant (CSV, streamed) and the overview's figures (SQL aggregates)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from dashboard import summaries
from dashboard.bills.queries import BillFilters, bill_source
from dashboard.bills.queries import _filtered as filtered_bills
from dashboard.cashins.queries import CashinFilters, cashin_source, filtered_cashins
from dashboard.customers import queries as customer_queries
from dashboard.db import db
from dashboard.labels import (
    bill_state_label,
    cashin_state_label,
    holder_check_label,
    reason_label,
)
from dashboard.models import Bill, BillLine, BillState, Cashin, CashinState, Customer, User

# What starts a formula in some spreadsheet, full-width forms included (some convert them).
_FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "|", "\t", "\r")
_FORMULA_START += ("\uff1d", "\uff0b", "\uff0d", "\uff20", "\uff5c")  # full-width = + - @ |
SEPARATORS = {"semicolon": ";", "comma": ","}


BILL_COLUMNS = [
    ("issued_at", _l("Issued at")),
    ("reference", _l("Reference")),
    ("ihela_code", _l("iHela code")),
    ("status", _l("Status")),
    ("amount_bif", _l("Amount (BIF)")),
    ("refunds_bif", _l("Refunds sent (BIF)")),
    ("payer", _l("Payer")),
    ("description", _l("Description")),
    ("issued_by", _l("Issued by")),
    ("bank_reference", _l("Bank reference")),
    # Last, so that the columns before keep their places in people's imports.
    ("refunds_pending_bif", _l("Refunds pending (BIF)")),
]
CASHIN_COLUMNS = [
    ("prepared_at", _l("Prepared at")),
    ("reference", _l("Reference")),
    ("status", _l("Status")),
    ("amount_bif", _l("Amount (BIF)")),
    ("reason", _l("Reason")),
    ("bill", _l("Bill")),
    ("bank", _l("Bank")),
    ("account", _l("Account")),
    ("holder", _l("Account holder")),
    ("holder_check", _l("Holder check")),
    ("description", _l("Description")),
    ("prepared_by", _l("Prepared by")),
    ("decided_by", _l("Decided by")),
    ("ihela_reference", _l("iHela reference")),
    ("completed_at", _l("Completed at")),
]

# Columns whose stored value is a code: said in words in a French export. English keeps the
# codes (they are English words, and people's imports rely on them, as on the column codes).
Words = dict[str, Callable[[str | None], str]]
BILL_WORDS: Words = {"status": bill_state_label}
CASHIN_WORDS: Words = {
    "status": cashin_state_label,
    "reason": reason_label,
    "holder_check": holder_check_label,
}


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    """``2026-11`` → [1 Nov 00:00, 1 Dec 00:00) in the merchant's zone. ValueError if malformed."""
    first = datetime.strptime(month, "%Y-%m").date()
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(first, datetime.min.time(), zone),
        datetime.combine(after, datetime.min.time(), zone),
    )


def _cell(value: object) -> str:
    """Text a spreadsheet shows as text: never a formula (CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(
    header: Sequence[tuple[str, LazyString]],
    rows: Iterable[Sequence[object]],
    separator: str,
    french: bool,
    words: Words | None = None,
) -> Iterator[str]:
    """The file, in pieces; a field holding the separator, a quote or a line break is quoted."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the accents as UTF-8
    writer = csv.writer(buffer, delimiter=separator, quoting=csv.QUOTE_MINIMAL)
    # English keeps the column codes people's imports rely on; French reads as French.
    writer.writerow([str(label) if french else code for code, label in header])
    said = [(words or {}).get(code) if french else None for code, _label in header]
    yield buffer.getvalue()  # the download starts at once, before any row is read
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow(
            [
                v if isinstance(v, int) else _cell(say(str(v)) if say and v else v)
                for v, say in zip(row, said, strict=False)
            ]
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _local(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _rows_in_chunks(query: Any, keys: tuple[Any, Any], size: int = 1000) -> Iterator[Any]:
    """Rows of a column query in (created_at, id) order, a chunk per query (keyset on those
    two, which the query selects first: id, created_at): constant memory for any month, only
    the exported columns read, and each chunk a range of a (…, created_at, id) index, so the
    first one of an old month costs what the last one does."""
    time_key, ident = keys
    last: tuple[Any, Any] | None = None
    while True:
        chunk_query = query
        if last is not None:
            after_time, after_id = last
            chunk_query = query.where(
                time_key >= after_time, or_(time_key > after_time, ident > after_id)
            )
        chunk = db.session.execute(chunk_query.order_by(time_key, ident).limit(size)).all()
        yield from chunk
        if len(chunk) < size:
            return
        last = (chunk[-1][1], chunk[-1][0])


def _bill_columns() -> Any:
    """The exported columns of bills (the id first, for chunking), nothing else. Refunds: those
    sent (their cash-ins succeeded), and what the bill holds for refunds not settled yet
    (waiting for approval, being sent, or whose outcome iHela has not told)."""
    sent = (
        select(func.coalesce(func.sum(Cashin.amount), 0))
        .where(Cashin.bill_id == Bill.id, Cashin.status == CashinState.SUCCEEDED)
        .scalar_subquery()
    )
    return select(
        Bill.id,
        Bill.created_at,
        Bill.merchant_reference,
        Bill.code,
        Bill.status,
        Bill.amount,
        sent,
        Bill.payer,
        Bill.description,
        User.email,
        Bill.payment_reference,
        Bill.refund_reserved,
    ).join(User, Bill.issued_by_id == User.id)


def _bill_rows(query: Any, timezone: str) -> Iterator[list[object]]:
    return (
        # A refund is held on the bill from its confirmation on (sent ones too), so what is
        # held beyond those sent is pending.
        [_local(b[1], timezone), *b[2:6], int(b[6]), *b[7:11], int(b[11]) - int(b[6])]
        for b in _rows_in_chunks(query, (Bill.created_at, Bill.id))
    )


def _cashin_columns() -> Any:
    prepared_by, decided_by, bill = aliased(User), aliased(User), aliased(Bill)
    return (
        select(
            Cashin.id,
            Cashin.created_at,
            Cashin.merchant_reference,
            Cashin.status,
            Cashin.amount,
            Cashin.reason,
            func.coalesce(bill.merchant_reference, ""),
            Cashin.bank_slug,
            Cashin.account,
            Cashin.holder_name,
            Cashin.holder_check,
            Cashin.description,
            prepared_by.email,
            func.coalesce(decided_by.email, ""),
            Cashin.gateway_reference,
            Cashin.completed_at,
        )
        .join(prepared_by, Cashin.created_by_id == prepared_by.id)
        .outerjoin(decided_by, Cashin.decided_by_id == decided_by.id)
        .outerjoin(bill, Cashin.bill_id == bill.id)
    )


def _cashin_rows(query: Any, timezone: str) -> Iterator[list[object]]:
    return (
        [_local(c[1], timezone), *c[2:15], _local(c[15], timezone)]
        for c in _rows_in_chunks(query, (Cashin.created_at, Cashin.id))
    )


CUSTOMER_COLUMNS = [
    ("customer", _l("Customer")),
    ("name", _l("Name")),
    ("identifiers", _l("Identifiers")),
    ("first_bill_at", _l("First bill")),
    ("last_bill_at", _l("Last bill")),
    ("bills", _l("Bills")),
    ("paid_bif", _l("Paid (BIF)")),
    ("refunded_bif", _l("Refunded (BIF)")),
    ("note", _l("Note")),
]


def _customer_rows(timezone: str) -> Iterator[list[object]]:
    """The directory in id order, a thousand customers per read (constant memory)."""
    last_id = 0
    while True:
        chunk = list(
            db.session.scalars(
                select(Customer)
                .where(Customer.id > last_id)
                .order_by(Customer.id)
                .limit(1000)
                .options(selectinload(Customer.identifiers))
            )
        )
        refunds = customer_queries.refunded([c.id for c in chunk])
        for c in chunk:
            yield [
                c.id,
                c.name or "",
                " | ".join(i.value for i in c.identifiers),
                _local(c.first_bill_at, timezone),
                _local(c.last_bill_at, timezone),
                c.bills_count,
                c.paid_amount,
                refunds.get(c.id, 0),
                c.note or "",
            ]
        if len(chunk) < 1000:
            return
        last_id = chunk[-1].id
        db.session.expunge_all()


def customers_csv(timezone: str, separator: str = ",", french: bool = False) -> Iterator[str]:
    return _csv(CUSTOMER_COLUMNS, _customer_rows(timezone), separator, french)


LINE_COLUMNS = [
    ("issued_at", _l("Issued at")),
    ("reference", _l("Reference")),
    ("status", _l("Status")),
    ("item", _l("Item")),
    ("quantity", _l("Quantity")),
    ("unit_price_bif", _l("Price (BIF)")),
    ("line_bif", _l("Line total (BIF)")),
]


def lines_csv(
    start: datetime, end: datetime, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    """The lines of the month's bills, one row each, at the prices they were billed."""
    query = (
        select(
            BillLine.id,
            Bill.created_at,
            Bill.merchant_reference,
            Bill.status,
            BillLine.name,
            BillLine.quantity,
            BillLine.unit_price,
        )
        .join(Bill, BillLine.bill_id == Bill.id)
        .where(Bill.created_at >= start, Bill.created_at < end)
    )
    rows = (
        [_local(r[1], timezone), r[2], r[3], r[4], r[5], r[6], r[5] * r[6]]
        for r in _rows_in_chunks(query, (Bill.created_at, BillLine.id))
    )
    return _csv(LINE_COLUMNS, rows, separator, french, BILL_WORDS)


def bills_csv(
    start: datetime, end: datetime, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    query = _bill_columns().where(Bill.created_at >= start, Bill.created_at < end)
    return _csv(BILL_COLUMNS, _bill_rows(query, timezone), separator, french, BILL_WORDS)


def cashins_csv(
    start: datetime, end: datetime, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    query = _cashin_columns().where(Cashin.created_at >= start, Cashin.created_at < end)
    return _csv(CASHIN_COLUMNS, _cashin_rows(query, timezone), separator, french, CASHIN_WORDS)


def filtered_bills_csv(
    filters: BillFilters, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    """The bills the list shows with ``filters`` (every page), in the month export's format."""
    query = filtered_bills(_bill_columns(), filters)
    return _csv(BILL_COLUMNS, _bill_rows(query, timezone), separator, french, BILL_WORDS)


def filtered_cashins_csv(
    filters: CashinFilters, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    """The cash-ins the list shows with ``filters`` (every page), as the month export."""
    query = filtered_cashins(_cashin_columns(), filters)
    return _csv(CASHIN_COLUMNS, _cashin_rows(query, timezone), separator, french, CASHIN_WORDS)


# The overview: every figure is one aggregate query bounded by an indexed created_at range;
# no bill or cash-in row is loaded. Days are the merchant's days, not UTC days.


@dataclass
class Figure:
    count: int = 0
    amount: int = 0

    def add(self, count: int, amount: int) -> None:
        self.count += count
        self.amount += amount


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (inclusive), as the UTC-comparable range [start, end)."""

    first: date
    last: date
    start: datetime
    end: datetime


def day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone))


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def days_period(first: date, last: date, timezone: str) -> Period:
    return Period(
        first, last, day_start(first, timezone), day_start(last + timedelta(days=1), timezone)
    )


def month_to_date(today: date, timezone: str) -> Period:
    return days_period(today.replace(day=1), today, timezone)


@dataclass
class BillFigures:
    issued: Figure = field(default_factory=Figure)  # every bill created, whatever became of it
    paid: Figure = field(default_factory=Figure)
    waiting: Figure = field(default_factory=Figure)  # pending: iHela waits for the payer
    expired: Figure = field(default_factory=Figure)
    by_status: dict[str, Figure] = field(default_factory=dict)

    @property
    def collected(self) -> int:
        return self.paid.amount

    def add(self, status: str, count: int, amount: int) -> None:
        self.issued.add(count, amount)
        self.by_status.setdefault(status, Figure()).add(count, amount)
        if status == BillState.PAID:
            self.paid.add(count, amount)
        elif status == BillState.PENDING:
            self.waiting.add(count, amount)
        elif status == BillState.EXPIRED:
            self.expired.add(count, amount)


def bill_figures(period: Period, issued_by: int | None = None) -> BillFigures:
    """Bills created in ``period`` (by one person, or everyone's), per status: from the
    summaries the database keeps (dashboard/summaries.py), not from the bills."""
    source = bill_source(issued_by=issued_by)
    figures = BillFigures()
    for status, (count, amount) in summaries.range_totals(source, period.start, period.end).items():
        figures.add(str(status), count, amount)
    return figures


@dataclass
class PersonFigures:
    user_id: int
    name: str
    bills: BillFigures


def bill_figures_by_person(period: Period) -> list[PersonFigures]:
    """Everyone who issued a bill in ``period``, most money collected first."""
    source = bill_source(keys=("issued_by_id", "status"))
    people: dict[int, BillFigures] = {}
    for key, (count, amount) in summaries.range_totals(source, period.start, period.end).items():
        user_id, status = key
        people.setdefault(int(user_id), BillFigures()).add(str(status), count, amount)
    names: dict[int, str] = {
        int(uid): str(name)
        for uid, name in db.session.execute(select(User.id, User.name).where(User.id.in_(people)))
    }
    result = [PersonFigures(uid, names.get(uid, "?"), figures) for uid, figures in people.items()]
    return sorted(result, key=lambda p: (-p.bills.collected, p.name.lower(), p.user_id))


def all_of(people: list[PersonFigures]) -> BillFigures:
    """Everyone's figures, from the per-person ones."""
    figures = BillFigures()
    for person in people:
        for status, figure in person.bills.by_status.items():
            figures.add(status, figure.count, figure.amount)
    return figures


# The cash-in states the overview counts; filtering on them lets the (status, created_at)
# index bound every query.
OVERVIEW_CASHIN_STATES = (
    CashinState.SUCCEEDED,
    CashinState.AWAITING_APPROVAL,
    CashinState.UNKNOWN,
)


@dataclass
class CashinFigures:
    sent: Figure = field(default_factory=Figure)  # succeeded: the money left
    awaiting_approval: Figure = field(default_factory=Figure)
    unknown: Figure = field(default_factory=Figure)
    refunds: Figure = field(default_factory=Figure)  # sent, as refunds of a paid bill


def cashin_figures(period: Period, created_by: int | None = None) -> CashinFigures:
    """Cash-ins prepared in ``period``: sent, waiting for approval, unknown, and refunds sent."""
    source = cashin_source(
        statuses=tuple(s.value for s in OVERVIEW_CASHIN_STATES),
        created_by=created_by,
        keys=("status", "reason"),
    )
    return cashin_figures_of(summaries.range_totals(source, period.start, period.end))


def cashin_figures_of(totals: summaries.Totals) -> CashinFigures:
    """The overview's cash-in figures from totals per (status, reason)."""
    figures = CashinFigures()
    for (status, reason), (count, amount) in totals.items():
        if status == CashinState.SUCCEEDED:
            figures.sent.add(count, amount)
            if reason == "refund":
                figures.refunds.add(count, amount)
        elif status == CashinState.AWAITING_APPROVAL:
            figures.awaiting_approval.add(count, amount)
        elif status == CashinState.UNKNOWN:
            figures.unknown.add(count, amount)
    return figures


@dataclass
class DayFlow:
    day: date
    collected: int = 0  # paid bills issued that day
    paid_out: int = 0  # cash-ins prepared that day whose money left


def daily_flows(period: Period, timezone: str, person: int | None = None) -> list[DayFlow]:
    """Money collected and paid out per local day of ``period`` (every day, zeros included):
    one read of the day summaries over the span and of the rows at the days' edges."""
    days = [period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1)]
    boundaries = [day_start(day, timezone) for day in days]
    boundaries.append(period.end)
    flows = [DayFlow(day) for day in days]
    sources = (
        ("collected", bill_source(statuses=(BillState.PAID.value,), issued_by=person)),
        ("paid_out", cashin_source(statuses=(CashinState.SUCCEEDED.value,), created_by=person)),
    )
    for attribute, source in sources:
        for flow, totals in zip(flows, summaries.series_totals(source, boundaries), strict=True):
            setattr(flow, attribute, sum(amount for _, amount in totals.values()))
    return flows


def last_days(today: date, count: int, timezone: str) -> Period:
    return days_period(today - timedelta(days=count - 1), today, timezone)
