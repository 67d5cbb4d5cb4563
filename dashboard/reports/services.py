"""Month exports for the accountant: CSV, streamed, whole francs, local times."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from dashboard.db import db
from dashboard.models import Bill, Cashin, User

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _csv(header: list[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the accents as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) if not isinstance(v, int) else v for v in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _local(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _rows_in_chunks(query: Any, ident: Any, size: int = 1000) -> Iterator[Any]:
    """Rows of a column query in id order, a chunk per query (keyset on the id, which the query
    selects first): constant memory for any month, and only the exported columns are read."""
    last_id = 0
    while True:
        chunk = db.session.execute(query.where(ident > last_id).order_by(ident).limit(size)).all()
        yield from chunk
        if len(chunk) < size:
            return
        last_id = chunk[-1][0]


def bills_csv(start: datetime, end: datetime, timezone: str) -> Iterator[str]:
    query = (
        select(
            Bill.id,
            Bill.created_at,
            Bill.merchant_reference,
            Bill.code,
            Bill.status,
            Bill.amount,
            Bill.refund_reserved,
            Bill.payer,
            Bill.description,
            User.email,
            Bill.payment_reference,
        )
        .join(User, Bill.issued_by_id == User.id)
        .where(Bill.created_at >= start, Bill.created_at < end)
    )
    rows = ([_local(b[1], timezone), *b[2:]] for b in _rows_in_chunks(query, Bill.id))
    return _csv(
        [
            "issued_at",
            "reference",
            "ihela_code",
            "status",
            "amount_bif",
            "refunds_bif",
            "payer",
            "description",
            "issued_by",
            "bank_reference",
        ],
        rows,
    )


def cashins_csv(start: datetime, end: datetime, timezone: str) -> Iterator[str]:
    prepared_by, decided_by, bill = aliased(User), aliased(User), aliased(Bill)
    query = (
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
        .where(Cashin.created_at >= start, Cashin.created_at < end)
    )
    rows = (
        [_local(c[1], timezone), *c[2:15], _local(c[15], timezone)]
        for c in _rows_in_chunks(query, Cashin.id)
    )
    return _csv(
        [
            "prepared_at",
            "reference",
            "status",
            "amount_bif",
            "reason",
            "bill",
            "bank",
            "account",
            "holder",
            "holder_check",
            "description",
            "prepared_by",
            "decided_by",
            "ihela_reference",
            "completed_at",
        ],
        rows,
    )
