"""The rules that change customers, run inside the bills' own transactions (the caller commits)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from dashboard import audit
from dashboard import messages as msg
from dashboard.db import UTCDateTime, db
from dashboard.models import Bill, BillState, Customer, CustomerIdentifier, CustomerTerm, User

NOTE_MAX = 1000
_WORD = re.compile(r"[^\W_]+")  # a name's words: letters and digits, accents included


def terms_of(name: str | None, identifiers: Iterable[tuple[str, str]]) -> set[str]:
    """The words a customer is found by: each word of the name, each identifier whole, an
    e-mail's part before the @, and a phone number's last digits as typed at a counter."""
    found = {word.casefold() for word in _WORD.findall(name or "")}
    for kind, value in identifiers:
        value = value.casefold()
        found.add(value)
        if kind == "email":
            found.add(value.split("@", 1)[0])
    return {term[:160] for term in found if term}


def _write_terms(customer: Customer) -> None:
    wanted = terms_of(customer.name, [(i.kind, i.value) for i in customer.identifiers])
    db.session.execute(delete(CustomerTerm).where(CustomerTerm.customer_id == customer.id))
    if wanted:
        db.session.execute(
            insert(CustomerTerm), [{"term": t, "customer_id": customer.id} for t in sorted(wanted)]
        )


def _owner(kind: str, value: str) -> Customer | None:
    return db.session.scalar(
        select(Customer)
        .join(CustomerIdentifier)
        .where(CustomerIdentifier.kind == kind, CustomerIdentifier.value == value)
    )


@dataclass(frozen=True)
class KnownPayer:
    """A payer billed before: their customer, and every identifier that customer is known by."""

    customer_id: int
    identifiers: frozenset[tuple[str, str]]


_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
# A bill counted (built once: the statement's construction costs more than its run).
_BILLED_AT = bindparam("at_", type_=UTCDateTime())
_COUNT_BILL = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.id == bindparam("customer_id_"))
    .values(
        bills_count=_CUSTOMERS.c.bills_count + 1,
        first_bill_at=func.coalesce(_CUSTOMERS.c.first_bill_at, _BILLED_AT),
        last_bill_at=_BILLED_AT,
    )
)


def known_payer_rows(kind: Any, value: Any) -> Select[Any]:
    """The rows of ``known_payer`` (customer_id, kind, value): one per identifier of the
    customer known by this one. A statement, so a caller can ask it with another read."""
    found = CustomerIdentifier.__table__
    same = found.alias("same_customer")
    return (
        select(same.c.customer_id, same.c.kind, same.c.value)
        .select_from(found.join(same, same.c.customer_id == found.c.customer_id))
        .where(found.c.kind == kind, found.c.value == value)
    )


def known_payer_from(rows: Sequence[Sequence[Any]]) -> KnownPayer | None:
    """``known_payer_rows``' answer, (customer_id, kind, value) rows, as a KnownPayer (None for
    a payer never billed)."""
    if not rows:
        return None
    return KnownPayer(rows[0][0], frozenset((row[1], row[2]) for row in rows))


def known_payer(kind: str, value: str) -> KnownPayer | None:
    """The customer already known by this identifier, with all its identifiers (None for a
    payer never billed)."""
    return known_payer_from(db.session.execute(known_payer_rows(kind, value)).all())


def _customer_for(kind: str, value: str) -> Customer:
    """The customer known by this identifier, created with it when new. Two bills for a new
    payer at once: the second insert meets the unique index and finds the first one's row."""
    found = _owner(kind, value)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            customer = Customer(bills_count=0, paid_amount=0)
            db.session.add(customer)
            db.session.flush()
            db.session.add(CustomerIdentifier(customer_id=customer.id, kind=kind, value=value))
            db.session.flush()
            db.session.refresh(customer)
            _write_terms(customer)
    except IntegrityError:
        found = _owner(kind, value)
        if found is None:
            raise
        return found
    return customer


def record_bill(bill: Bill, known: KnownPayer | None = None) -> int:
    """Tie a bill being issued to its payer's customer, and count it; returns the customer's id.
    ``known``: the payer's customer the caller found just before (``known_payer``), not looked
    up again."""
    if known is not None:
        customer_id = known.customer_id
    else:
        customer_id = _customer_for(bill.payer_kind, bill.payer).id
    if bill.customer_id != customer_id:  # written with the bill when the payer was known
        bill.customer_id = customer_id
    # A plain statement on the table: no flush of the session first.
    db.session.execute(_COUNT_BILL, {"customer_id_": customer_id, "at_": bill.created_at})
    return customer_id


def record_paid(bill: Bill) -> None:
    """Add a bill that just turned Paid to its customer's figures (one increment, no read)."""
    if bill.customer_id is None:
        return
    db.session.execute(
        update(Customer)
        .where(Customer.id == bill.customer_id)
        .values(paid_amount=Customer.paid_amount + bill.amount)
    )


def learn_identity(
    bill: Bill,
    *,
    name: str | None = None,
    identifiers: Iterable[tuple[str, str]] = (),
    known: KnownPayer | None = None,
) -> None:
    """What iHela told us of a bill's payer: their name, and the other identifiers of the same
    iHela account. A customer already known by one of those is the same person: one customer.

    ``known``: the bill's customer as this request read it (``known_payer``). An identifier of
    a customer only ever leaves it when that customer is merged away (``_merge``), after which
    there is nothing to learn for it either: when iHela names none it lacked, nothing is read."""
    if bill.customer_id is None:
        return
    identifiers = list(identifiers)
    if (
        not name
        and known is not None
        and known.customer_id == bill.customer_id
        and known.identifiers.issuperset(identifiers)
    ):
        return  # the usual case (a payer billed before): nothing new, nothing read
    if not name and _all_known(bill.customer_id, identifiers):
        return  # nothing new, one query
    customer = db.session.get(Customer, bill.customer_id)
    if customer is None:
        return
    changed = False
    if name and not customer.name:
        customer.name, changed = name.strip()[:160], True
    for kind, value in identifiers:
        owner = _owner(kind, value)
        if owner is None:
            db.session.add(CustomerIdentifier(customer_id=customer.id, kind=kind, value=value))
            changed = True
        elif owner.id != customer.id:
            customer = _merge(keep=customer, other=owner)
            changed = True
    if changed:
        db.session.flush()
        db.session.refresh(customer)
        _write_terms(customer)


def _all_known(customer_id: int, identifiers: list[tuple[str, str]]) -> bool:
    """Whether every one of ``identifiers`` is already this customer's."""
    if not identifiers:
        return True
    wanted = set(identifiers)
    owners = db.session.execute(
        select(
            CustomerIdentifier.kind, CustomerIdentifier.value, CustomerIdentifier.customer_id
        ).where(
            or_(
                *(
                    and_(CustomerIdentifier.kind == kind, CustomerIdentifier.value == value)
                    for kind, value in sorted(wanted)
                )
            )
        )
    ).all()
    return len(owners) == len(wanted) and all(row.customer_id == customer_id for row in owners)


def _merge(*, keep: Customer, other: Customer) -> Customer:
    """Fold ``other`` into ``keep``: identifiers, bills, figures and notes; then delete it."""
    gone = other
    db.session.execute(
        update(CustomerIdentifier)
        .where(CustomerIdentifier.customer_id == gone.id)
        .values(customer_id=keep.id)
    )
    db.session.execute(update(Bill).where(Bill.customer_id == gone.id).values(customer_id=keep.id))
    db.session.execute(delete(CustomerTerm).where(CustomerTerm.customer_id == gone.id))
    keep.bills_count += gone.bills_count
    keep.paid_amount += gone.paid_amount
    keep.first_bill_at = _earliest(keep.first_bill_at, gone.first_bill_at)
    keep.last_bill_at = _latest(keep.last_bill_at, gone.last_bill_at)
    keep.name = keep.name or gone.name
    if gone.note:
        keep.note = f"{keep.note}\n{gone.note}" if keep.note else gone.note
    audit.record(
        "customer.merged",
        actor_label="iHela",
        object_type="customer",
        object_id=keep.id,
        summary=msg.coded("audit.customer_merged", merged=gone.id),
    )
    db.session.flush()
    db.session.delete(gone)
    db.session.flush()
    return keep


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if a or b else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if a or b else None


def set_note(customer: Customer, note: str, *, by: User) -> None:
    """An accountant's or admin's note on a customer (audited)."""
    customer.note = note.strip()[:NOTE_MAX] or None
    audit.record(
        "customer.note_changed",
        actor=by,
        object_type="customer",
        object_id=customer.id,
        summary=msg.coded("audit.customer_note"),
    )
    db.session.commit()


def link_unlinked_bills(chunk: int = 500) -> int:
    """Bills issued before the directory existed: tie each to its customer and count it, a
    chunk per transaction (run again after a stop: it goes on where it was)."""
    linked = 0
    while True:
        bills = list(
            db.session.scalars(
                select(Bill).where(Bill.customer_id.is_(None)).order_by(Bill.id).limit(chunk)
            )
        )
        for bill in bills:
            record_bill(bill)
            if bill.status == BillState.PAID:
                record_paid(bill)
            if bill.payer_name:
                learn_identity(bill, name=bill.payer_name)
        db.session.commit()
        linked += len(bills)
        if len(bills) < chunk:
            return linked


def name_from_lookup(bill: Bill, name: str) -> None:
    """iHela named the holder of the payer's account (a refund's look-up): the customer's name,
    when the directory has none yet."""
    if name.strip():
        learn_identity(bill, name=name)
        db.session.commit()
