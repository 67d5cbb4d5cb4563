"""Searches at any breadth, on the real database: a search reads its matches once through the
text index (at most the bound + 1 of them), a broad one may be told by the sample table
(PostgreSQL) or the FTS5 table alone (SQLite), and either way the pages hold the rows a plain
scan of the table finds, in the same order, with the same "more than" past the bound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event, select, text, update
from werkzeug.datastructures import MultiDict

from dashboard import search
from dashboard.admin.audit_filter import WHO_TEXT, AuditFilter
from dashboard.bills import queries
from dashboard.bills.queries import BILL_TEXT, BillFilters
from dashboard.cashins import queries as cashins_queries
from dashboard.cashins.queries import CASHIN_TEXT, CashinFilters
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillEvent, BillLine, Cashin, User
from dashboard.paging import keyset_page, sortable
from dashboard.search import TextIndex
from tests.http.test_bounded_lists import _like, _shown, events, rows  # noqa: F401 - fixtures
from tests.http.test_lists_at_scale import _matches, _newest_first, bills  # noqa: F401 - fixture


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """The SQL run inside, as sent, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _bounded_reads(seen: list[tuple[str, Any]], table: str) -> list[str]:
    """The statements that read ``table``'s rows matching a search unordered (a bounded read
    of the matches, search.bounded_matches; a page's read is ordered)."""
    reads = re.compile(rf"FROM {table}\b(?!_)")
    return [
        s
        for s, _ in seen
        if reads.search(s) and "ORDER BY" not in s and ("MATCH" in s or "_search_text(" in s)
    ]


def _pages_read_the_text_index(seen: list[tuple[str, Any]], marker: str) -> bool:
    """Whether a page's statement (ordered) reads a text index: the trigram expression (marked
    by ``marker``) or the FTS5 table."""
    return any("ORDER BY" in s and (marker in s or "MATCH" in s) for s, _ in seen)


def _sampled(ids: list[int], every: int = BILL_TEXT.sample_every) -> int:
    return sum(ident % every == 0 for ident in ids)


def _bound_cases(expected: list[int], every: int) -> list[int]:
    """Bounds either side of every way to decide: above the matches, just under them, and
    (where the sample holds some) at the sample's count and just under it: the sample alone
    tells "more than" only under the latter."""
    in_sample = _sampled(expected, every)
    bounds = {len(expected), max(len(expected) - 1, 1), in_sample, max(in_sample - 1, 1)}
    return sorted(b for b in bounds if b >= 1)


def _bounds_and_ranges(expected: list[int], every: int) -> list[tuple[int, int]]:
    """Each bound, and for those past which the list walks newest first, where the walk's
    first FTS5 range ends on SQLite (TextIndex.matches): within the first page, a few pages
    down, and past every match (the default, on these few rows)."""
    cases = [(bound, search.NEWEST_MATCHES) for bound in [*_bound_cases(expected, every), 1_000]]
    many = [bound for bound, _ in cases if bound < len(expected)]
    return cases + [(bound, newest) for bound in many[:1] for newest in (1, 2, 6)]


def test_bills_searches_match_a_plain_scan_at_every_bound(
    app: Flask,
    staff: dict[str, User],
    bills: list[dict[str, Any]],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = [
        BillFilters(search="aline"),  # alone: the sample or the FTS5 table may tell
        BillFilters(search="crates of"),
        BillFilters(search="aline", status="paid"),  # with another filter: read as before
        BillFilters(search="zzqx"),
        BillFilters(search="al"),  # too short for an index: scanned, exact
    ]
    with app.app_context():
        for f in cases:
            shown = [r for r in bills if _matches(r, f)]
            expected = _newest_first(shown)
            for bound, newest in _bounds_and_ranges(expected, BILL_TEXT.sample_every):
                monkeypatch.setattr(queries, "SEARCH_TOTALS_MAX", bound)
                monkeypatch.setattr(search, "NEWEST_MATCHES", newest)
                page = queries.list_bills(f, size=4)
                walked = [b.id for b in page.bills]
                while page.older:
                    page = queries.list_bills(f, size=4, older=page.older)
                    walked += [b.id for b in page.bills]
                assert walked == expected, (f, bound)
                first = queries.list_bills(f, size=4)
                if len(f.search) >= search.SEARCH_INDEX_MIN and len(expected) > bound:
                    assert not first.totals_known and first.total_count == bound, (f, bound)
                else:
                    assert first.totals_known, (f, bound)
                    assert first.total_count == len(expected), (f, bound)
                    assert first.total_amount == sum(r["amount"] for r in shown), (f, bound)
                db.session.remove()


def test_a_bills_search_with_few_matches_finds_its_page_among_their_ids(
    app: Flask,
    bills: list[dict[str, Any]],  # noqa: F811 - the fixture
) -> None:
    """Its count and francs and its page come from one read of the matches: the page is found
    among their ids, not through the text index again."""
    with app.app_context():
        for f in (BillFilters(search="crates of"), BillFilters(search="aline", status="paid")):
            expected = _newest_first([r for r in bills if _matches(r, f)])
            assert 0 < len(expected) <= queries.SEARCH_TOTALS_MAX
            with statements() as seen:
                page = queries.list_bills(f, size=50)
            assert [b.id for b in page.bills] == expected
            assert not _pages_read_the_text_index(seen, "bill_search_text"), seen


def test_the_sample_table_tells_a_broad_search(
    app: Flask,
    bills: list[dict[str, Any]],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: the look at one row in eight reads the narrow sample table through its
    trigram index, kept by triggers (the bills added here reach it). SQLite: the FTS5 table
    alone is counted, and the bills are not read for the count."""
    f = BillFilters(search="aline")
    expected = [r["id"] for r in bills if _matches(r, f)]
    with app.app_context():
        # Which ids fall in the sample follows the ids the database hands out (earlier tests
        # move the sequence): more matching bills until the sample holds two, so that a bound
        # under its count exists.
        extra = 0
        while _sampled(expected) < 2:
            bill = Bill(
                **{
                    **{k: v for k, v in bills[0].items() if k != "id"},
                    "payer": "aline.extra@example.com",
                    "merchant_reference": f"B261127-X{extra:05d}",
                    "form_token": f"form-x{extra}",
                    "public_token": f"public-x{extra}",
                    "code": f"BILL-20261127-XX{extra:04d}Q",
                }
            )
            db.session.add(bill)
            db.session.commit()
            expected.append(bill.id)
            extra += 1
        db.session.remove()
    monkeypatch.setattr(queries, "SEARCH_TOTALS_MAX", _sampled(expected) - 1)
    with app.app_context():
        with statements() as seen:
            page = queries.list_bills(f, size=4)
        assert not page.totals_known
        assert not _bounded_reads(seen, "bills"), seen  # no bounded read of the bills
        if db.engine.dialect.name == "sqlite":
            assert any("FROM bills_search WHERE bills_search MATCH" in s for s, _ in seen)
            return
        probe = [s for s, _ in seen if "bill_search_sample_count(" in s]
        assert len(probe) == 1, seen  # one statement: no planner settings around it
        config = db.session.scalar(
            text("SELECT proconfig FROM pg_proc WHERE proname = 'bill_search_sample_count'")
        )
        assert config == ["enable_seqscan=off"], config
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            # What the function's statement can read under its setting: the trigram index.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT 1 FROM bill_search_sample WHERE text LIKE %s LIMIT 2", ("%aline%",)
            )
            plan = " ".join(str(row[0]) for row in cursor.fetchall())
        finally:
            raw.rollback()
            raw.close()
        assert "ix_bill_search_sample_trgm" in plan, plan


def _sample_of(index: TextIndex) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the sample table holds, and what it should hold (both sorted by id)."""
    held = db.session.execute(text(f"SELECT * FROM {index.sample_table} ORDER BY id")).all()  # noqa: S608
    wanted = db.session.execute(text(f"{index.sample_rows_sql()} ORDER BY id")).all()
    return [tuple(r) for r in held], [tuple(r) for r in wanted]


def test_the_sample_tables_follow_every_change_to_their_rows(
    app: Flask,
    bills: list[dict[str, Any]],  # noqa: F811 - the fixture
    rows: list[dict[str, Any]],  # noqa: F811 - the fixture
    events: list[dict[str, Any]],  # noqa: F811 - the fixture
) -> None:
    """PostgreSQL: each sample table holds exactly the searched text (and a cash-in's bank) of
    the rows whose id it samples, after inserts, edits of the searched columns, and deletes."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the sample tables are PostgreSQL's (SQLite counts its FTS5 table)")
        indexes = (BILL_TEXT, CASHIN_TEXT, WHO_TEXT)
        for index in indexes:
            held, wanted = _sample_of(index)
            assert held == wanted and held, index.sample_table
        every = {index.ident.table.name: index.sample_every for index in indexes}
        sampled = {
            name: db.session.scalars(
                select(model.id).where(model.id % every[name] == 0).order_by(model.id).limit(3)
            ).all()
            for name, model in (("bills", Bill), ("cashins", Cashin), ("audit_events", AuditEvent))
        }
        first, second, third = sampled["bills"]
        db.session.execute(
            update(Bill).where(Bill.id == first).values(payer="Zawadi.New@Example.com")
        )
        db.session.execute(update(Bill).where(Bill.id == second).values(code=None))
        db.session.execute(update(Bill).where(Bill.id == third).values(amount=Bill.amount + 1))
        one, two, _ = sampled["cashins"]
        db.session.execute(
            update(Cashin)
            .where(Cashin.id == one)
            .values(holder_name="ZAWADI Neema", bank_slug="BGF")
        )
        db.session.execute(update(Cashin).where(Cashin.id == two).values(gateway_reference="FT9Z"))
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == sampled["audit_events"][0])
            .values(actor_label="Zawadi@Example.com")
        )
        db.session.commit()
        for index in indexes:
            held, wanted = _sample_of(index)
            assert held == wanted, index.sample_table
        assert any("zawadi.new@example.com" in str(row) for row in _sample_of(BILL_TEXT)[0])
        assert (
            db.session.scalar(
                text("SELECT bank_slug FROM cashin_search_sample WHERE id = :id"), {"id": one}
            )
            == "BGF"
        )
        db.session.execute(delete(BillEvent).where(BillEvent.bill_id == first))
        db.session.execute(delete(BillLine).where(BillLine.bill_id == first))
        db.session.execute(delete(Bill).where(Bill.id == first))
        db.session.commit()
        held, wanted = _sample_of(BILL_TEXT)
        assert held == wanted and first not in [row[0] for row in held]


def test_a_broad_cashin_search_within_a_bank_is_told_by_the_sample(
    app: Flask,
    rows: list[dict[str, Any]],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search narrowed by a bank (the sample table holds the bank) is told on PostgreSQL
    without reading the cash-ins when the sample alone holds more than the bound; other
    filters are read as before. Either way the answer is the plain scan's."""
    f = CashinFilters(search="aline", bank_slug="BCB")
    every = CASHIN_TEXT.sample_every

    def in_sample(bank: str) -> int:
        return _sampled([r["id"] for r in rows if _shown(r, replace(f, bank_slug=bank))], every)

    rows = list(rows)
    with app.app_context():
        # Which ids fall in the sample follows the ids the database hands out (earlier tests
        # move the sequence): more matching cash-ins until the sample holds two at the bank and
        # one more at another.
        extra = 0
        while in_sample("BCB") < 2 or in_sample("") <= in_sample("BCB"):
            bank = "BCB" if in_sample("BCB") < 2 else "BGF"
            row = {
                **{k: v for k, v in rows[0].items() if k != "id"},
                "merchant_reference": f"C261127-X{extra:05d}",
                "bank_slug": bank,
                "holder_name": "Aline Extra",
                "status": "draft",
                "submitted_at": None,
                "gateway_reference": None,
                "late_outcome": None,
            }
            cashin = Cashin(**row)
            db.session.add(cashin)
            db.session.commit()
            rows.append({**row, "id": cashin.id})
            extra += 1
        db.session.remove()
    bcb = in_sample("BCB")
    monkeypatch.setattr(search, "COUNT_BOUND", bcb - 1)
    with app.app_context():
        with statements() as seen:
            totals = cashins_queries.cashin_totals(f)
        assert totals == cashins_queries.CashinTotals(bcb - 1, 0, 0, known=False)
        if db.engine.dialect.name == "postgresql":
            probe = [p for s, p in seen if "cashin_search_sample_count(" in s]
            assert len(probe) == 1 and "BCB" in probe[0].values(), seen  # the bank: asked there
            # The sample's own count, within the bank and in every bank (more).
            assert CASHIN_TEXT.count_in_sample("aline", {"bank_slug": "BCB"}, 10**6) == bcb
            assert CASHIN_TEXT.count_in_sample("aline", {}, 10**6) == in_sample("") > bcb
            assert not _bounded_reads(seen, "cashins"), seen  # the cash-ins not read
            # The bank is read in the sample's trigram index (f17015ea4c04), not row by row
            # after it.
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(
                    "EXPLAIN SELECT 1 FROM cashin_search_sample"
                    " WHERE text LIKE %s AND bank_slug = %s LIMIT 2",
                    ("%aline%", "BCB"),
                )
                plan = " ".join(str(row[0]) for row in cursor.fetchall())
            finally:
                raw.rollback()
                raw.close()
            assert "ix_cashin_search_sample_trgm" in plan, plan
            assert "Filter" not in plan, plan  # no bank checked row by row
            assert "Index Cond: (((bank_slug)::text = 'BCB'::text)" in plan, plan
            # The cash-ins' own trigram index holds it too (a few rows here: the planner would
            # rather read the bank's; at scale it reads this one, see make bench).
            definition = db.session.scalar(
                text("SELECT pg_get_indexdef('ix_cashins_search_trgm'::regclass)")
            )
            assert "gin (bank_slug, cashin_search_text(" in definition, definition
        with statements() as seen:
            other = cashins_queries.cashin_totals(replace(f, status="succeeded"))
        assert not any("cashin_search_sample" in s for s, _ in seen), seen
        assert _bounded_reads(seen, "cashins"), seen  # read from the cash-ins, as before
        narrower = [r for r in rows if _shown(r, replace(f, status="succeeded"))]
        assert other.known == (len(narrower) < bcb), (other, len(narrower))


CASHIN_CASES = [
    CashinFilters(search="aline"),
    CashinFilters(search="kaneza"),
    CashinFilters(search="aline", bank_slug="BCB"),
    CashinFilters(search="ft0000001"),
    CashinFilters(search="zawadi"),  # nothing
    CashinFilters(search="al"),  # too short for the index
    CashinFilters(search="aline", status="needs_checking"),
]


def _walk_cashins(f: CashinFilters, size: int) -> tuple[cashins_queries.CashinTotals, list[int]]:
    totals = cashins_queries.cashin_totals(f)

    def page(**cursor: int) -> Any:
        many = not totals.known
        return cashins_queries.list_cashins(f, size=size, many=many, found=totals.found, **cursor)

    listed = page()
    walked = [c.id for c in listed.rows]
    while listed.older:
        listed = page(older=listed.older)
        walked += [c.id for c in listed.rows]
    return totals, walked


def test_cashin_searches_match_a_plain_scan_at_every_bound(
    app: Flask,
    rows: list[dict[str, Any]],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with app.app_context():
        for f in CASHIN_CASES:
            shown = [r for r in rows if _shown(r, f)]
            expected = _newest_first(shown)
            for bound, newest in _bounds_and_ranges(expected, CASHIN_TEXT.sample_every):
                monkeypatch.setattr(search, "COUNT_BOUND", bound)
                monkeypatch.setattr(search, "NEWEST_MATCHES", newest)
                totals, walked = _walk_cashins(f, 3)
                assert walked == expected, (f, bound)
                if len(expected) > bound:
                    assert totals == cashins_queries.CashinTotals(bound, 0, 0, known=False)
                else:
                    assert totals == cashins_queries.CashinTotals(
                        len(shown),
                        sum(r["amount"] for r in shown),
                        sum(r["amount"] for r in shown if r["status"] == "succeeded"),
                    ), (f, bound)
                db.session.remove()


def test_a_cashin_search_with_few_matches_finds_its_page_among_their_ids(
    app: Flask,
    rows: list[dict[str, Any]],  # noqa: F811 - the fixture
) -> None:
    f = CashinFilters(search="aline", bank_slug="BCB")
    with app.app_context():
        with statements() as seen:
            totals, walked = _walk_cashins(f, 50)
        assert totals.known and walked == _newest_first([r for r in rows if _shown(r, f)])
        assert not _pages_read_the_text_index(seen, "cashin_search_text"), seen


AUDIT_CASES = [{"who": "typo"}, {"who": "typo_1"}, {"who": "po_"}, {"who": "ty"}, {"who": "zz9"}]


def _audit(args: dict[str, str]) -> tuple[int | None, list[int]]:
    found = AuditFilter.from_args(MultiDict(args), "Africa/Bujumbura")
    total, query, known = found.bounded()
    keys = (AuditEvent.created_at, AuditEvent.id)
    listed = keyset_page(query, keys, size=4, known=known)
    walked = [e.id for e in listed.rows]
    while listed.older:
        listed = keyset_page(query, keys, size=4, older=listed.older, known=known)
        walked += [e.id for e in listed.rows]
    return total, walked


def test_audit_searches_match_a_plain_scan_at_every_bound(
    app: Flask,
    events: list[dict[str, Any]],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with app.app_context():
        every = db.session.execute(select(AuditEvent.id, AuditEvent.actor_label)).all()
        made = {e["id"]: e for e in events}
        for args in AUDIT_CASES:
            term = args["who"]
            # What a plain scan of the whole trail finds: the rows made here, none else.
            hits = [i for i, label in every if term in (label or "").lower()]
            assert set(hits) <= set(made), args
            expected = _newest_first([made[i] for i in hits])
            for bound, newest in _bounds_and_ranges(expected, WHO_TEXT.sample_every):
                monkeypatch.setattr(search, "COUNT_BOUND", bound)
                monkeypatch.setattr(search, "NEWEST_MATCHES", newest)
                total, walked = _audit(args)
                assert walked == expected, (args, bound)
                assert total == (None if len(expected) > bound else len(expected)), (args, bound)
                db.session.remove()


def test_an_audit_search_with_few_matches_finds_its_page_among_their_ids(
    app: Flask,
    events: list[dict[str, Any]],  # noqa: F811 - the fixture
) -> None:
    with app.app_context():
        with statements() as seen:
            total, walked = _audit({"who": "typo_1"})
        assert total == len(walked) and walked
        assert not _pages_read_the_text_index(seen, "lower(audit_events.actor_label)"), seen


def test_a_page_chosen_among_known_rows_is_the_page_the_database_would_give(
    app: Flask,
    bills: list[dict[str, Any]],  # noqa: F811 - the fixture
) -> None:
    """paging.keyset_page with ``known`` (a search's matches, read already) gives the rows and
    links it gives without: every page size, from every row as the "older" and the "newer"
    cursor, from a row that is not among them, and from one that does not exist."""
    f = BillFilters(search="aline")
    keys = (Bill.created_at, Bill.id)
    with app.app_context():
        matches = queries._filtered(select(*queries.LIST_COLUMNS), f)
        known = [
            tuple(r)
            for r in db.session.execute(
                select(sortable(Bill.created_at), Bill.id).where(
                    queries.BILL_TEXT.matches(f.search)
                )
            )
        ]
        assert 4 < len(known) < 200
        stranger = next(r["id"] for r in bills if not _matches(r, f))
        cursors = [None, stranger, 10**9, *(ident for _, ident in known)]
        for size in (1, 3, 50):
            for cursor in cursors:
                for side in ("older", "newer"):
                    where = {side: cursor} if cursor else {}
                    plain = keyset_page(matches, keys, size=size, columns=True, **where)
                    chosen = keyset_page(
                        select(*queries.LIST_COLUMNS),
                        keys,
                        size=size,
                        columns=True,
                        known=known,
                        **where,
                    )
                    assert [tuple(r) for r in chosen.rows] == [tuple(r) for r in plain.rows]
                    assert (chosen.newer, chosen.older) == (plain.newer, plain.older), (
                        size,
                        side,
                        cursor,
                    )
