"""The overview's figures in one statement: this month, today, the per-person tables and the
chart's days, for everyone (accountants) or one person (cashiers).

Every figure is a range of the merchant's local days, and all of them fall between the first
local midnight of the span (the month's first day or the chart's, whichever comes first) and
tomorrow's. With F(t) the total of everything created before t, a range [x, y) is
F(y) - F(x). For each local midnight b, D(b) is the UTC midnight nearest to it (at most twelve
hours away) and G(b) = F(b) - F(D(b)), the rows between the two, signed. Then

    [x, y) = the day summaries' rows of the UTC days [D(x), D(y)) + G(y) - G(x)

(as in dashboard/summaries.py). One statement reads, as the branches of a UNION ALL:

- the bill summaries summed over the month's UTC days (its month row, less the days after
  today, which hold nothing unless rows are dated ahead) and over today's, per person and
  status, and the paid bills per UTC day over the chart's span;
- the rows between each local midnight of the span and its nearest UTC midnight (each an index
  range on created_at): per person and status at the three midnights the month and today start
  and end on, the paid bills only at the others (the chart's);
- the same for cash-ins (the day summary per status and reason, the rows at every midnight);
  a cashier's own cash-ins (the day summary has no preparer) per local day, from the rows;
- for everyone's, the staff's names (the per-person tables').

The slices are parameters (arrays on PostgreSQL, a JSON array on SQLite), so the statement
depends only on the database and whose figures: it is built once per process and SQLAlchemy
compiles it once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

from dashboard import summaries
from dashboard.db import UTCDateTime, db
from dashboard.models import (
    Bill,
    BillDayTotal,
    BillMonthTotal,
    BillState,
    Cashin,
    CashinDayTotal,
    CashinState,
    User,
)
from dashboard.reports.services import (
    OVERVIEW_CASHIN_STATES,
    BillFigures,
    CashinFigures,
    DayFlow,
    Period,
    PersonFigures,
    all_of,
    cashin_figures_of,
    day_start,
    days_period,
    last_days,
    month_to_date,
)

PAID = BillState.PAID.value
SENT = CashinState.SUCCEEDED.value
COUNTED_CASHINS = tuple(s.value for s in OVERVIEW_CASHIN_STATES)

# The branches of the statement, told apart by their first column.
BILLS_MONTH, BILLS_TODAY, BILLS_CHART, BILL_EDGES = 0, 1, 2, 3
CASHINS_MONTH, CASHINS_TODAY, CASHINS_CHART, CASHIN_EDGES = 4, 5, 6, 7
MY_CASHINS = 8  # a cashier's own cash-ins sent, per local day of the chart
PAID_EDGES = 9  # the paid bills at the chart's other midnights
BILLS_MONTH_ROWS, BILLS_MONTH_LESS = 11, 12  # the month row, the days after today
NAMES = 10  # the staff's names (a small table: the lists' person filters read it whole too)


@dataclass
class Section:
    """Today or this month: the bills (everyone's or one person's), who issued them
    (everyone's only), and the cash-ins (everyone's only)."""

    period: Period
    bills: BillFigures
    people: list[PersonFigures]
    cashins: CashinFigures | None


@dataclass
class Overview:
    today: Section
    month: Section
    chart: Period
    flows: list[DayFlow]


# --- the statement ------------------------------------------------------------------------

# Every branch gives: branch, UTC day, slot (a slice's number), person, status, reason, count,
# amount. A key a branch does not have is a typed NULL (PostgreSQL's UNION wants the types).
Keys = tuple[Any | None, Any | None, Any | None]  # person, status, reason columns
KEY_TYPES = (Integer, String, String)


def _key_columns(keys: Keys) -> list[Any]:
    return [cast(null(), t) if k is None else k for k, t in zip(keys, KEY_TYPES, strict=True)]


def _head(branch: int, day: Any = None, slot: Any = None) -> list[Any]:
    return [
        literal_column(str(branch), Integer).label("branch"),
        cast(null(), Date).label("day") if day is None else day,
        cast(null(), Integer).label("slot") if slot is None else slot,
    ]


def _days_part(
    branch: int,
    count: Any,
    keys: Keys,
    first: str,
    where: tuple[Any, ...],
    end: str = "to",
    day: str = "day",
) -> Any:
    """Sums of a summary's rows of the days (or months) [first, end), per ``keys``."""
    model = count.class_
    column = getattr(model, day)
    return (
        select(
            *_head(branch),
            *_key_columns(keys),
            func.sum(count).label("n"),
            func.sum(model.amount).label("amount"),
        )
        .where(
            *where,
            column >= bindparam(first, type_=Date),
            column < bindparam(end, type_=Date),
        )
        .group_by(*(k for k in keys if k is not None))
    )


def _per_day_part(
    branch: int, dialect: str, model: Any, status: str, where: tuple[Any, ...]
) -> Any:
    """A day summary's francs of one status per UTC day of the chart (a parameter): each day
    a seek of the summary's (day, status, ...) key, not every row of the span."""
    if dialect == "postgresql":
        days: Any = model.day == func.any(bindparam("chart_days", type_=ARRAY(Date)))
    else:
        listed: Any = select(column("value")).select_from(
            func.json_each(bindparam("chart_days", type_=String))
        )
        days = model.day.in_(listed.scalar_subquery())
    return (
        select(
            *_head(branch, day=model.day),
            *_key_columns((None, None, None)),
            func.count(),
            func.sum(model.amount),
        )
        .where(*where, days, model.status == status)
        .group_by(model.day)
    )


def _slices_part(
    branch: int, dialect: str, model: Any, keys: Keys, where: tuple[Any, ...]
) -> list[Any]:
    """Counts and sums of the rows in each slice of time, per ``keys``: the slices are a
    parameter (numbered: each row says its slice's number), each an index range of
    ``model.created_at``, so the statement is the same whatever the slices."""
    if dialect == "postgresql":
        # The slices as arrays unnested, each read by a LATERAL subquery on the index.
        moment = DateTime(timezone=True)
        spans = (
            func.unnest(
                bindparam(f"b{branch}_slots", type_=ARRAY(Integer)),
                bindparam(f"b{branch}_starts", type_=ARRAY(moment)),
                bindparam(f"b{branch}_ends", type_=ARRAY(moment)),
            )
            .table_valued(column("slot", Integer), column("start", moment), column("end", moment))
            .render_derived(name=f"spans{branch}")
        )
        rows = (
            select(*(k.label(f"k{i}") for i, k in enumerate(keys) if k is not None), model.amount)
            .where(*where, model.created_at >= spans.c.start, model.created_at < spans.c.end)
            .offset(0)  # kept a subquery: run once per slice, on the index
            .lateral(f"rows{branch}")
        )
        columns = [None if k is None else rows.c[f"k{i}"] for i, k in enumerate(keys)]
        return [
            select(
                *_head(branch, slot=spans.c.slot),
                *_key_columns(tuple(columns)),  # type: ignore[arg-type]
                func.count(),
                func.sum(rows.c.amount),
            )
            .select_from(spans.join(rows, true()))
            .group_by(spans.c.slot, *(c for c in columns if c is not None))
        ]
    # SQLite: the slices as a JSON array of [number, start, end] read by json_each, the rows of
    # each found through the index (SQLite loops over the slices, then over the index's range).
    spans = (
        func.json_each(bindparam(f"b{branch}_spans", type_=String))
        .table_valued("value")
        .alias(f"spans{branch}")
    )
    slot = func.json_extract(spans.c.value, "$[0]")
    within = and_(
        model.created_at >= func.json_extract(spans.c.value, "$[1]"),
        model.created_at < func.json_extract(spans.c.value, "$[2]"),
    )
    return [
        select(
            *_head(branch, slot=slot),
            *_key_columns(keys),
            func.count(),
            func.sum(model.amount),
        )
        .select_from(spans.join(model, within))
        .where(*where)
        .group_by(slot, *(k for k in keys if k is not None))
    ]


@lru_cache(maxsize=8)
def _statement(dialect: str, everyone: bool) -> Any:
    """The one statement of an overview (everyone's or one person's)."""
    bill_day, cashin_day = BillDayTotal, CashinDayTotal
    mine: tuple[Any, ...] = () if everyone else (bill_day.issued_by_id == bindparam("person"),)
    bill_keys: Keys = (bill_day.issued_by_id, bill_day.status, None)
    my_bills: tuple[Any, ...] = () if everyone else (Bill.issued_by_id == bindparam("person"),)
    parts = [
        # The month so far: its month row, less the days after today (none, but for rows
        # dated ahead), plus the days before the month's first UTC midnight (a shop at UTC+13
        # starts its month the day before): a few rows whatever the day of the month.
        _days_part(
            BILLS_MONTH_ROWS,
            BillMonthTotal.bills,
            (BillMonthTotal.issued_by_id, BillMonthTotal.status, None),
            "whole_from",
            () if everyone else (BillMonthTotal.issued_by_id == bindparam("person"),),
            "whole_to",
            "month",
        ),
        _days_part(BILLS_MONTH, bill_day.bills, bill_keys, "before_from", mine, "before_to"),
        _days_part(BILLS_MONTH_LESS, bill_day.bills, bill_keys, "after_from", mine, "after_to"),
        _days_part(BILLS_TODAY, bill_day.bills, bill_keys, "today_from", mine),
        _per_day_part(BILLS_CHART, dialect, bill_day, PAID, mine),
    ]
    # At the month's and today's midnights every bill, per person and status; at the chart's
    # other midnights the paid ones only, on the (status, created_at) index.
    parts += _slices_part(
        BILL_EDGES, dialect, Bill, (Bill.issued_by_id, Bill.status, None), my_bills
    )
    parts += _slices_part(
        PAID_EDGES,
        dialect,
        Bill,
        (None, Bill.status, None),
        (Bill.status == PAID, *my_bills),
    )
    if everyone:
        counted = (cashin_day.status.in_(COUNTED_CASHINS),)
        cashin_keys: Keys = (None, cashin_day.status, cashin_day.reason)
        parts += [
            _days_part(CASHINS_MONTH, cashin_day.cashins, cashin_keys, "month_from", counted),
            _days_part(CASHINS_TODAY, cashin_day.cashins, cashin_keys, "today_from", counted),
            _per_day_part(CASHINS_CHART, dialect, cashin_day, SENT, ()),
        ]
        parts += _slices_part(
            CASHIN_EDGES,
            dialect,
            Cashin,
            (None, Cashin.status, Cashin.reason),
            (Cashin.status.in_(COUNTED_CASHINS),),
        )
        parts.append(
            select(
                *_head(NAMES),
                User.id,
                User.name,
                cast(null(), String),
                literal_column("0", Integer),
                literal_column("0", Integer),
            )
        )
    else:  # the day summary has no preparer: the local days of the chart from the rows
        my_sent = (Cashin.created_by_id == bindparam("person"), Cashin.status == SENT)
        parts += _slices_part(MY_CASHINS, dialect, Cashin, (None, Cashin.status, None), my_sent)
    return union_all(*parts)


# --- the figures ----------------------------------------------------------------------------


def _edge(moment: datetime) -> tuple[date, tuple[datetime, datetime], int]:
    """D(b), the slice of time between b and D(b), and the sign its rows take in G(b)."""
    moment = moment.astimezone(UTC)
    day = summaries.nearest_midnight(moment)
    midnight = summaries.utc_midnight(day)
    if moment <= midnight:
        return day, (moment, midnight), -1  # rows before the midnight are not before b
    return day, (midnight, moment), 1


Slices = dict[int, tuple[datetime, datetime]]  # numbered slices of time


def _slice_params(
    dialect: Dialect, branch: int, slices: Slices, said: dict[datetime, str]
) -> dict[str, Any]:
    """The parameters of a branch's slices; ``said``: the moments already written (SQLite)."""
    if dialect.name == "postgresql":
        return {
            f"b{branch}_slots": list(slices),
            f"b{branch}_starts": [a for a, _ in slices.values()],
            f"b{branch}_ends": [b for _, b in slices.values()],
        }
    # As the rows hold them (the text compares), each moment written once.
    stored = _stored_moment(dialect)
    for a, b in slices.values():
        if a not in said:
            said[a] = stored(a)
        if b not in said:
            said[b] = stored(b)
    spans = [[n, said[a], said[b]] for n, (a, b) in slices.items()]
    return {f"b{branch}_spans": json.dumps(spans)}


@lru_cache(maxsize=4)
def _stored_moment(dialect: Dialect) -> Callable[[datetime], str]:
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    return processor


def _day_list(dialect: Dialect, first: date, end: date) -> Any:
    """The UTC days [first, end): a list on PostgreSQL, a JSON array of their text on SQLite."""
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    return days if dialect.name == "postgresql" else json.dumps([d.isoformat() for d in days])


def _month_params(first: date, end: date) -> dict[str, date]:
    """The UTC days [first, end) (a month so far) as its month's row, less the days after
    ``end``, plus the days before the month (when ``first`` is in the month before); or, when
    ``first`` is past the month's first day, as those days alone."""
    month = (end - timedelta(days=1)).replace(day=1)
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    if first <= month:
        return {
            "whole_from": month,
            "whole_to": after,
            "before_from": first,
            "before_to": month,
            "after_from": end,
            "after_to": after,
        }
    return {  # no whole month: the days themselves
        "whole_from": month,
        "whole_to": month,
        "before_from": first,
        "before_to": end,
        "after_from": end,
        "after_to": end,
    }


Key = tuple[int | None, str | None, str | None]


def overview(today: date, zone: str, person: int | None, chart_days: int) -> Overview:
    """This month's and today's figures, and the last ``chart_days`` days' money collected and
    paid out per day: everyone's (``person`` None) or one person's."""
    everyone = person is None
    month = month_to_date(today, zone)
    day = days_period(today, today, zone)
    chart = last_days(today, chart_days, zone)
    first = min(month.first, chart.first)
    days = [first + timedelta(days=n) for n in range((today - first).days + 2)]  # to tomorrow
    ends = [_edge(day_start(d, zone)) for d in days]
    m, t, c = (month.first - first).days, (today - first).days, (chart.first - first).days
    end = len(days) - 1  # tomorrow's midnight
    dialect = db.engine.dialect
    params: dict[str, Any] = {
        "to": ends[end][0],
        "month_from": ends[m][0],
        **_month_params(ends[m][0], ends[end][0]),
        "today_from": ends[t][0],
        "chart_days": _day_list(dialect, ends[c][0], ends[end][0]),
    }
    # The slices between each midnight and its nearest UTC midnight (none when they are one).
    slices = {n: piece for n, (_, piece, _) in enumerate(ends) if piece[0] != piece[1]}
    said: dict[datetime, str] = {}
    detailed = (m, t, end)  # where the month and today start and end: every bill
    params |= _slice_params(
        dialect, BILL_EDGES, {n: s for n, s in slices.items() if n in detailed}, said
    )
    params |= _slice_params(
        dialect, PAID_EDGES, {n: s for n, s in slices.items() if n not in detailed}, said
    )
    if everyone:
        params |= _slice_params(dialect, CASHIN_EDGES, slices, said)
    else:
        params["person"] = person
        local = {
            n: (day_start(a, zone), day_start(b, zone)) for n, (a, b) in enumerate(pairwise(days))
        }
        params |= _slice_params(dialect, MY_CASHINS, local, said)

    sums: dict[int, summaries.Totals] = {}  # branch -> key -> (count, amount)
    per_day: dict[int, dict[date, int]] = {BILLS_CHART: {}, CASHINS_CHART: {}}
    slotted = (BILL_EDGES, CASHIN_EDGES, MY_CASHINS)
    per_slot: dict[int, list[summaries.Totals]] = {b: [{} for _ in days] for b in slotted}
    names: dict[int, str] = {}
    statement = _statement(dialect.name, everyone)
    if dialect.name == "postgresql":
        # The planner cannot know the slices' bounds, guesses thousands of rows for each, and
        # the guessed cost passes jit_above_cost at a million bills: compiling the statement
        # would then cost ten times what running it does (a few ms). For this transaction only.
        db.session.execute(text("SET LOCAL jit = off"))
    # Each branch gives each key once (its GROUP BY); the paid bills at the chart's midnights
    # (where the bills are not read whole) join the bills' offsets.
    for branch, utc_day, slot, who, status, reason, count, amount in db.session.execute(
        statement, params
    ):
        if branch in per_day:
            per_day[branch][utc_day] = int(amount)
        elif branch == NAMES:
            names[who] = status
        elif branch in per_slot or branch == PAID_EDGES:
            found = per_slot[BILL_EDGES if branch == PAID_EDGES else branch][slot]
            found[(who, status, reason)] = (int(count), int(amount))
        else:
            sums.setdefault(branch, {})[(who, status, reason)] = (int(count), int(amount))
    month_days = sums.setdefault(BILLS_MONTH, {})
    summaries.add(month_days, sums.get(BILLS_MONTH_ROWS, {}))
    summaries.add(month_days, sums.get(BILLS_MONTH_LESS, {}), -1)

    # G(b) of each midnight: its slice's rows, signed.
    offsets = {
        branch: [
            {key: (sign * n, sign * a) for key, (n, a) in found.items()}
            for (_, _, sign), found in zip(ends, per_slot[branch], strict=True)
        ]
        for branch in (BILL_EDGES, CASHIN_EDGES)
    }

    def ranged(days_branch: int, edges: int, x: int) -> summaries.Totals:
        """[midnight x, tomorrow's): the UTC days between their nearest midnights, plus G."""
        totals = dict(sums.get(days_branch, {}))
        summaries.add(totals, offsets[edges][end])
        summaries.add(totals, offsets[edges][x], -1)
        return summaries.nonzero(totals)

    month_bills = ranged(BILLS_MONTH, BILL_EDGES, m)
    today_bills = ranged(BILLS_TODAY, BILL_EDGES, t)
    month_people, today_people = (
        (_people(month_bills, names), _people(today_bills, names)) if everyone else ([], [])
    )
    sections = []
    for period, bills, people, days_branch, x in (
        (day, today_bills, today_people, CASHINS_TODAY, t),
        (month, month_bills, month_people, CASHINS_MONTH, m),
    ):
        cashins = None
        if everyone:
            sent = ranged(days_branch, CASHIN_EDGES, x)
            cashins = cashin_figures_of({(s, r): v for (_, s, r), v in sent.items()})
        figures = all_of(people) if everyone else _bill_figures(bills)
        sections.append(Section(period, figures, people, cashins))

    # The chart: each local day's paid bills and cash-ins sent, from G of its two midnights.
    paid_at = [
        sum(a for (_, s, _), (_, a) in found.items() if s == PAID) for found in offsets[BILL_EDGES]
    ]
    sent_at = [
        sum(a for (_, s, _), (_, a) in found.items() if s == SENT)
        for found in offsets[CASHIN_EDGES]
    ]

    def in_days(branch: int, n: int) -> int:
        """The day summary's francs of the UTC days [D(midnight n), D(midnight n + 1))."""
        first, after = ends[n][0], ends[n + 1][0]
        found = per_day[branch]
        return sum(found.get(first + timedelta(days=u), 0) for u in range((after - first).days))

    flows = []
    for n in range(c, end):
        flow = DayFlow(days[n])
        flow.collected = in_days(BILLS_CHART, n) + paid_at[n + 1] - paid_at[n]
        if everyone:
            flow.paid_out = in_days(CASHINS_CHART, n) + sent_at[n + 1] - sent_at[n]
        else:
            flow.paid_out = sum(a for _, a in per_slot[MY_CASHINS][n].values())
        flows.append(flow)
    return Overview(sections[0], sections[1], chart, flows)


def _bill_figures(totals: summaries.Totals) -> BillFigures:
    figures = BillFigures()
    for (_, status, _), (count, amount) in totals.items():
        figures.add(status, count, amount)
    return figures


def _people(totals: summaries.Totals, names: dict[int, str]) -> list[PersonFigures]:
    """A per-person table: everyone who issued a bill, most money collected first."""
    people: dict[int, BillFigures] = {}
    for (who, status, _), (count, amount) in totals.items():
        figures = people.get(who)
        if figures is None:  # not setdefault: that builds a BillFigures for every row
            figures = people[who] = BillFigures()
        figures.add(status, count, amount)
    found = [PersonFigures(uid, names.get(uid, "?"), bills) for uid, bills in people.items()]
    return sorted(found, key=lambda p: (-p.bills.collected, p.name.lower(), p.user_id))
