"""Keyset paging ("older / newer") for the newest-first lists: a deep page costs what the first
one does, where OFFSET walked every row before it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from dashboard.db import db


@dataclass
class Page:
    """One page of rows, newest first, with the ids the "newer" and "older" links carry."""

    rows: list[Any] = field(default_factory=list)
    newer: int | None = None
    older: int | None = None


def _later(keys: tuple[Any, ...], values: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(keys) == 1:
        later: ColumnElement[bool] = keys[0] > values[0]
        return later
    (time, ident), (time_value, ident_value) = keys, values
    # The first term alone gives the database an index range; the second breaks ties.
    return and_(time >= time_value, or_(time > time_value, ident > ident_value))


def _earlier(keys: tuple[Any, ...], values: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(keys) == 1:
        earlier: ColumnElement[bool] = keys[0] < values[0]
        return earlier
    (time, ident), (time_value, ident_value) = keys, values
    return and_(time <= time_value, or_(time < time_value, ident < ident_value))


def _in_order(
    query: Select[Any], parts: list[Select[Any]], keys: tuple[Any, ...], newest: bool, limit: int
) -> Select[Any]:
    """``query`` in the keys' order, the first ``limit`` rows; with ``parts`` (disjoint sets of
    one table's rows, ``query`` unused), each part ordered and limited on its own index and the
    parts merged in order (an OR of them, or a union ordered only outside, makes the databases
    read and sort every row of every part)."""

    def ordered(columns: tuple[Any, ...]) -> list[Any]:
        return [c.desc() if newest else c.asc() for c in columns]

    if not parts:
        return query.order_by(*ordered(keys)).limit(limit)
    arms = [select(p.order_by(*ordered(keys)).limit(limit).subquery()) for p in parts]
    merged = union_all(*arms).subquery()
    outer = tuple(merged.c[k.key] for k in keys)
    entity = parts[0].column_descriptions[0].get("entity")
    if len(parts[0].column_descriptions) == 1 and entity is not None:
        whole: Select[Any] = select(aliased(entity, merged))  # objects, as the parts select
    else:
        whole = select(merged)
    return whole.order_by(*ordered(outer)).limit(limit)


def keyset_page(
    query: Select[Any],
    keys: tuple[Any, ...],
    *,
    size: int,
    older: int | None = None,
    newer: int | None = None,
    columns: bool = False,
    parts: list[Select[Any]] | None = None,
    known: Sequence[tuple[Any, ...]] | None = None,
) -> Page:
    """The ``size`` rows of ``query`` just older than row ``older``, or just newer than row
    ``newer``, or the newest ones. ``keys`` is the order, newest first: ``(created_at, id)`` or
    ``(id,)``; the last key is the row's id, which the links carry. ``columns``: the query
    selects columns (one of them ``id``), and the page holds its rows rather than objects.
    ``parts``: the rows are the union of these disjoint queries of one table (``query`` is then
    only where the cursor row is looked up, as for any page). ``known``: the keys' values of
    every row ``query`` selects, read already (a search's few matches; times as ``sortable``
    reads them): the page is chosen among them and only its rows are read, by id."""
    ident = keys[-1]
    pieces = parts or []

    def fetch(statement: Select[Any]) -> list[Any]:
        if columns:
            return list(db.session.execute(statement).all())
        return list(db.session.scalars(statement))

    if known is not None:
        return _page_among(
            query, keys, known, size=size, older=older, newer=newer, columns=columns, fetch=fetch
        )

    def where(condition: Any) -> tuple[Select[Any], list[Select[Any]]]:
        return query.where(condition), [p.where(condition) for p in pieces]

    cursor_id = older or newer
    cursor = None
    if cursor_id:
        cursor = db.session.execute(select(*keys).where(ident == cursor_id)).first()
    if cursor is not None and newer:
        later, later_parts = where(_later(keys, tuple(cursor)))
        rows = fetch(_in_order(later, later_parts, keys, False, size + 1))
        if len(rows) > size:
            rows = rows[:size][::-1]
            return Page(rows, newer=rows[0].id, older=rows[-1].id)
        cursor = None  # near the top: show the newest page, a full one
    if cursor is not None:
        query, pieces = where(_earlier(keys, tuple(cursor)))
    rows = fetch(_in_order(query, pieces, keys, True, size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        newer=rows[0].id if cursor is not None and rows else None,
        older=rows[-1].id if more else None,
    )


def sortable(column: Any) -> Any:
    """``column`` (a time) read as the database orders it, for ``known`` keys, without the
    app's own conversion of each value (up to a thousand rows; the keys are only compared with
    one another): on SQLite the stored text as it is (fixed-width ISO text, which sorts as the
    times do), not turned into a datetime (some 5 µs a row); on PostgreSQL the driver's aware
    datetime, not moved to UTC again (UTCDateTime)."""
    if db.engine.dialect.name == "sqlite":
        return type_coerce(column, String).label(column.key)
    return type_coerce(column, DateTime(timezone=True)).label(column.key)


def _page_among(
    query: Select[Any],
    keys: tuple[Any, ...],
    known: Sequence[tuple[Any, ...]],
    *,
    size: int,
    older: int | None,
    newer: int | None,
    columns: bool,
    fetch: Callable[[Select[Any]], list[Any]],
) -> Page:
    """keyset_page's page, chosen among ``known`` (the keys' values of every row of ``query``):
    the same rows and links, with one read of the page's own rows by id."""
    ident = keys[-1]
    newest_first = sorted((tuple(k) for k in known), reverse=True)
    cursor_id = older or newer
    cursor: tuple[Any, ...] | None = None
    if cursor_id:
        cursor = next((k for k in newest_first if k[-1] == cursor_id), None)
        if cursor is None:  # not among them (a link from an earlier list): the database pages
            among = query.where(ident.in_([k[-1] for k in newest_first]))
            return keyset_page(among, keys, size=size, older=older, newer=newer, columns=columns)

    def rows_of(chosen: list[tuple[Any, ...]]) -> list[Any]:
        if not chosen:
            return []
        ordered = query.where(ident.in_([k[-1] for k in chosen]))
        return fetch(ordered.order_by(*(k.desc() for k in keys)))

    if cursor is not None and newer:
        later = [k for k in reversed(newest_first) if k > cursor][: size + 1]
        if len(later) > size:
            rows = rows_of(later[:size])
            return Page(rows, newer=rows[0].id, older=rows[-1].id)
        cursor = None  # near the top: show the newest page, a full one
    pool = [k for k in newest_first if cursor is None or k < cursor][: size + 1]
    rows = rows_of(pool[:size])
    return Page(
        rows,
        newer=rows[0].id if cursor is not None and rows else None,
        older=rows[-1].id if len(pool) > size else None,
    )
