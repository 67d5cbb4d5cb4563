"""Keyset paging ("older / newer") for the newest-first lists: a deep page costs what the first
one does, where OFFSET walked every row before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

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


def keyset_page(
    query: Select[Any],
    keys: tuple[Any, ...],
    *,
    size: int,
    older: int | None = None,
    newer: int | None = None,
    columns: bool = False,
) -> Page:
    """The ``size`` rows of ``query`` just older than row ``older``, or just newer than row
    ``newer``, or the newest ones. ``keys`` is the order, newest first: ``(created_at, id)`` or
    ``(id,)``; the last key is the row's id, which the links carry. ``columns``: the query
    selects columns (one of them ``id``), and the page holds its rows rather than objects."""
    ident = keys[-1]

    def fetch(statement: Select[Any]) -> list[Any]:
        if columns:
            return list(db.session.execute(statement).all())
        return list(db.session.scalars(statement))

    cursor_id = older or newer
    cursor = None
    if cursor_id:
        cursor = db.session.execute(select(*keys).where(ident == cursor_id)).first()
    if cursor is not None and newer:
        rows = fetch(
            query.where(_later(keys, tuple(cursor)))
            .order_by(*(k.asc() for k in keys))
            .limit(size + 1)
        )
        if len(rows) > size:
            rows = rows[:size][::-1]
            return Page(rows, newer=rows[0].id, older=rows[-1].id)
        cursor = None  # near the top: show the newest page, a full one
    if cursor is not None:
        query = query.where(_earlier(keys, tuple(cursor)))
    rows = fetch(query.order_by(*(k.desc() for k in keys)).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        newer=rows[0].id if cursor is not None and rows else None,
        older=rows[-1].id if more else None,
    )
