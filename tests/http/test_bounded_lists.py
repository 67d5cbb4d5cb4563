"""The cash-ins list and the audit trail at scale: counts that stop at a bound ("more than
1 000"), searches through an index, and keyset pages that hold every row once, in order,
whichever plan serves them (few matches: through the index; many: walking newest first)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from dashboard import search
from dashboard.admin.audit_filter import AuditFilter
from dashboard.cashins import queries as cashins_queries
from dashboard.cashins import services as cashins
from dashboard.cashins.queries import CashinFilters
from dashboard.db import db
from dashboard.models import AuditEvent, Cashin, User
from dashboard.paging import keyset_page
from tests.conftest import WebClient

START = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
DAY = timedelta(days=1)  # the audit rows made here are within it; the fixtures' are today
HOLDERS = ["Aline Kaneza", "ALINE Niyonzima", "Eric 50% Ndayishimiye", "Jean_Claude Irakoze"]
STATES = ["succeeded", "failed", "unknown", "draft", "submitting", "rejected"]


@pytest.fixture()
def rows(app: Flask, staff: dict[str, User]) -> list[dict[str, Any]]:
    rng = random.Random(11)
    made = []
    with app.app_context():
        for i in range(40):
            status = rng.choice(STATES)
            row = {
                "merchant_reference": f"C261127-{i:06d}",
                "bank_slug": rng.choice(["BCB", "BGF"]),
                "bank_name": "Bank",
                "account": f"7{i:07d}",
                "holder_name": rng.choice(HOLDERS),
                "holder_check": "confirmed",
                "amount": 1000 + 100 * i,
                "description": "refund",
                "reason": rng.choice(["refund", "payout"]),
                "status": status,
                "created_by_id": staff["accountant"].id,
                "created_at": START + timedelta(minutes=10 * (i // 3)),  # ties
                "submitted_at": START - timedelta(days=1) if status == "submitting" else None,
                "gateway_reference": f"FT{i:08d}" if status == "succeeded" else None,
                # Late answers that disagree with a person's resolution, some still open.
                "late_outcome": "succeeded" if status == "failed" and i % 2 else None,
            }
            db.session.add(Cashin(**row))
            made.append(row)
        db.session.commit()
        ids = db.session.scalars(select(Cashin.id).order_by(Cashin.id)).all()
    for row, ident in zip(made, ids, strict=True):
        row["id"] = ident
    return made


def _like(row: dict[str, Any], term: str) -> bool:
    columns = ("holder_name", "account", "merchant_reference", "gateway_reference")
    return any(term.lower() in (row[c] or "").lower() for c in columns)


def _shown(row: dict[str, Any], f: CashinFilters) -> bool:
    if f.status == cashins.NEEDS_CHECKING:
        wanted = row["status"] in ("unknown", "submitting") or row["late_outcome"] is not None
    else:
        wanted = not f.status or row["status"] == f.status
    return (
        wanted
        and (not f.bank_slug or row["bank_slug"] == f.bank_slug)
        and (not f.search or _like(row, f.search))
    )


def _newest_first(rows: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]


def _walk_cashins(f: CashinFilters, size: int, many: bool) -> list[list[int]]:
    page = cashins_queries.list_cashins(f, size=size, many=many)
    pages = [[c.id for c in page.rows]]
    while page.older:
        page = cashins_queries.list_cashins(f, size=size, older=page.older, many=many)
        pages.append([c.id for c in page.rows])
    if len(pages) > 1:  # and back up from the last page
        back = cashins_queries.list_cashins(f, size=size, newer=pages[-1][0], many=many)
        assert [c.id for c in back.rows] == pages[-2]
    return pages


CASES = [
    CashinFilters(),
    CashinFilters(search="aline"),  # in two holders, any case
    CashinFilters(search="50%"),  # % searched as such
    CashinFilters(search="n_c"),  # _ too
    CashinFilters(search="ft0000001"),  # iHela's reference
    CashinFilters(search="al"),  # too short for the index: plain LIKE
    CashinFilters(search="aline", bank_slug="BCB"),
    CashinFilters(status=cashins.NEEDS_CHECKING),  # three indexed parts, merged in order
    CashinFilters(status=cashins.NEEDS_CHECKING, bank_slug="BGF"),
]


def test_cashin_lists_and_bounded_totals_match_the_rows(
    app: Flask, rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        for f in CASES:
            shown = [r for r in rows if _shown(r, f)]
            expected = _newest_first(shown)
            for size in (1, 4):
                for many in (False, True):  # either plan: the same pages
                    pages = _walk_cashins(f, size, many)
                    assert [i for p in pages for i in p] == expected, (f, size, many)
            totals = cashins_queries.cashin_totals(f)
            assert totals == cashins_queries.CashinTotals(
                len(shown),
                sum(r["amount"] for r in shown),
                sum(r["amount"] for r in shown if r["status"] == "succeeded"),
            ), f
        # Past the bound, a search or "needs checking" says "more than" and shows no francs.
        monkeypatch.setattr(search, "COUNT_BOUND", 3)
        for f in CASES:
            shown = [r for r in rows if _shown(r, f)]
            totals = cashins_queries.cashin_totals(f)
            if (f.search or f.status) and len(shown) > 3:
                assert totals == cashins_queries.CashinTotals(3, 0, 0, known=False), f
            else:
                assert totals.known and totals.count == len(shown), f


def test_cashin_search_follows_changes(app: Flask, rows: list[dict[str, Any]]) -> None:
    """The search index (FTS5 on SQLite, kept by triggers) follows an edited holder."""
    with app.app_context():
        target = rows[5]
        db.session.execute(
            update(Cashin).where(Cashin.id == target["id"]).values(holder_name="Zawadi Umutoni")
        )
        db.session.commit()
        found = cashins_queries.list_cashins(CashinFilters(search="zawadi"), size=10, many=False)
        assert [c.id for c in found.rows] == [target["id"]]
        before = CashinFilters(search=target["holder_name"].split()[0][:5])
        ids = [c.id for c in cashins_queries.list_cashins(before, size=50, many=False).rows]
        assert target["id"] not in ids


def test_the_cashins_page_says_more_than_in_the_readers_language(
    make_app: Any, staff: dict[str, User], rows: list[dict[str, Any]], monkeypatch: Any
) -> None:
    monkeypatch.setattr(search, "COUNT_BOUND", 3)
    web = WebClient(make_app().test_client())
    web.login("accountant@example.com")
    page = web.get("/cashins/?q=aline").get_data(as_text=True)
    assert "More than 3 cash-ins match this search." in page
    assert page.count("<code>C261127-") == sum(_like(r, "aline") for r in rows)
    page = web.get("/cashins/?q=aline", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Plus de 3 versements correspondent à cette recherche." in page
    page = web.get("/cashins/?q=zawadi").get_data(as_text=True)
    assert "0 cash-ins" in page


# --- the audit trail --------------------------------------------------------------------------

ACTIONS = ["auth.login", "auth.login_failed", "bill.created", "cashin.approved", "setting.changed"]


@pytest.fixture()
def events(app: Flask, staff: dict[str, User]) -> list[dict[str, Any]]:
    rng = random.Random(5)
    people = [staff["cashier"].id, staff["accountant"].id]
    made = []
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        for i in range(45):
            action = rng.choice(ACTIONS)
            failed = action == "auth.login_failed"
            kind = action.split(".")[0] if action != "auth.login" else None
            row = {
                "created_at": START + timedelta(minutes=7 * (i // 2)),  # ties
                "actor_id": None if failed else rng.choice(people),
                "actor_label": f"Typo_{i % 4}@example.com" if failed else "staff@shop.bi",
                "action": action,
                "object_type": {"auth": None}.get(kind or "auth", kind),
                "object_id": f"X{i % 3}" if kind and kind != "auth" else None,
                "summary": "",
            }
            db.session.add(AuditEvent(**row))
            made.append(row)
        db.session.commit()
        ids = db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.id > before).order_by(AuditEvent.id)
        ).all()
    for row, ident in zip(made, ids, strict=True):
        row["id"] = ident
    return made


AUDIT_CASES = [
    {"who": "typo_"},  # _ searched as such, any case
    {"who": "po_1"},
    {"who": "ty"},  # too short for the index
    {"action": "cashin."},
    {"action": "auth.login"},  # a prefix of two actions
    {"object_type": "bill"},
    {"object_type": "setting", "object_id": "X1"},
    {"who": "staff", "action": "bill."},
]


def _audit_walk(found: AuditFilter, size: int, many: bool) -> list[int]:
    keys = (AuditEvent.created_at, AuditEvent.id)
    query = found.apply(select(AuditEvent).where(AuditEvent.created_at < START + DAY), many=many)
    page = keyset_page(query, keys, size=size)
    seen = [e.id for e in page.rows]
    while page.older:
        page = keyset_page(query, keys, size=size, older=page.older)
        seen += [e.id for e in page.rows]
    return seen


def _audit_matches(row: dict[str, Any], args: dict[str, str]) -> bool:
    return (
        args.get("who", "").lower() in row["actor_label"].lower()
        and row["action"].startswith(args.get("action", ""))
        and (not args.get("object_type") or row["object_type"] == args["object_type"])
        and (not args.get("object_id") or row["object_id"] == args["object_id"])
    )


def test_audit_pages_and_bounded_count_match_the_rows(
    app: Flask, events: list[dict[str, Any]]
) -> None:
    from werkzeug.datastructures import MultiDict

    with app.app_context():
        for args in AUDIT_CASES:
            found = AuditFilter.from_args(MultiDict(args), "Africa/Bujumbura")
            expected = _newest_first([e for e in events if _audit_matches(e, args)])
            assert expected, args
            for size in (1, 4):
                for many in (False, True):
                    assert _audit_walk(found, size, many) == expected, (args, size, many)
            query = found.apply(select(AuditEvent.id).where(AuditEvent.created_at < START + DAY))
            assert search.bounded_count(query) == len(expected)
            assert search.bounded_count(query, 2) is None or len(expected) <= 2


def test_the_audit_trail_says_more_than_past_the_bound(
    make_app: Any, staff: dict[str, User], events: list[dict[str, Any]], monkeypatch: Any
) -> None:
    app = make_app(PAGE_SIZE=4)
    web = WebClient(app.test_client())
    web.login("admin@example.com")
    page = web.get("/admin/audit?who=typo").get_data(as_text=True)
    failed = sum("Typo" in e["actor_label"] for e in events)
    assert f"{failed} events" in page
    monkeypatch.setattr(search, "COUNT_BOUND", 3)
    page = web.get("/admin/audit?who=typo").get_data(as_text=True)
    assert "More than 3 events match this filter." in page
    french = web.get("/admin/audit?who=typo", headers={"Accept-Language": "fr"})
    assert "Plus de 3 événements correspondent à ce filtre." in french.get_data(as_text=True)
    # The pager still walks every matching row once.
    seen: list[str] = []
    url: str | None = "/admin/audit?who=typo"
    while url:
        page = web.get(url).get_data(as_text=True)
        seen += re.findall(r'data-action="(auth\.login_failed)"', page)
        older = re.search(r'href="([^"]*older=[^"]*)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(seen) == failed
