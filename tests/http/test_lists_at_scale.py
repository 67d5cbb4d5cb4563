"""Lists that stay fast at 100 000 rows: keyset pages, indexed search, totals from per-day rows,
column-only loading. Each test compares with the plain answer computed from the rows."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update

from dashboard.bills import queries
from dashboard.bills.queries import BillFilters
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillDayTotal, BillState, Cashin, User
from tests.conftest import WebClient

ZONE = ZoneInfo("Africa/Bujumbura")
# Around a UTC midnight (22:00 local) and a local midnight (22:00 UTC), with ties in time.
START = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
PAYERS = ["aline.kaneza@example.com", "79123456", "jdoe_77", "10042", "ALINE_N", "eric%20"]
WORDS = ["bags of rice", "Crates of Primus", "school fees 50%", "rent_month", "solar lamps"]


def _make_bills(staff: dict[str, User], count: int = 70) -> list[dict[str, Any]]:
    rng = random.Random(7)
    issuers = [staff["cashier"].id, staff["accountant"].id]
    rows = []
    for i in range(count):
        status = rng.choice(list(BillState))
        sent = status not in (BillState.CREATING, BillState.REJECTED, BillState.UNKNOWN)
        rows.append(
            {
                "merchant_reference": f"B261127-{i:06d}",
                "form_token": f"form-{i}",
                "public_token": f"public-{i}",
                "amount": 500 + 100 * rng.randrange(200),
                "payer": rng.choice(PAYERS),
                "payer_kind": "email",
                "description": f"{rng.randint(1, 9)} {rng.choice(WORDS)}",
                "status": status.value,
                "code": f"BILL-20261127-XK{i:04d}Q" if sent else None,
                "issued_by_id": rng.choice(issuers),
                # Every 45 min, three bills share each time: ties the order must break by id.
                "created_at": START + timedelta(minutes=45 * (i // 3)),
                "gateway_reply": {"bill": {"code": "x" * 50}} if sent else None,
            }
        )
    return rows


@pytest.fixture()
def bills(app: Flask, staff: dict[str, User]) -> list[dict[str, Any]]:
    rows = _make_bills(staff)
    with app.app_context():
        db.session.add_all(Bill(**row) for row in rows)
        db.session.commit()
        ids = db.session.scalars(select(Bill.id).order_by(Bill.id)).all()
    for row, ident in zip(rows, ids, strict=True):
        row["id"] = ident
    return rows


def _old_like(row: dict[str, Any], term: str) -> bool:
    """What ``lower(column) LIKE '%term%'`` on the four columns found, as plain substrings."""
    columns = ("merchant_reference", "code", "payer", "description")
    return any(term.lower() in (row[c] or "").lower() for c in columns)


def _matches(row: dict[str, Any], f: BillFilters) -> bool:
    # Unknown: also "creating" long after any gateway call (these bills are days old).
    states = {"unknown", "creating"} if f.status == "unknown" else {f.status}
    return (
        (not f.status or row["status"] in states)
        and (not f.date_from or row["created_at"] >= f.date_from)
        and (not f.date_to or row["created_at"] < f.date_to)
        and (not f.issued_by or row["issued_by_id"] == f.issued_by)
        and (not f.search or _old_like(row, f.search))
    )


def _newest_first(rows: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]


def _local(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=ZONE)


def _filter_cases(staff: dict[str, User]) -> list[BillFilters]:
    return [
        BillFilters(),
        BillFilters(status="paid"),
        BillFilters(status="unknown"),  # two states merged in order
        BillFilters(status="unknown", date_from=_local(28, 13)),
        BillFilters(date_from=_local(28), date_to=_local(29)),  # one local day
        BillFilters(date_from=_local(28), date_to=_local(30)),  # whole UTC days and ends
        BillFilters(date_from=_local(28, 13)),  # open-ended
        BillFilters(date_to=_local(28, 5), status="pending"),
        BillFilters(issued_by=staff["cashier"].id, date_from=_local(27)),
        BillFilters(search="aline"),
        BillFilters(search="of", status="expired"),
        BillFilters(date_from=datetime(2026, 11, 28, tzinfo=UTC), date_to=_local(30)),
    ]


def _walk(filters: BillFilters, size: int) -> Iterator[list[int]]:
    page = queries.list_bills(filters, size=size)
    yield [b.id for b in page.bills]
    while page.older:
        page = queries.list_bills(filters, size=size, older=page.older)
        yield [b.id for b in page.bills]


def test_keyset_pages_return_every_row_once_in_order_with_filters(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    with app.app_context():
        for filters in _filter_cases(staff):
            expected = _newest_first([r for r in bills if _matches(r, filters)])
            for size in (1, 4, 7):
                pages = list(_walk(filters, size))
                assert [i for page in pages for i in page] == expected, (filters, size)
                assert all(len(p) == size for p in pages[:-1])
                # And back: "newer" from the oldest page retraces the same pages.
                last = queries.list_bills(filters, size=size, older=None)
                if pages[-1] and len(pages) > 1:
                    newest_of_last = pages[-1][0]
                    back = queries.list_bills(filters, size=size, newer=newest_of_last)
                    assert [b.id for b in back.bills] == pages[-2], (filters, size)
                assert last.newer is None
                db.session.remove()


def test_a_search_past_the_totals_bound_says_more_than_and_pages_the_same(
    app: Flask,
    staff: dict[str, User],
    bills: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past SEARCH_TOTALS_MAX matches, a search shows "more than" instead of totals, and its
    pages (walked newest first through another plan) hold the same bills in the same order."""
    with app.app_context():
        cases = [
            BillFilters(search="aline"),
            BillFilters(search="of", status="expired"),  # too short for the index: exact
            BillFilters(search="aline", status="paid"),
            BillFilters(search="crates of", issued_by=staff["cashier"].id),
        ]
        before = [(list(_walk(f, 4)), _totals(f)) for f in cases]
        for f, (_, totals) in zip(cases, before, strict=True):
            assert totals == _expected_totals(bills, f), f
        bound = 3
        monkeypatch.setattr(queries, "SEARCH_TOTALS_MAX", bound)
        for f, (pages, totals) in zip(cases, before, strict=True):
            assert list(_walk(f, 4)) == pages, f
            page = queries.list_bills(f, size=4)
            indexed = len(f.search) >= queries.SEARCH_INDEX_MIN
            if indexed and totals[0] > bound:
                assert not page.totals_known and page.total_count == bound, f
                assert (page.total_amount, page.paid_amount, page.pending_amount) == (0, 0, 0)
            else:
                assert page.totals_known and _totals(f) == totals, f
            if db.engine.dialect.name == "postgresql":  # the index-only plan ends with the count
                plans = db.session.execute(text("SHOW enable_seqscan")).scalar_one()
                assert plans == "on"
            db.session.remove()


def test_the_bills_page_says_more_than_instead_of_totals_in_the_readers_language(
    make_app: Any,
    staff: dict[str, User],
    bills: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "SEARCH_TOTALS_MAX", 3)
    app = make_app()
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    matching = [r for r in bills if _old_like(r, "aline")]
    assert len(matching) > 3
    page = web.get("/bills/?q=aline").get_data(as_text=True)
    assert "More than 3 bills match this search." in page
    assert "paid BIF" not in page
    assert page.count("<code>B261127-") == min(len(matching), 50)
    french = {"Accept-Language": "fr"}
    page = web.get("/bills/?q=aline", headers=french).get_data(as_text=True)
    assert "Plus de 3 factures correspondent à cette recherche." in page
    page = web.get("/bills/?q=zzzz", headers=french).get_data(as_text=True)
    totals = re.search(r'data-testid="bill-totals">([^<]*)<', page)
    plain = totals.group(1).replace("\u00a0", " ") if totals else ""
    assert plain == "0 facture · payé 0 FBu · en attente de paiement 0 FBu"


def test_pager_links_keep_filters_and_cover_every_bill(
    make_app: Any, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    app = make_app(PAGE_SIZE=4)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    expected = {r["merchant_reference"] for r in bills if r["status"] == "paid"}
    seen: list[str] = []
    url: str | None = "/bills/?status=paid"
    while url:
        page = web.get(url).get_data(as_text=True)
        seen += re.findall(r"<code>(B261127-\d+)</code>", page)
        older = re.search(r'href="([^"]*older=[^"]*)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
        assert url is None or "status=paid" in url
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "term",
    [
        "aline",  # a payer's name fragment
        "ALINE",
        "261127-00004",  # part of a reference
        "xk0012",  # part of a bill code
        "crates of",  # description, across a space
        "of",  # two letters: no trigram to look up, still the same rows
        "jdoe_",  # LIKE wildcards are plain characters
        "50%",
        "e_m",
        'say "hi"',
        "rice 5",  # never across two columns
    ],
)
def test_search_finds_what_the_old_like_found(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]], term: str
) -> None:
    with app.app_context():
        page = queries.list_bills(BillFilters(search=term), size=500)
    expected = _newest_first([r for r in bills if _old_like(r, term)])
    assert [b.id for b in page.bills] == expected
    assert page.total_count == len(expected)


def test_search_stays_right_after_a_bill_changes(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    with app.app_context():
        bill = db.session.get(Bill, bills[0]["id"])
        assert bill is not None
        bill.code = "BILL-20261127-ZZTOPQ"
        bill.description = "one gramophone"
        db.session.commit()
        assert [b.id for b in queries.list_bills(BillFilters(search="zztop"), size=9).bills] == [
            bill.id
        ]
        assert [b.id for b in queries.list_bills(BillFilters(search="gramophone"), size=9).bills]
        old_words = queries.list_bills(BillFilters(search=bills[0]["description"]), size=99)
        assert bill.id not in [b.id for b in old_words.bills]


def _expected_totals(rows: list[dict[str, Any]], f: BillFilters) -> tuple[int, int, int, int]:
    chosen = [r for r in rows if _matches(r, f)]
    return (
        len(chosen),
        sum(r["amount"] for r in chosen),
        sum(r["amount"] for r in chosen if r["status"] == "paid"),
        sum(r["amount"] for r in chosen if r["status"] == "pending"),
    )


def _totals(f: BillFilters) -> tuple[int, int, int, int]:
    page = queries.list_bills(f, size=1)
    return page.total_count, page.total_amount, page.paid_amount, page.pending_amount


def test_totals_match_the_rows_after_state_changes(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    rng = random.Random(11)
    with app.app_context():
        for filters in _filter_cases(staff):
            assert _totals(filters) == _expected_totals(bills, filters), filters
        # The ways the app changes a bill: the ORM (a status change) and a bulk UPDATE.
        for row in rng.sample(bills, 25):
            bill = db.session.get(Bill, row["id"])
            assert bill is not None
            row["status"] = bill.status = rng.choice(list(BillState)).value
        db.session.commit()
        db.session.execute(update(Bill).where(Bill.status == "pending").values(status="expired"))
        db.session.commit()
        for row in bills:
            row["status"] = "expired" if row["status"] == "pending" else row["status"]
        # A new bill counts at once.
        db.session.add(
            Bill(
                **{
                    **_make_bills(staff, 1)[0],
                    "merchant_reference": "B261201-NEW001",
                    "form_token": "form-new",
                    "public_token": "public-new",
                    "code": None,
                    "created_at": _local(29, 23),
                }
            )
        )
        db.session.commit()
        new = db.session.scalars(select(Bill).where(Bill.merchant_reference == "B261201-NEW001"))
        bill = new.one()
        bills.append(
            {
                "id": bill.id,
                "status": bill.status,
                "amount": bill.amount,
                "created_at": bill.created_at,
                "issued_by_id": bill.issued_by_id,
                **{k: getattr(bill, k) for k in ("merchant_reference", "code", "payer")},
                "description": bill.description,
            }
        )
        for filters in _filter_cases(staff):
            assert _totals(filters) == _expected_totals(bills, filters), filters
        # The per-day rows hold no more than the bills.
        rows = db.session.scalars(select(BillDayTotal)).all()
        assert sum(r.bills for r in rows) == len(bills)


def test_list_and_export_never_load_the_gateway_replies(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]], web: WebClient
) -> None:
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
    try:
        web.login("accountant@example.com")
        assert web.get("/bills/").status_code == 200
        assert web.get("/bills/?q=aline").status_code == 200
        assert web.get("/reports/bills.csv?month=2026-11").status_code == 200
        assert web.get("/reports/cashins.csv?month=2026-11").status_code == 200
        assert web.get("/cashins/").status_code == 200
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", capture)
    assert [s for s in statements if "FROM bills" in s]
    assert not [s for s in statements if "bills.gateway_reply" in s]
    lists = ("ORDER BY cashins.created_at DESC", "cashins.created_at >=")  # list, export
    cashin_lists = [s for s in statements if any(part in s for part in lists)]
    assert cashin_lists and not [s for s in cashin_lists if "cashins.gateway_reply" in s]


EXPORT_HEADER = (
    "issued_at,reference,ihela_code,status,amount_bif,refunds_bif,payer,description,"
    "issued_by,bank_reference,refunds_pending_bif"
)


def test_export_rows_are_unchanged(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]], web: WebClient
) -> None:
    """Every bill of the month, oldest first, in the columns and format the export always had."""
    emails = {u.id: u.email for u in staff.values()}
    web.login("accountant@example.com")
    body = web.get("/reports/bills.csv?month=2026-11").get_data(as_text=True)
    assert body.startswith("\ufeff")
    got = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    in_month = [r for r in bills if r["created_at"] < datetime(2026, 11, 30, 22, tzinfo=UTC)]
    expected = [
        [
            r["created_at"].astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            r["merchant_reference"],
            r["code"] or "",
            r["status"],
            str(r["amount"]),
            "0",
            r["payer"],
            r["description"],
            emails[r["issued_by_id"]],
            "",
            "0",
        ]
        for r in sorted(in_month, key=lambda r: r["id"])
    ]
    assert got[0] == EXPORT_HEADER.split(",")
    assert got[1:] == expected


def test_search_is_served_by_the_index(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        captured.append((statement, params))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        queries.list_bills(BillFilters(search="aline"), size=10)
        event.remove(db.engine, "before_cursor_execute", capture)
        postgres = db.engine.dialect.name == "postgresql"
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if postgres:
                # A tiny table, where reading it all is cheapest: ask what an index can do.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
            search = next(s for s in captured if "bill_search_text" in s[0] or "MATCH" in s[0])
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + search[0], search[1])
            plan = " ".join(str(row[0] if postgres else row[-1]) for row in cursor.fetchall())
        finally:
            raw.rollback()
            raw.close()
    if postgres:
        assert "ix_bills_search_trgm" in plan, plan
    else:
        assert "VIRTUAL TABLE INDEX" in plan and "bills_search" in plan, plan


def test_cashins_and_audit_pages_cover_every_row_once(
    make_app: Any, staff: dict[str, User]
) -> None:
    app = make_app(PAGE_SIZE=3)
    with app.app_context():
        at = START
        for i in range(8):
            db.session.add(
                Cashin(
                    merchant_reference=f"C261127-{i:06d}",
                    bank_slug="MF1-0001",
                    bank_name="Bank",
                    account=f"0000{i}",
                    holder_name=f"Holder {i}",
                    holder_check="confirmed",
                    amount=1000 + i,
                    description="refund",
                    reason="payout",
                    status="draft" if i % 2 else "succeeded",
                    created_by_id=staff["accountant"].id,
                    created_at=at + timedelta(minutes=i // 2),  # ties again
                )
            )
        for i in range(7):
            db.session.add(AuditEvent(actor_label="paging@example.com", action=f"test.{i}"))
        db.session.commit()
    web = WebClient(app.test_client())
    web.login("admin@example.com")
    for start, pattern, expected in (
        ("/cashins/", r"<code>(C261127-\d+)</code>", 8),
        ("/cashins/?status=draft", r"<code>(C261127-\d+)</code>", 4),
        ("/admin/audit?who=paging", r'data-action="(test\.\d)"', 7),
    ):
        seen: list[str] = []
        url: str | None = start
        while url:
            page = web.get(url).get_data(as_text=True)
            seen += re.findall(pattern, page)
            older = re.search(r'href="([^"]*older=[^"]*)"', page)
            url = older.group(1).replace("&amp;", "&") if older else None
        assert len(seen) == len(set(seen)) == expected, (start, seen)


def test_summary_rows_follow_a_bill_moved_by_sql(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    """The per-day rows are kept by the database itself, whatever writes the bills."""
    with app.app_context():
        db.session.execute(text("DELETE FROM bills WHERE status = 'paid'"))
        db.session.commit()
        rest = [r for r in bills if r["status"] != "paid"]
        assert _totals(BillFilters()) == _expected_totals(rest, BillFilters())


def test_a_filter_the_day_rows_cannot_answer_is_counted_from_the_bills(
    app: Flask,
    staff: dict[str, User],
    bills: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A filter added later (say, bills above an amount) must not get the per-day totals of
    the unfiltered set."""

    @dataclass
    class WithMinimum(BillFilters):
        minimum: int = 0

    plain = queries._filtered

    def filtered(query: Any, filters: Any, **how: Any) -> Any:
        query = plain(query, filters, **how)
        return query.where(Bill.amount >= filters.minimum) if filters.minimum else query

    monkeypatch.setattr(queries, "_filtered", filtered)
    with app.app_context():
        page = queries.list_bills(WithMinimum(minimum=10_000), size=5)
    big = [r for r in bills if r["amount"] >= 10_000]
    assert page.total_count == len(big) < len(bills)
    assert page.total_amount == sum(r["amount"] for r in big)


def test_totals_of_all_time_read_the_all_time_summaries_not_every_month(
    app: Flask, staff: dict[str, User], bills: list[dict[str, Any]]
) -> None:
    """A list's first page, and its status, person, bank or reason filters, total everything
    ever made: from the all-time summaries (a few rows per key), never the month or day rows
    (one per month, more every month). A date bound still reads the months."""
    from dashboard.cashins import queries as cashin_queries
    from dashboard.cashins.queries import CashinFilters

    captured: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        captured.append(statement)

    def read(totals: Any) -> str:
        captured.clear()
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            totals()
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        return " ".join(captured)

    cashier = staff["cashier"].id
    with app.app_context():
        for filters in (BillFilters(), BillFilters(status="paid"), BillFilters(issued_by=cashier)):
            said = read(lambda f=filters: queries._totals(f))  # type: ignore[misc]
            assert "bill_all_time_totals" in said and "month" not in said, (filters, said)
            assert "bill_day_totals" not in said and "FROM bills" not in said, said
        for cashin_filters in (
            CashinFilters(),
            CashinFilters(status="succeeded"),
            CashinFilters(bank_slug="BCB"),
            CashinFilters(prepared_by=cashier, reason="refund"),
        ):
            said = read(lambda f=cashin_filters: cashin_queries.cashin_totals(f))  # type: ignore[misc]
            assert "cashin_all_time_totals" in said and "month" not in said, said
            assert "FROM cashins" not in said, said
        bounded = read(lambda: queries._totals(BillFilters(date_to=_local(28, 5))))
        assert "bill_month_totals" in bounded and "all_time" not in bounded, bounded
