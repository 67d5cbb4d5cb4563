"""The lines of a bill as a form posts them: rows of ``line_item`` (a price-list item, or empty
for a free line), ``line_name`` and ``line_price`` (a free line's), and ``line_qty``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from dashboard.bills.services import BillInputError, BillLineRequest
from dashboard.db import db
from dashboard.forms import AmountField
from dashboard.models import PriceItem
from dashboard.money import AmountError, parse_typed_amount

MAX_LINES = 30
MAX_QUANTITY = 999
NAME_MAX = 80
EMPTY_ROWS = 3  # offered without JavaScript; the page's script adds rows as items are chosen
OFFERED_IN_FORM = 50  # items in each row's drop-down (the search finds the others)


@dataclass
class LineRow:
    """One row as typed, kept to show the form again."""

    item: str = ""
    name: str = ""
    price: str = ""
    qty: str = ""

    @property
    def empty(self) -> bool:
        return not (self.item or self.name.strip() or self.price.strip())


def posted_rows(form: MultiDict[str, str]) -> list[LineRow]:
    columns = [form.getlist(name) for name in ("line_item", "line_name", "line_price", "line_qty")]
    count = max((len(c) for c in columns), default=0)
    rows = [LineRow(*(c[i] if i < len(c) else "" for c in columns)) for i in range(min(count, 200))]
    return [row for row in rows if not row.empty]


def priced_lines(rows: list[LineRow]) -> tuple[BillLineRequest, ...]:
    """The rows priced now: an item at its current price, a free line at the price typed.
    Raises with a message for the lines block when a row cannot be billed."""
    if len(rows) > MAX_LINES:
        raise BillInputError({"lines": [_("A bill holds %(max)d lines at most.", max=MAX_LINES)]})
    wanted = {int(r.item) for r in rows if r.item.isdigit()}
    items = (
        {i.id: i for i in db.session.scalars(select(PriceItem).where(PriceItem.id.in_(wanted)))}
        if wanted
        else {}
    )
    lines = []
    for number, row in enumerate(rows, start=1):
        qty_text = row.qty.strip() or "1"
        if not qty_text.isdigit() or not 1 <= int(qty_text) <= MAX_QUANTITY:
            raise BillInputError(
                {
                    "lines": [
                        _("Line %(n)d: a quantity from 1 to %(max)d.", n=number, max=MAX_QUANTITY)
                    ]
                }
            )
        quantity = int(qty_text)
        if row.item:
            item = items.get(int(row.item)) if row.item.isdigit() else None
            if item is None or not item.active:
                raise BillInputError(
                    {"lines": [_("Line %(n)d: this item is no longer sold.", n=number)]}
                )
            lines.append(BillLineRequest(item.name, item.price, quantity, item.id))
            continue
        name = " ".join(row.name.split())[:NAME_MAX]
        if not name:
            raise BillInputError({"lines": [_("Line %(n)d: say what it is.", n=number)]})
        try:
            price = parse_typed_amount(row.price)
        except AmountError as exc:
            raise BillInputError(
                {"lines": [_("Line %(n)d: %(error)s", n=number, error=str(exc))]}
            ) from None
        lines.append(BillLineRequest(name, price, quantity))
    return tuple(lines)


class _WithAmount(Protocol):
    amount: AmountField


def posted_lines(
    form: _WithAmount,
) -> tuple[list[LineRow], tuple[BillLineRequest, ...], list[str]]:
    """The lines a bill form posted, priced now; their sum fills an amount left empty."""
    if request.method != "POST":
        return [], (), []
    rows = posted_rows(request.form)
    if not rows:
        return [], (), []
    try:
        priced = priced_lines(rows)
    except BillInputError as exc:
        return rows, (), exc.errors.get("lines", [])
    if not (form.amount.data or "").strip():
        form.amount.data = str(sum(line.amount for line in priced))
    return rows, priced, []
