"""Free-text search through an index, and counts that stop at a bound, for every list.

A search is ``lower(column) LIKE '%term%'`` on a few columns, answered through an index: on
PostgreSQL a pg_trgm GIN index on one SQL function of those columns, on SQLite an FTS5 table
with the trigram tokenizer (external content, kept by triggers). Both need three characters;
shorter terms fall back to the plain LIKE. The bills list set the pattern (migration
a6667115a006); the cash-ins list and the audit trail follow it (f1701a0a0001).

Where an exact count would mean reading every matching row, the lists count at most
``COUNT_BOUND`` + 1 of them and say "more than 1 000" past it: filters narrow it down.

A list with a search reads its matches once (``bounded_matches``): at most ``COUNT_BOUND`` + 1
rows of a few columns, through the text index. Few of them (the count is known): the totals come
from those rows and the page is found among their ids, so the text index is not read a second
time. More: the page walks the rows newest first and keeps the matches (``TextIndex.matches``
with ``many``). Telling a broad search costs what all its matches cost on PostgreSQL (the
trigram bitmap is built whole before the LIMIT applies); so when the search is the list's only
condition (or the others are ones the sample holds: a cash-in's bank), a narrow table holding the
searched text of one row in ``sample_every`` (migration f17015ea4c03, kept by triggers) is read
first: more than the bound there is more than the bound in all. On SQLite the FTS5 table alone is
counted, before any row of the table is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)

from dashboard.db import db

# Trigram indexes (pg_trgm, SQLite FTS5 trigram) need three characters to look anything up.
SEARCH_INDEX_MIN = 3
# The lists count this many rows at most before saying "more than".
COUNT_BOUND = 1_000
# SQLite: a walk newest first through a broad search's rows asks the FTS5 table about this
# many of its newest matches first (TextIndex.matches).
NEWEST_MATCHES = 250


def like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'  # one FTS5 phrase: a plain substring


@dataclass(frozen=True)
class TextIndex:
    """Where one table's text search is indexed (see the module's docstring)."""

    columns: Sequence[Any]  # the searched columns, in the index's order
    pg_function: str  # the SQL function the trigram index is on (None-safe over the columns)
    fts_table: str  # the FTS5 table on SQLite
    ident: Any  # the table's id (the FTS5 rowid)
    # PostgreSQL: the narrow table holding ``text`` (the indexed expression) of the rows whose id
    # is a multiple of ``sample_every``, and the columns named in ``sample_holds`` (migration
    # f17015ea4c03): a search matching more than COUNT_BOUND of those matches more in all.
    sample_table: str
    sample_every: int
    sample_holds: tuple[str, ...] = ()

    def matches(self, search: str, *, many: bool = False) -> ColumnElement[bool]:
        """Rows whose columns contain ``search``, any case (as ``lower(c) LIKE '%x%'``).

        ``many``: more than COUNT_BOUND match, so a page of the newest is found sooner by
        walking the rows newest first than by reading and sorting every match. On SQLite the
        walk asks, row by row, whether the FTS5 table found it: for the rows from the
        NEWEST_MATCHES-th newest match (by id) up, among the matches of that range only
        (a few hundred); for older rows (a page deep in the list), among all of them. The
        same rows either way: only how much of the FTS5 table is read differs."""
        term = search.lower()
        if db.engine.dialect.name == "postgresql":
            indexed = getattr(func, self.pg_function)(*self.columns)
            return indexed.like(f"%{like_escaped(term)}%")  # type: ignore[no-any-return]
        if len(term) >= SEARCH_INDEX_MIN:
            fts = table(self.fts_table, column("rowid", Integer))
            hit = literal_column(self.fts_table).op("MATCH")(bindparam(None, fts_phrase(term)))
            found = select(fts.c.rowid).where(hit)
            if not many:
                return self.ident.in_(found)  # type: ignore[no-any-return]
            # ``id + 0`` (and the CASE) keep the planner from reading every match first.
            since = found.order_by(fts.c.rowid.desc()).limit(1).offset(NEWEST_MATCHES)
            low = since.scalar_subquery()
            recent = found.where(fts.c.rowid >= low)
            return case(  # type: ignore[no-any-return]
                (self.ident >= low, (self.ident + 0).in_(recent)),
                else_=(self.ident + 0).in_(found),
            )
        pattern = f"%{like_escaped(term)}%"
        return or_(*(func.lower(c).like(pattern, escape="\\") for c in self.columns))

    def count_in_sample(self, search: str, held: dict[str, Any], bound: int) -> int:
        """PostgreSQL: how many rows of the sample table match ``search`` and ``held`` (column:
        value, each one the sample holds), up to ``bound``: the table's rows are not read. One
        statement: its function (migrations f17015ea4c03, f17015ea4c04) reads the sample's
        trigram index, with the held columns, whatever the planner would guess (bitmap_scan)."""
        assert set(held) <= set(self.sample_holds), held
        pattern = f"%{like_escaped(search.lower())}%"
        values = [held.get(c) for c in self.sample_holds]
        counted = getattr(func, f"{self.sample_table}_count")(pattern, bound, *values)
        return int(db.session.scalar(select(counted)) or 0)

    def sample_rows_sql(self) -> str:
        """PostgreSQL: SELECT of what the sample table should hold (id, text, held columns), as
        its triggers write it: to fill it after a bulk load with triggers off, and to check it."""
        source = self.ident.table.name
        text_of = f"{self.pg_function}({', '.join(c.name for c in self.columns)})"
        held = "".join(f", {c}" for c in self.sample_holds)
        return (
            f"SELECT id, {text_of} AS text{held} FROM {source}"  # noqa: S608 - ours
            f" WHERE id % {self.sample_every} = 0"
        )

    def indexed(self, search: str) -> bool:
        """Whether the index serves ``search`` (else it is a plain LIKE over the rows)."""
        return len(search.lower()) >= SEARCH_INDEX_MIN

    def count_in_index(self, search: str, bound: int) -> int:
        """SQLite: how many rows the FTS5 table finds for ``search``, up to ``bound`` (its
        rowids only: the table is not read). The same rows as ``matches`` selects."""
        limited = text(
            f"SELECT count(*) FROM (SELECT rowid FROM {self.fts_table}"  # noqa: S608 - ours
            f" WHERE {self.fts_table} MATCH :phrase LIMIT :bound)"
        )
        phrase = fts_phrase(search.lower())
        return int(db.session.scalar(limited, {"phrase": phrase, "bound": bound}) or 0)


def among(ident: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``ident`` is one of ``ids`` (one array parameter on PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        return ident == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))  # type: ignore[no-any-return]
    return ident.in_(list(ids))  # type: ignore[no-any-return]


def bounded_matches(
    query: Select[Any],
    index: TextIndex | None = None,
    search: str = "",
    *,
    alone: bool = False,
    held: dict[str, Any] | None = None,
    bound: int | None = None,
) -> list[tuple[Any, ...]] | None:
    """The rows ``query`` selects (tuples of its columns), or None when more than ``bound``
    (COUNT_BOUND): at most bound + 1 are read, and on PostgreSQL past the bound only one is
    sent back (SQLite sends them: cheaper there than its window functions).
    ``index`` and ``search``: the free-text search among ``query``'s conditions, read through
    its index (on PostgreSQL a bitmap of the trigram index, never a walk of the table).
    ``alone``: the search is ``query``'s only condition; ``held``: its other conditions are
    these equalities, each a column the index's sample table holds. Then a cheap look first may
    tell that more than ``bound`` match: on SQLite the FTS5 table alone (not the table; alone
    only); on PostgreSQL the sample table (one row in ``sample_every``), whose matches are
    matches too. Where that look finds fewer, the whole index is read as usual: the answer is
    the same."""
    bound = COUNT_BOUND if bound is None else bound
    indexed = index is not None and index.indexed(search)
    postgres = db.engine.dialect.name == "postgresql"
    if alone:
        held = {}
    if indexed and held is not None:
        assert index is not None
        if postgres:
            told = index.count_in_sample(search, held, bound + 1)
        else:
            told = index.count_in_index(search, bound + 1) if held == {} else 0
        if told > bound:
            return None
    if not postgres:
        # SQLite's window functions (below) cost more than the rows they spare: 1.4 ms for
        # 450 matches, and a broad search's 1 001 rows are read faster as rows than counted.
        found = [tuple(row) for row in db.session.execute(query.limit(bound + 1))]
        return None if len(found) > bound else found
    # Past the bound only one row comes back (the count says "more"): not 1 001 of them.
    limited = query.limit(bound + 1).subquery()
    counted = select(
        limited,
        func.count().over().label("_found"),
        func.row_number().over().label("_nth"),
    ).subquery()
    columns = [counted.c[c.key] for c in limited.c]
    read = select(*columns, counted.c["_found"]).where(
        or_(counted.c["_found"] <= bound, counted.c["_nth"] == 1)
    )
    with bitmap_scan() if indexed else nullcontext():  # PostgreSQL's, see bitmap_scan
        rows = db.session.execute(read).all()
    if rows and rows[0][-1] > bound:
        return None
    return [tuple(row[:-1]) for row in rows]


@contextmanager
def bitmap_scan() -> Iterator[None]:
    """On PostgreSQL, read through the trigram index for the statements inside: under a LIMIT,
    the planner would rather scan the table until enough rows match than find them all in the
    index first."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    before = db.session.execute(
        text(
            "SELECT seqscan, indexscan, set_config('enable_seqscan', 'off', true),"
            " set_config('enable_indexscan', 'off', true) FROM (SELECT"
            " current_setting('enable_seqscan') AS seqscan,"
            " current_setting('enable_indexscan') AS indexscan OFFSET 0) AS settings"
        )
    ).one()
    yield
    db.session.execute(
        text(
            "SELECT set_config('enable_seqscan', :seqscan, true),"
            " set_config('enable_indexscan', :indexscan, true)"
        ),
        {"seqscan": before.seqscan, "indexscan": before.indexscan},
    )


def bounded_count(query: Select[Any], bound: int | None = None) -> int | None:
    """How many rows ``query`` selects, or None when more than ``bound`` (COUNT_BOUND): at
    most bound + 1 rows are read."""
    bound = COUNT_BOUND if bound is None else bound
    limited = query.limit(bound + 1).subquery()
    found = int(db.session.scalar(select(func.count()).select_from(limited)) or 0)
    return None if found > bound else found


def bounded_sums(
    query: Select[Any], key: str, amount: str, bound: int | None = None
) -> dict[Any, tuple[int, int]] | None:
    """Count and sum of ``amount`` per ``key`` of what ``query`` selects (it selects both
    columns, by those names), or None when it selects more than ``bound`` rows."""
    bound = COUNT_BOUND if bound is None else bound
    limited = query.limit(bound + 1).subquery()
    rows = db.session.execute(
        select(limited.c[key], func.count(), func.sum(limited.c[amount])).group_by(limited.c[key])
    ).all()
    totals = {k: (int(count), int(total or 0)) for k, count, total in rows}
    if sum(count for count, _ in totals.values()) > bound:
        return None
    return totals
