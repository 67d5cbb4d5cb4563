"""Reads of the cashins lists: filters, pages, totals (moved unchanged from services.py)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, select, union_all

from dashboard import search as lists
from dashboard import summaries
from dashboard.cashins.services import (
    NEEDS_CHECKING,
    _needs_checking_condition,
    _needs_checking_parts,
)
from dashboard.db import db
from dashboard.labels import REASONS
from dashboard.models import (
    Cashin,
    CashinAllTimeTotal,
    CashinBank,
    CashinDayTotal,
    CashinMonthTotal,
    CashinState,
)
from dashboard.paging import Page, keyset_page, sortable
from dashboard.search import TextIndex, bitmap_scan, bounded_sums


@dataclass
class CashinFilters:
    """What the cash-ins list (and its export) shows; empty means "any"."""

    status: str = ""
    search: str = ""  # beneficiary's name, account or reference
    bank_slug: str = ""
    prepared_by: int | None = None
    reason: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive


# Query-string names of the list's filters (kept by the pager and the export link).
LIST_FILTERS = ("q", "status", "bank", "prepared_by", "reason", "from", "to")


def parse_list_filters(
    args: Mapping[str, str], timezone: str
) -> tuple[CashinFilters, dict[str, str]]:
    """The list's filters from a query string, and the field errors (codes) of the dates."""
    status = args.get("status", "")
    reason = args.get("reason", "")
    prepared_by = args.get("prepared_by", "")
    filters = CashinFilters(
        status=status if status in {*CashinState, NEEDS_CHECKING} else "",
        search=" ".join(args.get("q", "").split())[:100],
        bank_slug=args.get("bank", "").strip().upper()[:20],
        prepared_by=int(prepared_by) if prepared_by.isdigit() and len(prepared_by) < 10 else None,
        reason=reason if reason in REASONS else "",
    )
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = args.get(name, "").strip()
        days[name] = None
        if text:
            try:
                days[name] = _day(text)
            except ValueError:
                errors[name] = "bad_date"
    first, last = days["from"], days["to"]
    if first and last and first > last:
        errors["to"] = "before_from"
    elif not errors:
        zone = ZoneInfo(timezone)
        if first:
            filters.date_from = datetime.combine(first, time.min, zone)
        if last:
            filters.date_to = datetime.combine(last + timedelta(days=1), time.min, zone)
    return filters, errors


def _day(text: str) -> date:
    day = datetime.strptime(text, "%Y-%m-%d").date()
    if not 2000 <= day.year <= 2100:  # keeps date arithmetic away from year 1 and 9999
        raise ValueError(text)
    return day


def filtered_cashins(
    query: Select[Any], filters: CashinFilters, *, many: bool = False
) -> Select[Any]:
    """``query`` narrowed to the cash-ins ``filters`` names (``many``: see TextIndex.matches)."""
    if filters.status == NEEDS_CHECKING:
        query = query.where(_needs_checking_condition())
    elif filters.status:
        query = query.where(Cashin.status == filters.status)
    if filters.bank_slug:
        query = query.where(Cashin.bank_slug == filters.bank_slug)
    if filters.prepared_by is not None:
        query = query.where(Cashin.created_by_id == filters.prepared_by)
    if filters.reason:
        query = query.where(Cashin.reason == filters.reason)
    if filters.date_from is not None:
        query = query.where(Cashin.created_at >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Cashin.created_at < filters.date_to)
    if filters.search:
        # Through the trigram index (typed % and _ are searched for as such).
        query = query.where(CASHIN_TEXT.matches(filters.search, many=many))
    return query


# The cash-ins list's search: holder, account, reference and iHela's reference (f1701a0a0001).
CASHIN_TEXT = TextIndex(
    columns=(
        Cashin.holder_name,
        Cashin.account,
        Cashin.merchant_reference,
        Cashin.gateway_reference,
    ),
    pg_function="cashin_search_text",
    fts_table="cashins_search",
    ident=Cashin.id,
    # One in four: a search narrowed by a bank is told there too (it holds the bank).
    sample_table="cashin_search_sample",
    sample_every=4,
    sample_holds=("bank_slug",),
)


@dataclass(frozen=True)
class CashinTotals:
    count: int
    amount: int  # every cash-in the filter shows, whatever its status
    sent_amount: int  # of which iHela confirmed sent
    # False when a search (or "needs checking") matches more than COUNT_BOUND cash-ins: count
    # is then that bound and the francs are not shown.
    known: bool = True
    # A search's matches when they are few (known): the list's page is found among these ids
    # rather than through the text index a second time (see dashboard/search.py): their keys
    # (created_at, id).
    found: tuple[tuple[Any, int], ...] | None = field(default=None, compare=False, repr=False)


ONE_DAY = timedelta(days=1)


def cashin_source(
    *,
    statuses: tuple[str, ...] = (),
    reason: str = "",
    bank_slug: str = "",
    created_by: int | None = None,
    keys: tuple[str, ...] = ("status",),
) -> summaries.Source:
    """Totals of cash-ins from cashin_day_totals (status, reason), cashin_month_totals and
    cashin_all_time_totals (also bank and preparer). Filtered by bank or preparer, the days of
    part months are counted from the rows, on that filter's (…, created_at) index: at most two
    months of one bank's or one person's cash-ins."""

    def levels(model: Any) -> tuple[list[Any], list[Any]]:
        conditions = []
        if statuses:
            conditions.append(model.status.in_(statuses))
        if reason:
            conditions.append(model.reason == reason)
        if bank_slug and model is not CashinDayTotal:
            conditions.append(model.bank_slug == bank_slug)
        if created_by is not None and model is not CashinDayTotal:
            conditions.append(model.created_by_id == created_by)
        return [getattr(model, key) for key in keys], conditions

    row_keys, row_where = levels(Cashin)
    slices = summaries.slice_reader(Cashin.created_at, Cashin.amount, row_keys, row_where)
    month_keys, month_where = levels(CashinMonthTotal)
    months = summaries.summary_reader(
        CashinMonthTotal.month,
        CashinMonthTotal.cashins,
        CashinMonthTotal.amount,
        month_keys,
        month_where,
    )
    ever_keys, ever_where = levels(CashinAllTimeTotal)
    ever = summaries.all_time_reader(
        CashinAllTimeTotal.cashins, CashinAllTimeTotal.amount, ever_keys, ever_where
    )
    if bank_slug or created_by is not None:

        def days_from_rows(first: date | None, end: date | None) -> summaries.Totals:
            assert first is not None and end is not None  # part months only
            span = (summaries.utc_midnight(first), summaries.utc_midnight(end))
            return slices([span])[0]

        def by_day_from_rows(first: date, end: date) -> dict[date, summaries.Totals]:
            days = [first + timedelta(days=n) for n in range((end - first).days)]
            spans = [(summaries.utc_midnight(d), summaries.utc_midnight(d) + ONE_DAY) for d in days]
            return dict(zip(days, slices(spans), strict=True)) if spans else {}

        return summaries.Source(
            days=days_from_rows, months=months, slices=slices, by_day=by_day_from_rows, ever=ever
        )
    day_keys, day_where = levels(CashinDayTotal)
    day = (CashinDayTotal.day, CashinDayTotal.cashins, CashinDayTotal.amount, day_keys, day_where)
    return summaries.Source(
        days=summaries.summary_reader(*day),
        months=months,
        slices=slices,
        by_day=summaries.per_day_reader(*day),
        ever=ever,
    )


def _as_totals(by_status: dict[Any, tuple[int, int]]) -> CashinTotals:
    return CashinTotals(
        sum(count for count, _ in by_status.values()),
        sum(amount for _, amount in by_status.values()),
        by_status.get(CashinState.SUCCEEDED.value, (0, 0))[1],
    )


def cashin_totals(filters: CashinFilters) -> CashinTotals:
    """Count and francs of everything the filter shows: from the summaries (dashboard/
    summaries.py); a search or "needs checking" counts its matches up to COUNT_BOUND."""
    if filters.search or filters.status == NEEDS_CHECKING:
        columns: Any = select(sortable(Cashin.created_at), Cashin.id, Cashin.status, Cashin.amount)
        matches: Any = filtered_cashins(columns, filters)
        if filters.status == NEEDS_CHECKING:  # each part through its index (see list_cashins)
            rest = replace(filters, status="")
            matches = union_all(
                *(filtered_cashins(columns, rest).where(*p) for p in _needs_checking_parts())
            )
        if not CASHIN_TEXT.indexed(filters.search):  # no search, or too short for the index
            sums = bounded_sums(matches, "status", "amount")
            if sums is None:
                return CashinTotals(lists.COUNT_BOUND, 0, 0, known=False)
            return _as_totals(sums)
        # The search alone, or with a bank: the sample table may tell a broad one cheaply.
        held = (
            ({"bank_slug": filters.bank_slug} if filters.bank_slug else {})
            if filters == CashinFilters(search=filters.search, bank_slug=filters.bank_slug)
            else None
        )
        rows = lists.bounded_matches(matches, CASHIN_TEXT, filters.search, held=held)
        if rows is None:
            return CashinTotals(lists.COUNT_BOUND, 0, 0, known=False)
        by_status: dict[Any, tuple[int, int]] = {}
        for _, _, status, amount in rows:
            count, francs = by_status.get(str(status), (0, 0))
            by_status[str(status)] = (count + 1, francs + int(amount))
        found = tuple((created_at, ident) for created_at, ident, _, _ in rows)
        return replace(_as_totals(by_status), found=found)
    source = cashin_source(
        statuses=(filters.status,) if filters.status else (),
        reason=filters.reason,
        bank_slug=filters.bank_slug,
        created_by=filters.prepared_by,
    )
    totals = summaries.range_totals(source, filters.date_from, filters.date_to)
    return _as_totals({str(k): v for k, v in totals.items()})


def cashin_banks() -> list[tuple[str, str]]:
    """(slug, name) of every bank a cash-in went to, for the list's bank filter (a small table
    the database keeps, not the cash-ins themselves)."""
    rows = db.session.execute(select(CashinBank.slug, CashinBank.name))
    return sorted(((str(slug), str(name)) for slug, name in rows), key=lambda b: b[1].lower())


# What the list shows of each cash-in: rows of these columns, not Cashin objects (50 of them
# built for a table's lines).
LIST_COLUMNS = (
    Cashin.id,
    Cashin.created_at,
    Cashin.merchant_reference,
    Cashin.holder_name,
    Cashin.bank_name,
    Cashin.account,
    Cashin.amount,
    Cashin.status,
    # As Cashin.has_open_conflict says.
    and_(Cashin.late_outcome.is_not(None), Cashin.late_checked_at.is_(None)).label(
        "has_open_conflict"
    ),
)


def list_cashins(
    filters: CashinFilters,
    *,
    size: int,
    older: int | None = None,
    newer: int | None = None,
    many: bool = True,
    found: tuple[tuple[Any, int], ...] | None = None,
) -> Page:
    """One page of cash-ins, newest first (keyset: just older or newer than a given one).
    ``many``: a search matches more than COUNT_BOUND (as CashinTotals.known says): walk the
    newest first; else read the few matches through the search index. ``found``: those few
    matches, read already (CashinTotals.found): the page is found among their ids."""
    query: Any = select(*LIST_COLUMNS)
    keys = (Cashin.created_at, Cashin.id)
    if found is not None:
        return keyset_page(
            query, keys, size=size, older=older, newer=newer, columns=True, known=found
        )
    if filters.status == NEEDS_CHECKING:
        return _needs_checking_page(filters, keys, size=size, older=older, newer=newer, many=many)
    query = filtered_cashins(query, filters, many=many)
    with bitmap_scan() if CASHIN_TEXT.indexed(filters.search) and not many else nullcontext():
        return keyset_page(query, keys, size=size, older=older, newer=newer, columns=True)


def _needs_checking_page(
    filters: CashinFilters,
    keys: tuple[Any, ...],
    *,
    size: int,
    older: int | None,
    newer: int | None,
    many: bool,
) -> Page:
    """The cash-ins that need checking: each part of the condition its own index range, merged
    in order (their OR made the databases read the whole table). The parts select only the
    keys (the union of three whole rows cost some 4 ms of SQLAlchemy's own work to build, and
    loaded every column); the page's rows are then read by id."""
    columns = select(*keys)
    rest = filtered_cashins(columns, replace(filters, status=""), many=many)
    *ranges, conflicts = _needs_checking_parts()
    parts = [rest.where(*part) for part in ranges]
    # The open conflicts are a handful (a partial index holds them), but for this part's
    # ORDER BY created_at LIMIT SQLite walks every cash-in newest first (10 ms at 20 000
    # cash-ins): found by id through that index, then sorted.
    parts.append(rest.where(Cashin.id.in_(select(Cashin.id).where(*conflicts).correlate(None))))
    with bitmap_scan() if CASHIN_TEXT.indexed(filters.search) and not many else nullcontext():
        # With parts, keyset_page reads only them (``rest`` is not run).
        page = keyset_page(
            rest, keys, size=size, older=older, newer=newer, parts=parts, columns=True
        )
    if page.rows:
        ids = [row.id for row in page.rows]
        found = db.session.execute(select(*LIST_COLUMNS).where(Cashin.id.in_(ids)))
        by_id = {row.id: row for row in found}
        page.rows = [by_id[ident] for ident in ids]
    return page
