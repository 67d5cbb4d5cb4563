"""Reading customers: suggestions while typing, the directory, one customer's page. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
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
PAGE_SIZE = 30
# Customers read for the first (longest) word when there are more words to check.
_CANDIDATES = 400
# A search of the directory shows at most this many customers (then: "add words").
SEARCH_BOUND = 100


def _prefix_range(typed: str) -> tuple[str, str] | None:
    """[typed, typed + 1) in the terms' byte order: one index range for "starts with"."""
    typed = " ".join(typed.split()).casefold()[:160]
    if not typed:
        return None
    return typed, typed[:-1] + chr(ord(typed[-1]) + 1)


def _term_range(word: str) -> Any:
    bounds = _prefix_range(word)
    assert bounds is not None
    return and_(CustomerTerm.term >= bounds[0], CustomerTerm.term < bounds[1])


def _matching_ids(typed: str, limit: int) -> list[int]:
    """Customers one of whose terms starts with each word typed, in the order of the terms.

    The longest word is read first, as one index range, for a bounded number of candidates;
    each other word then only checks those candidates: the work stays the same whatever the
    number of customers."""
    words = sorted({w for w in typed.split() if w}, key=len, reverse=True)
    if not words:
        return []
    candidates: list[int] = []
    reading = select(CustomerTerm.customer_id).where(_term_range(words[0]))
    wanted = _CANDIDATES if len(words) > 1 else limit
    # A customer's words rarely share a prefix more than twice (a name, an e-mail's first part).
    for customer_id in db.session.scalars(reading.order_by(CustomerTerm.term).limit(wanted * 2)):
        if customer_id not in candidates:
            candidates.append(customer_id)
        if len(candidates) == wanted:
            break
    for word in words[1:]:
        if not candidates:
            break
        also = set(
            db.session.scalars(
                select(CustomerTerm.customer_id).where(
                    CustomerTerm.customer_id.in_(candidates), _term_range(word)
                )
            )
        )
        candidates = [c for c in candidates if c in also]
    return candidates[:limit]


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


def list_customers(
    search: str = "", *, older: int | None = None, newer: int | None = None
) -> tuple[Page, bool]:
    """The directory, most recently billed first, a page at a time (keyset); with a search,
    among the first ``SEARCH_BOUND`` customers it finds. Also: whether the search hit the bound."""
    query = select(Customer).options(selectinload(Customer.identifiers))
    bounded = False
    if search.strip():
        ids = _matching_ids(search, limit=SEARCH_BOUND + 1)
        bounded = len(ids) > SEARCH_BOUND
        query = query.where(Customer.id.in_(ids[:SEARCH_BOUND] or [0]))
    page = keyset_page(
        query, (Customer.last_bill_at, Customer.id), size=PAGE_SIZE, older=older, newer=newer
    )
    return page, bounded


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
