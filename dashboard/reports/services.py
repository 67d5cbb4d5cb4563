"""Month exports for the accountant: CSV, streamed, whole francs, local times."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from dashboard.db import db
from dashboard.models import Bill, Cashin

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


def bills_csv(start: datetime, end: datetime, timezone: str) -> Iterator[str]:
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
