"""Reading customers: suggestions while typing, the directory, one customer's page. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from dashboard.db import db
from dashboard.models import (
    Bill,
    Cashin,
    CashinState,
    Customer,
    CustomerIdentifier,
    CustomerTerm,
)
from dashboard.paging import Page, keyset_page

SUGGESTIONS = 8
PAGE_SIZE = 50
# A term read per suggestion at most: a name's words and identifiers of one customer often
# share a prefix, and the ones read are ordered, so a few more than shown always suffice.
_TERMS_READ = SUGGESTIONS * 4


def _prefix_range(typed: str) -> tuple[str, str] | None:
    """[typed, typed + 1) in the terms' byte order: one index range for "starts with"."""
    typed = " ".join(typed.split()).casefold()[:160]
    if not typed:
        return None
    return typed, typed[:-1] + chr(ord(typed[-1]) + 1)


def _matching_ids(typed: str, limit: int) -> list[int]:
    """Customers one of whose terms starts with the first word typed and, for further words,
    whose terms also start with each of them."""
    words = [w for w in typed.split() if w]
    if not words:
        return []
    first = _prefix_range(words[0])
    assert first is not None
    query = select(CustomerTerm.customer_id).where(
        CustomerTerm.term >= first[0], CustomerTerm.term < first[1]
    )
    for word in words[1:]:
        bounds = _prefix_range(word)
        assert bounds is not None
        also = select(CustomerTerm.customer_id).where(
            CustomerTerm.term >= bounds[0], CustomerTerm.term < bounds[1]
        )
        query = query.where(CustomerTerm.customer_id.in_(also))
    ids: list[int] = []
    for customer_id in db.session.scalars(query.order_by(CustomerTerm.term).limit(limit * 4)):
        if customer_id not in ids:
            ids.append(customer_id)
        if len(ids) == limit:
            break
    return ids


@dataclass(frozen=True)
class Suggestion:
    customer_id: int
    name: str | None
    kind: str  # the identifier a bill for them would use
    value: str
    others: tuple[tuple[str, str], ...] = field(default=())


def suggest(typed: str, *, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Up to ``limit`` customers for what a cashier typed (two characters at least)."""
    if len(typed.strip()) < 2:
        return []
    ids = _matching_ids(typed, limit)
    if not ids:
        return []
    customers = {
        c.id: c
        for c in db.session.scalars(
            select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.identifiers))
        )
    }
    found = []
    needle = typed.strip().casefold()
    for customer_id in ids:
        customer = customers.get(customer_id)
        if customer is None or not customer.identifiers:
            continue
        identifiers = [(i.kind, i.value) for i in customer.identifiers]
        # Bill them by the identifier typed when it is one of theirs, else by their first one.
        chosen = next((i for i in identifiers if i[1].casefold().startswith(needle)), None)
        chosen = chosen or identifiers[0]
        others = tuple(i for i in identifiers if i != chosen)
        found.append(Suggestion(customer.id, customer.name, chosen[0], chosen[1], others))
    return found


def directory_query(search: str = "") -> Select[Any]:
    query = select(Customer).options(selectinload(Customer.identifiers))
    if search.strip():
        ids = _matching_ids(search, limit=PAGE_SIZE * 20)
        query = query.where(Customer.id.in_(ids or [0]))
    return query


def list_customers(search: str = "", *, older: int | None = None, newer: int | None = None) -> Page:
    """The directory, most recently billed first, a page at a time (keyset)."""
    return keyset_page(
        directory_query(search),
        (Customer.last_bill_at, Customer.id),
        size=PAGE_SIZE,
        older=older,
        newer=newer,
    )


def refunded(customer_ids: list[int]) -> dict[int, int]:
    """Francs refunded (cash-ins that succeeded) to each of these customers' bills."""
    if not customer_ids:
        return {}
    rows = db.session.execute(
        select(Bill.customer_id, func.sum(Cashin.amount))
        .join(Cashin, Cashin.bill_id == Bill.id)
        .where(Bill.customer_id.in_(customer_ids), Cashin.status == CashinState.SUCCEEDED)
        .group_by(Bill.customer_id)
    ).all()
    return {int(customer_id or 0): int(total or 0) for customer_id, total in rows}


def get_customer(customer_id: int) -> Customer | None:
    return db.session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(selectinload(Customer.identifiers))
    )


def customer_bills(
    customer: Customer, *, older: int | None = None, newer: int | None = None
) -> Page:
    return keyset_page(
        select(Bill).where(Bill.customer_id == customer.id),
        (Bill.created_at, Bill.id),
        size=PAGE_SIZE,
        older=older,
        newer=newer,
    )


def customer_refunds(customer: Customer, limit: int = 100) -> list[Cashin]:
    return list(
        db.session.scalars(
            select(Cashin)
            .join(Bill, Cashin.bill_id == Bill.id)
            .where(Bill.customer_id == customer.id)
            .order_by(Cashin.created_at.desc(), Cashin.id.desc())
            .limit(limit)
        )
    )


def customer_by_identifier(kind: str, value: str) -> Customer | None:
    return db.session.scalar(
        select(Customer)
        .join(CustomerIdentifier)
        .where(CustomerIdentifier.kind == kind, CustomerIdentifier.value == value)
    )
