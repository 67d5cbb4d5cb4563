"""Reads of the bills lists: filters, pages, totals (moved unchanged from services.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    func,
    select,
)

from dashboard import summaries
from dashboard.bills.services import (
    _WHOLE_CODE,
    _WHOLE_REFERENCE,
    FOLLOWED_STATES,
    outcome_unknown_clause,
)
from dashboard.db import db, utcnow
from dashboard.models import (
    STUCK_AFTER,
    Bill,
    BillAllTimeTotal,
    BillDayTotal,
    BillEvent,
    BillMonthTotal,
    BillState,
)
from dashboard.paging import Page, keyset_page, sortable
from dashboard.search import SEARCH_INDEX_MIN, TextIndex, bounded_matches


@dataclass
class BillFilters:
    status: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    issued_by: int | None = None
    search: str = ""


@dataclass
class BillPage:
    bills: list[Any]  # rows of LIST_COLUMNS
    total_count: int
    total_amount: int
    paid_amount: int = 0
    pending_amount: int = 0
    # False when a search matches more than SEARCH_TOTALS_MAX bills: total_count is then that
    # bound ("more than"), and the francs are not summed.
    totals_known: bool = True
    newer: int | None = None  # the id the "newer" link carries; None on the newest page
    older: int | None = None  # the id the "older" link carries; None on the oldest page


# The staff banner counts unknown bills up to this, then says "at least": on every staff page,
# a shop with thousands of them left unresolved should not pay for counting each one.
UNKNOWN_BANNER_MAX = 100


def _unknown_waiting_counts() -> tuple[Select[Any], ...]:
    # One count per state: each is a range of the (status, created_at) index, where an OR of
    # the two would read the whole table (this runs on every staff page). A bill issued again
    # still counts: its first request may still be paid, until a person settles it.
    unknown = select(Bill.id).where(Bill.status == BillState.UNKNOWN)
    stuck = select(Bill.id).where(
        Bill.status == BillState.CREATING, Bill.created_at < bindparam("stuck_before")
    )
    return tuple(
        select(func.count()).select_from(query.limit(bindparam("bound")).subquery())
        for query in (unknown, stuck)
    )


# Built once: composing them cost more than running them (they run on every staff page).
_UNKNOWN_WAITING_COUNTS = _unknown_waiting_counts()


def unknown_bills_waiting() -> int:
    """Bills whose outcome is unknown (the staff banner), up to UNKNOWN_BANNER_MAX. Issuing one
    again does not settle it: it stays until a person records what became of it (or its iHela
    code is known and it is followed again)."""
    found = 0
    for query in _UNKNOWN_WAITING_COUNTS:
        params = {"bound": UNKNOWN_BANNER_MAX - found, "stuck_before": utcnow() - STUCK_AFTER}
        found += int(db.session.scalar(query, params) or 0)
        if found >= UNKNOWN_BANNER_MAX:
            break
    return found


def list_freshness() -> tuple[datetime | None, int]:
    """For the open list, in one round trip: the oldest last check among followed bills (every
    status shown is at least this fresh) and the stamp of the latest change (latest_change).

    The oldest check is read one state at a time, so the index on (status, last_checked_at)
    gives each minimum at once (an IN over both states makes the databases read every
    pending bill)."""
    oldest = (
        select(func.min(Bill.last_checked_at))
        .where(
            Bill.status == state,
            # min() skips NULLs anyway; said, it lets the index skip never-checked bills.
            Bill.last_checked_at.is_not(None),
            # A pending bill always has its iHela code; an unknown one only if followed.
            *([Bill.code.is_not(None)] if state != BillState.PENDING else []),
        )
        .scalar_subquery()
        for state in FOLLOWED_STATES
    )
    *checks, stamp = db.session.execute(select(*oldest, _latest_change.scalar_subquery())).one()
    known = [moment for moment in checks if moment is not None]
    return (min(known) if known else None), stamp or 0


# What the list shows: the JSON gateway replies and errors stay in the database.
LIST_COLUMNS = (
    Bill.id,
    Bill.created_at,
    Bill.merchant_reference,
    Bill.payer,
    Bill.description,
    Bill.amount,
    Bill.status,
)


# A search matching more bills than this shows "more than 1 000 bills" rather than exact totals:
# summing each match's francs means reading every one of them from the table (thousands, for a
# common first name), where the page itself needs only the newest 50.
SEARCH_TOTALS_MAX = 1_000


# Bills whose reference, code, payer or description contains the search, any case: the same
# rows as ``lower(column) LIKE '%search%'`` on each column, found through ix_bills_search_trgm
# (PostgreSQL, on this very function: migration a6667115a006) or bills_search (SQLite FTS5).
BILL_TEXT = TextIndex(
    columns=(Bill.merchant_reference, Bill.code, Bill.payer, Bill.description),
    pg_function="bill_search_text",
    fts_table="bills_search",
    ident=Bill.id,
    sample_table="bill_search_sample",
    sample_every=8,
)


def _filtered(query: Select[Any], filters: BillFilters, *, many: bool = False) -> Select[Any]:
    if filters.status == BillState.UNKNOWN:
        query = query.where(outcome_unknown_clause())
    elif filters.status:
        query = query.where(Bill.status == filters.status)
    if filters.date_from:
        query = query.where(Bill.created_at >= filters.date_from)
    if filters.date_to:
        query = query.where(Bill.created_at < filters.date_to)
    if filters.issued_by:
        query = query.where(Bill.issued_by_id == filters.issued_by)
    if filters.search:
        search = filters.search.strip()
        # A whole reference or bill code is what a cashier usually pastes: an index finds it.
        if _WHOLE_REFERENCE.fullmatch(search):
            return query.where(Bill.merchant_reference == search.upper())
        if _WHOLE_CODE.fullmatch(search):
            return query.where(Bill.code == search.upper())
        query = query.where(BILL_TEXT.matches(search, many=many))
    return query


Totals = dict[str, tuple[int, int]]  # status -> (bills, francs)


# The filters bill_day_totals can answer; any other (a new one too) is counted from the bills.
_SUMMARISED = {"status", "date_from", "date_to", "issued_by", "search"}


def _counted(filters: BillFilters) -> Totals:
    """Totals read from the bills themselves: for sets an index bounds (a search, a part day)."""
    counts: Any = select(
        Bill.status, func.count(), func.coalesce(func.sum(Bill.amount), 0)
    ).group_by(Bill.status)
    rows = db.session.execute(_filtered(counts, filters))
    return {status: (int(count), int(amount)) for status, count, amount in rows}


def bill_source(
    *,
    statuses: tuple[str, ...] = (),
    issued_by: int | None = None,
    keys: tuple[str, ...] = ("status",),
) -> summaries.Source:
    """Totals of bills (of these states, by this person; everyone's if None), grouped by
    ``keys`` (columns every summary has), from bill_day_totals, bill_month_totals and
    bill_all_time_totals."""

    def levels(model: Any) -> tuple[list[Any], list[Any]]:
        conditions = []
        if len(statuses) == 1:  # an equality leads the (status, created_at, id) index
            conditions.append(model.status == statuses[0])
        elif statuses:
            conditions.append(model.status.in_(statuses))
        if issued_by is not None:
            conditions.append(model.issued_by_id == issued_by)
        return [getattr(model, key) for key in keys], conditions

    day_keys, day_where = levels(BillDayTotal)
    month_keys, month_where = levels(BillMonthTotal)
    ever_keys, ever_where = levels(BillAllTimeTotal)
    row_keys, row_where = levels(Bill)
    day = (BillDayTotal.day, BillDayTotal.bills, BillDayTotal.amount, day_keys, day_where)
    return summaries.Source(
        days=summaries.summary_reader(*day),
        months=summaries.summary_reader(
            BillMonthTotal.month,
            BillMonthTotal.bills,
            BillMonthTotal.amount,
            month_keys,
            month_where,
        ),
        slices=summaries.slice_reader(Bill.created_at, Bill.amount, row_keys, row_where),
        by_day=summaries.per_day_reader(*day),
        ever=summaries.all_time_reader(
            BillAllTimeTotal.bills, BillAllTimeTotal.amount, ever_keys, ever_where
        ),
    )


def _totals(filters: BillFilters) -> Totals:
    """Count and francs per status of the whole filtered set, without reading every bill: from
    the day and month summaries and a few hours of rows at each end (dashboard/summaries.py).
    A search, or a filter the summaries do not have, is counted on the rows an index finds.
    """
    if filters.search or any(
        getattr(filters, f.name) for f in fields(filters) if f.name not in _SUMMARISED
    ):
        return _counted(filters)  # a filter the summaries cannot answer
    unknown = filters.status == BillState.UNKNOWN
    statuses: tuple[str, ...] = ()
    if unknown:  # unknown, and "creating" for longer than any gateway call takes
        statuses = (BillState.UNKNOWN.value, BillState.CREATING.value)
    elif filters.status:
        statuses = (filters.status,)
    source = bill_source(statuses=statuses, issued_by=filters.issued_by)
    totals = summaries.range_totals(source, filters.date_from, filters.date_to)
    if unknown:
        # Bills still being created (the last two minutes) are not of unknown outcome yet.
        since = utcnow() - STUCK_AFTER
        if filters.date_from is not None:
            since = max(since, filters.date_from)
        if filters.date_to is None or since < filters.date_to:
            young = replace(filters, status=BillState.CREATING.value, date_from=since)
            summaries.add(totals, _counted(young), -1)
    return {str(status): value for status, value in summaries.nonzero(totals).items()}


def _bill_page(by_status: Totals | None, page: Page) -> BillPage:
    # A total that mixes paid with rejected or unknown bills would mean nothing to anyone:
    # the page shows the count of all, and the francs paid and waiting.
    if by_status is None:  # a search with more than SEARCH_TOTALS_MAX matches
        return BillPage(
            page.rows, SEARCH_TOTALS_MAX, 0, totals_known=False, newer=page.newer, older=page.older
        )
    return BillPage(
        page.rows,
        sum(count for count, _ in by_status.values()),
        sum(amount for _, amount in by_status.values()),
        paid_amount=by_status.get(BillState.PAID, (0, 0))[1],
        pending_amount=by_status.get(BillState.PENDING, (0, 0))[1],
        newer=page.newer,
        older=page.older,
    )


def _indexed_search(filters: BillFilters) -> bool:
    """A free-text search a trigram index serves (not a whole reference or code)."""
    search = filters.search.strip()
    return not (
        len(search) < SEARCH_INDEX_MIN
        or _WHOLE_REFERENCE.fullmatch(search)
        or _WHOLE_CODE.fullmatch(search)
    )


def _search_matches(filters: BillFilters) -> list[tuple[Any, ...]] | None:
    """(created_at, id, status, amount) of each bill a free-text search matches, or None when
    more than SEARCH_TOTALS_MAX: one read of at most that many matches through the text index."""
    alone = not any(getattr(filters, f.name) for f in fields(filters) if f.name != "search")
    matches: Any = select(sortable(Bill.created_at), Bill.id, Bill.status, Bill.amount)
    return bounded_matches(
        _filtered(matches, filters),
        BILL_TEXT,
        filters.search.strip(),
        alone=alone,
        bound=SEARCH_TOTALS_MAX,
    )


def _list_totals(filters: BillFilters) -> tuple[Totals | None, list[tuple[Any, int]] | None]:
    """The totals per status (None past SEARCH_TOTALS_MAX search matches) and, for a free-text
    search with fewer, the keys (created_at, id) of its matches."""
    if not _indexed_search(filters):
        return _totals(filters), None
    rows = _search_matches(filters)
    if rows is None:
        return None, None
    totals: Totals = {}
    for _, _, status, amount in rows:
        count, francs = totals.get(str(status), (0, 0))
        totals[str(status)] = (count + 1, francs + int(amount))
    return totals, [(created_at, ident) for created_at, ident, _, _ in rows]


def list_totals(filters: BillFilters) -> BillPage:
    """The count and francs of the filtered list alone (no rows): what the open list's poll
    sends when a bill changed."""
    return _bill_page(_list_totals(filters)[0], Page())


def list_bills(
    filters: BillFilters, *, size: int, older: int | None = None, newer: int | None = None
) -> BillPage:
    """One page of bills, newest first (just older than bill ``older``, or just newer than bill
    ``newer``), with the count and francs of the whole filtered set (for a search with more
    than SEARCH_TOTALS_MAX matches, only that there are more)."""
    by_status, found = _list_totals(filters)
    many = by_status is None
    columns: Any = select(*LIST_COLUMNS)
    query = _filtered(columns, filters, many=many)
    parts = None
    if found is not None:  # a search's few matches, read already: the page is among them
        query = columns
    elif filters.status == BillState.UNKNOWN:
        # Unknown, and stuck "creating": each state its own range of the (status, created_at,
        # id) index, merged in order (an OR of the two made the databases sort all of them).
        rest = _filtered(columns, replace(filters, status=""), many=many)
        parts = [
            rest.where(Bill.status == BillState.UNKNOWN),
            rest.where(Bill.status == BillState.CREATING, Bill.created_at < utcnow() - STUCK_AFTER),
        ]
    page = keyset_page(
        query,
        (Bill.created_at, Bill.id),
        size=size,
        older=older,
        newer=newer,
        columns=True,  # rows, not Bill objects: 50 of them built for a table's lines
        parts=parts,
        known=found,
    )
    return _bill_page(by_status, page)


_latest_change = select(func.max(BillEvent.id))


def latest_change() -> int:
    """A stamp that moves whenever any bill is issued or changes state (the newest history row:
    the primary key's index answers it without reading the table)."""
    return db.session.scalar(_latest_change) or 0


def changed_since(stamp: int, *, limit: int = 50) -> list[tuple[Bill, bool]]:
    """Bills that changed after ``stamp``, newest first, each with whether it was paid then."""
    rows = db.session.execute(
        select(BillEvent.bill_id, func.max(BillEvent.id))
        .where(BillEvent.id > stamp)
        .group_by(BillEvent.bill_id)
        .order_by(func.max(BillEvent.id).desc())
        .limit(limit)
    ).all()
    ids = [bill_id for bill_id, _ in rows]
    paid = set(
        db.session.scalars(
            select(BillEvent.bill_id).where(
                BillEvent.id > stamp,
                BillEvent.bill_id.in_(ids),
                BillEvent.to_status == BillState.PAID,
            )
        )
    )
    bills = {b.id: b for b in db.session.scalars(select(Bill).where(Bill.id.in_(ids)))}
    return [(bills[i], i in paid) for i in ids if i in bills]
