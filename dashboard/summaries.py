"""Totals over any time range from the summary tables the database keeps (per UTC day and per
UTC month, by triggers in the same transaction as the rows), plus a few hours of rows at each end.

A range [start, end) rarely falls on UTC midnights (a day in Bujumbura starts at 22:00 UTC).
Each end is moved to the nearest UTC midnight; the whole days between come from the summaries
(whole months from the month rows, the days around them from the day rows), and the at most
twelve hours between an end and its midnight are counted from the rows themselves, through the
index on created_at, and added or taken away. The result is exact, and what is read is bounded
by the length of the range in months plus a day's rows, whatever the size of the history. A
range with no bound at all (a list's first page) reads the all-time summary: a few rows per
key, however many months the history has.

The callers say how to read each level (``Source``); a total is keyed by whatever the caller
groups by (a status, a person and a status...), with (count, amount) as the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import DateTime, bindparam, column, func, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from dashboard.db import db

Totals = dict[Any, tuple[int, int]]
# Each reads whole UTC days [first, end) (None: no bound) and returns their totals.
DaysReader = Callable[[date | None, date | None], Totals]
# Counts the rows of each slice [start, end) of time, in one statement; a Totals per slice.
SlicesReader = Callable[[list[tuple[datetime, datetime]]], list[Totals]]


@dataclass(frozen=True)
class Source:
    """How one kind of row is totalled: ``days`` from the per-day summary, ``months`` from the
    per-month one (whole months only; None: the days serve any range), ``slices`` from the rows,
    and ``by_day`` (optional) the days of a range one by one, for a chart."""

    days: DaysReader
    slices: SlicesReader
    months: DaysReader | None = None
    by_day: Callable[[date, date], dict[date, Totals]] | None = None
    # The all-time summary (None: the months serve it): a range unbounded on both sides.
    ever: Callable[[], Totals] | None = None


def add(into: Totals, more: Totals, sign: int = 1) -> Totals:
    for key, (count, amount) in more.items():
        before = into.get(key, (0, 0))
        into[key] = (before[0] + sign * count, before[1] + sign * amount)
    return into


def nonzero(totals: Totals) -> Totals:
    return {key: value for key, value in totals.items() if value != (0, 0)}


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def nearest_midnight(moment: datetime) -> date:
    """The UTC day starting at the UTC midnight nearest to ``moment`` (at most 12 h away)."""
    moment = moment.astimezone(UTC)
    day = moment.date()
    return day + timedelta(days=1) if moment - utc_midnight(day) > timedelta(hours=12) else day


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_days(source: Source, first: date | None, end: date | None) -> Totals:
    """Totals of the whole UTC days [first, end): whole months from the month summary, the
    days before and after them from the day summary; all of them from the all-time one."""
    if first is not None and end is not None and first >= end:
        return {}
    if first is None and end is None and source.ever is not None:
        return source.ever()
    if source.months is None:
        return source.days(first, end)
    months_from = None if first is None else (first if first.day == 1 else _next_month(first))
    months_to = None if end is None else _month_start(end)
    if months_from is not None and months_to is not None and months_from >= months_to:
        return source.days(first, end)  # within one month or two part months: few day rows
    totals = source.months(months_from, months_to)
    if first is not None and months_from is not None and first < months_from:
        add(totals, source.days(first, months_from))
    if end is not None and months_to is not None and months_to < end:
        add(totals, source.days(months_to, end))
    return totals


def _correction(
    moment: datetime | None,
) -> tuple[date | None, tuple[datetime, datetime] | None, int]:
    """For one end of a range: its nearest UTC midnight, and the slice of rows between the two
    with the sign it takes (+1: rows before that midnight belong in; -1: rows after it are out)."""
    if moment is None:
        return None, None, 0
    day = nearest_midnight(moment)
    midnight = utc_midnight(day)
    if moment < midnight:
        return day, (moment, midnight), 1
    if midnight < moment:
        return day, (midnight, moment), -1
    return day, None, 0


def range_totals(source: Source, start: datetime | None, end: datetime | None) -> Totals:
    """Exact totals of the rows created in [start, end) (None: unbounded on that side)."""
    first, head, head_sign = _correction(start)
    last, tail, tail_sign = _correction(end)
    slices = [s for s in (head, tail) if s is not None]
    counted = source.slices(slices) if slices else []
    if first is not None and last is not None and first > last:
        totals = add({}, whole_days(source, last, first), -1)  # ends nearer than their midnights
    else:
        totals = whole_days(source, first, last)
    results = iter(counted)
    if head is not None:
        add(totals, next(results), head_sign)
    if tail is not None:
        # The tail's slice is inside the range when it lies before the end's midnight.
        add(totals, next(results), -tail_sign)
    return nonzero(totals)


def series_totals(source: Source, boundaries: list[datetime]) -> list[Totals]:
    """Totals of each range [boundaries[i], boundaries[i+1]) (a chart's local days), from one
    read of the day summary over the whole span and one count of the slices at the boundaries.

    With F(t) the total of everything before t, each range is F(b[i+1]) - F(b[i]); F(b) is
    F(midnight nearest b) minus or plus the rows between them."""
    if source.by_day is None:
        return [range_totals(source, a, b) for a, b in pairwise(boundaries)]
    ends = [_correction(b) for b in boundaries]
    days = [day for day, _, _ in ends]
    assert all(d is not None for d in days)
    per_day = source.by_day(days[0], days[-1])  # type: ignore[arg-type]
    slices = [s for _, s, _ in ends if s is not None]
    counted = iter(source.slices(slices) if slices else [])
    # G(b) = F(b) - F(midnight): the rows of the slice, taken away when b is before midnight.
    offsets: list[Totals] = []
    for _, piece, sign in ends:
        offsets.append(add({}, next(counted), -sign) if piece is not None else {})
    result: list[Totals] = []
    for i in range(len(boundaries) - 1):
        totals: Totals = {}
        day = days[i]
        while day is not None and day < days[i + 1]:  # type: ignore[operator]
            add(totals, per_day.get(day, {}))
            day += timedelta(days=1)
        add(totals, offsets[i + 1])
        add(totals, offsets[i], -1)
        result.append(nonzero(totals))
    return result


def grouped(rows: Iterable[Sequence[Any]]) -> Totals:
    """Rows of (key..., count, amount) as Totals (a single key column is the key itself)."""
    totals: Totals = {}
    for *key, count, amount in rows:
        add(totals, {key[0] if len(key) == 1 else tuple(key): (int(count or 0), int(amount or 0))})
    return totals


# Readers over SQLAlchemy columns, for the Sources of bills and cash-ins.


def summary_reader(
    day_column: Any,
    count_column: Any,
    amount_column: Any,
    keys: Sequence[Any],
    conditions: Sequence[Any] = (),
) -> DaysReader:
    """Sums of a summary table's rows whose ``day_column`` is in [first, end), per ``keys``."""

    def read(first: date | None, end: date | None) -> Totals:
        query = select(*keys, func.sum(count_column), func.sum(amount_column)).where(*conditions)
        if first is not None:
            query = query.where(day_column >= first)
        if end is not None:
            query = query.where(day_column < end)
        return grouped(db.session.execute(query.group_by(*keys)))

    return read


def all_time_reader(
    count_column: Any, amount_column: Any, keys: Sequence[Any], conditions: Sequence[Any] = ()
) -> Callable[[], Totals]:
    """Sums of an all-time summary's rows, per ``keys``."""

    def read() -> Totals:
        query = select(*keys, func.sum(count_column), func.sum(amount_column)).where(*conditions)
        return grouped(db.session.execute(query.group_by(*keys)))

    return read


def per_day_reader(
    day_column: Any,
    count_column: Any,
    amount_column: Any,
    keys: Sequence[Any],
    conditions: Sequence[Any] = (),
) -> Callable[[date, date], dict[date, Totals]]:
    """A day summary's rows in [first, end), per day then per ``keys``."""

    def read(first: date, end: date) -> dict[date, Totals]:
        query = (
            select(day_column, *keys, func.sum(count_column), func.sum(amount_column))
            .where(*conditions, day_column >= first, day_column < end)
            .group_by(day_column, *keys)
        )
        days: dict[date, Totals] = {}
        for day, *rest in db.session.execute(query):
            add(days.setdefault(day, {}), grouped([tuple(rest)]))
        return days

    return read


def slice_reader(
    time_column: Any, amount_column: Any, keys: Sequence[Any], conditions: Sequence[Any] = ()
) -> SlicesReader:
    """Counts and sums of the rows in each slice of time, per ``keys``: one statement, each
    slice a range of the index on ``time_column``."""

    def read(slices: list[tuple[datetime, datetime]]) -> list[Totals]:
        result: list[Totals] = [{} for _ in slices]
        if db.engine.dialect.name == "postgresql":
            # The slices as a VALUES list, each read by a LATERAL subquery: one index range
            # per slice, in a statement whose size does not grow with the slices.
            # Two array parameters, not a VALUES list: the statement is the same whatever the
            # slices, so SQLAlchemy compiles it once.
            moments = ARRAY(DateTime(timezone=True))
            spans = (
                func.unnest(
                    bindparam("starts", [a for a, _ in slices], type_=moments),
                    bindparam("ends", [b for _, b in slices], type_=moments),
                )
                .table_valued(
                    column("start", DateTime(timezone=True)),
                    column("end", DateTime(timezone=True)),
                    with_ordinality="slice",
                )
                .render_derived(name="spans")
            )
            rows: Any = (
                select(*(k.label(f"k{n}") for n, k in enumerate(keys)), amount_column)
                .where(*conditions, time_column >= spans.c.start, time_column < spans.c.end)
                .offset(0)  # kept a subquery: run once per slice, on the index
                .lateral("rows")
            )
            key_columns = [rows.c[f"k{n}"] for n in range(len(keys))]
            counted = (
                select(spans.c.slice, *key_columns, func.count(), func.sum(rows.c.amount))
                .select_from(spans.join(rows, true()))
                .group_by(spans.c.slice, *key_columns)
            )
            for ordinal, *rest in db.session.execute(counted):
                add(result[int(ordinal) - 1], grouped([tuple(rest)]))  # ordinality counts from 1
            return result
        # SQLite: one SELECT per slice, each its own range of the index (an OR of the ranges
        # would read the whole table), glued by UNION ALL and grouped outside.
        parts = [
            select(
                literal(i).label("slice"),
                *(k.label(f"k{n}") for n, k in enumerate(keys)),
                amount_column.label("amount"),
            ).where(*conditions, time_column >= a, time_column < b)
            for i, (a, b) in enumerate(slices)
        ]
        rows = union_all(*parts).subquery()
        key_columns = [rows.c[f"k{n}"] for n in range(len(keys))]
        query = select(rows.c.slice, *key_columns, func.count(), func.sum(rows.c.amount)).group_by(
            rows.c.slice, *key_columns
        )
        for index, *rest in db.session.execute(query):
            if 0 <= int(index) < len(slices):
                add(result[int(index)], grouped([tuple(rest)]))
        return result

    return read
