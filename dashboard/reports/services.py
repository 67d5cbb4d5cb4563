"""Month exports for the accountant: CSV, streamed, whole francs, local times."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from dashboard.db import db
from dashboard.models import Bill, Cashin

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
    ("refunds_bif", _l("Refunds (BIF)")),
    ("payer", _l("Payer")),
    ("description", _l("Description")),
    ("issued_by", _l("Issued by")),
    ("bank_reference", _l("Bank reference")),
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
) -> Iterator[str]:
    """The file, in pieces; a field holding the separator, a quote or a line break is quoted."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the accents as UTF-8
    writer = csv.writer(buffer, delimiter=separator, quoting=csv.QUOTE_MINIMAL)
    # English keeps the column codes people's imports rely on; French reads as French.
    writer.writerow([str(label) if french else code for code, label in header])
    for row in rows:
        writer.writerow([_cell(v) if not isinstance(v, int) else v for v in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _in_chunks(query: Any, model: Any, size: int = 1000) -> Iterator[Any]:
    """Rows in id order, a chunk per query: constant memory for any month."""
    last_id = 0
    while True:
        chunk = db.session.scalars(
            query.where(model.id > last_id).order_by(model.id).limit(size)
        ).all()
        yield from chunk
        if len(chunk) < size:
            return
        last_id = chunk[-1].id
        db.session.expunge_all()


def _local(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def bills_csv(
    start: datetime, end: datetime, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    query = (
        select(Bill)
        .options(joinedload(Bill.issued_by))
        .where(Bill.created_at >= start, Bill.created_at < end)
    )
    rows = (
        [
            _local(b.created_at, timezone),
            b.merchant_reference,
            b.code,
            b.status,
            b.amount,
            b.refund_reserved,
            b.payer,
            b.description,
            b.issued_by.email,
            b.payment_reference,
        ]
        for b in _in_chunks(query, Bill)
    )
    return _csv(BILL_COLUMNS, rows, separator, french)


def cashins_csv(
    start: datetime, end: datetime, timezone: str, separator: str = ",", french: bool = False
) -> Iterator[str]:
    query = (
        select(Cashin)
        .options(
            joinedload(Cashin.created_by), joinedload(Cashin.decided_by), joinedload(Cashin.bill)
        )
        .where(Cashin.created_at >= start, Cashin.created_at < end)
    )
    rows = (
        [
            _local(c.created_at, timezone),
            c.merchant_reference,
            c.status,
            c.amount,
            c.reason,
            c.bill.merchant_reference if c.bill else "",
            c.bank_slug,
            c.account,
            c.holder_name,
            c.holder_check,
            c.description,
            c.created_by.email,
            c.decided_by.email if c.decided_by else "",
            c.gateway_reference,
            _local(c.completed_at, timezone),
        ]
        for c in _in_chunks(query, Cashin)
    )
    return _csv(CASHIN_COLUMNS, rows, separator, french)
