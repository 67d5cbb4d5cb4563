"""What a list page does per row stays small: each distinct label is translated once per page and
the rows' links are built without url_for each; the cash-ins that need checking are read through
their indexes, never by walking every cash-in."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_babel
import pytest
from flask import Flask, url_for
from sqlalchemy import event, update

from dashboard.cashins import queries
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, Cashin, User
from dashboard.row_links import row_url
from tests.conftest import WebClient
from tests.http.test_one_language import staff_in_french

START = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
ACTORS = ["cron", "iHela", "accountant@example.com", "iHela callback", "payer returned"]
ACTIONS = [
    ("bill.created", "bill"),
    ("cashin.drafted", "cashin"),
    ("auth.login", None),
    ("user.role_changed", "user"),
    ("setting.changed", "setting"),
    ("customer.note_changed", "customer"),
]


def _add_rows(app: Flask, staff: dict[str, User], first: int, count: int) -> None:
    """``count`` more bills, cash-ins and audit entries (varied statuses, actors, actions)."""
    with app.app_context():
        for i in range(first, first + count):
            at = START + timedelta(minutes=i)
            db.session.add(
                Bill(
                    merchant_reference=f"B261127-{i:06d}",
                    form_token=f"form-{i}",
                    public_token=f"public-{i}",
                    amount=500 + 100 * i,
                    payer="aline@example.com",
                    payer_kind="email",
                    description=f"{i} bags of rice",
                    status=["pending", "paid", "expired", "unknown"][i % 4],
                    issued_by_id=staff["cashier"].id,
                    created_at=at,
                )
            )
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
                    status=["succeeded", "draft", "failed", "unknown"][i % 4],
                    created_by_id=staff["accountant"].id,
                    created_at=at,
                )
            )
            action, kind = ACTIONS[i % len(ACTIONS)]
            db.session.add(
                AuditEvent(
                    created_at=at,
                    actor_label=ACTORS[i % len(ACTORS)],
                    action=action,
                    object_type=kind,
                    object_id={
                        "bill": f"B261127-{i:06d}",
                        "cashin": f"C261127-{i:06d}",
                        "user": str(staff["cashier"].id),
                        "setting": "CASHIN_MAX_AMOUNT",
                        "customer": "7",
                    }.get(kind or ""),
                )
            )
        db.session.commit()


@pytest.fixture()
def counted(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Calls to Flask-Babel's translations and to url_for while a page is made."""
    calls: Counter[str] = Counter()

    def counting(name: str, original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    for name in ("gettext", "pgettext", "ngettext"):
        monkeypatch.setattr(
            flask_babel.Domain, name, counting(name, getattr(flask_babel.Domain, name))
        )
    monkeypatch.setattr(Flask, "url_for", counting("url_for", Flask.url_for))
    # Templates call the app's own url_for, bound when the app was made.
    globals_ = app.jinja_env.globals
    monkeypatch.setitem(globals_, "url_for", counting("url_for", globals_["url_for"]))
    yield calls


PAGES = [
    ("accountant@example.com", "/bills/"),
    ("accountant@example.com", "/cashins/"),
    ("admin@example.com", "/admin/audit"),
]


@pytest.mark.parametrize(("email", "path"), PAGES)
def test_a_list_translates_and_links_no_more_for_more_rows(
    app: Flask, staff: dict[str, User], counted: Counter[str], email: str, path: str
) -> None:
    for web in (WebClient(app.test_client()), staff_in_french(app, email)):
        web.login(email)
        made: list[Counter[str]] = []
        first = 0
        for more in (6, 30):  # a page of 6 rows, then of 36
            _add_rows(app, staff, first, more)
            first += more
            web.get(path)  # the page once, as anyone would have opened it before
            counted.clear()
            page = web.get(path).get_data(as_text=True)
            made.append(Counter(counted))
        assert page.count("B261127-") + page.count("C261127-") >= 36 or "audit" in path
        assert made[0] == made[1], (path, made)
        _wipe_rows(app)


def _wipe_rows(app: Flask) -> None:
    with app.app_context():
        for model in (AuditEvent, Cashin, Bill):
            db.session.query(model).delete()
        db.session.commit()


def test_the_audit_trail_says_each_row_in_words_with_its_link(
    app: Flask, staff: dict[str, User]
) -> None:
    _add_rows(app, staff, 0, 12)
    admin = staff_in_french(app, "admin@example.com")
    page = admin.get("/admin/audit").get_data(as_text=True)
    words_seen = ["vérification planifiée", "rappel d\u2019iHela", "Facture émise", "Connexion"]
    for words in [*words_seen, "Versement préparé"]:
        assert words in page, words
    with app.app_context():
        bill = db.session.query(Bill).filter_by(merchant_reference="B261127-000006").one()
        cashin = db.session.query(Cashin).filter_by(merchant_reference="C261127-000007").one()
    assert f'href="/bills/{bill.id}" data-testid="audit-object">Facture B261127-000006<' in page
    assert f'href="/cashins/{cashin.id}" data-testid="audit-object">' in page
    assert f'href="/admin/users#user-{staff["cashier"].id}"' in page
    assert 'href="/admin/settings#setting-CASHIN_MAX_AMOUNT"' in page
    assert 'href="/customers/7"' in page


def test_row_links_are_what_url_for_makes(app: Flask) -> None:
    for root in ("", "/shop"):
        with app.test_request_context("/", environ_base={"SCRIPT_NAME": root}):
            for endpoint, name in (
                ("bills.detail", "bill_id"),
                ("cashins.detail", "cashin_id"),
                ("customers.detail", "customer_id"),
            ):
                link = row_url(endpoint, name)
                for ident in (1, 9, 10, 12345, 1_987_654_321, 2**31 - 1):
                    assert link(ident) == url_for(endpoint, **{name: ident}), (root, ident)


def _late_conflict(app: Flask, reference: str) -> None:
    with app.app_context():
        db.session.execute(
            update(Cashin)
            .where(Cashin.merchant_reference == reference)
            .values(status="succeeded", late_outcome="failed", late_at=START)
        )
        db.session.commit()


def test_cashins_needing_checking_are_read_through_their_indexes(
    app: Flask, staff: dict[str, User], web: WebClient
) -> None:
    _add_rows(app, staff, 0, 40)  # every fourth one unknown
    for i in (5, 22, 38):
        _late_conflict(app, f"C261127-{i:06d}")
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        captured.append((statement, params))

    with app.test_request_context("/"):
        filters, _ = queries.parse_list_filters({"status": "needs_checking"}, "Africa/Bujumbura")
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            listed = queries.list_cashins(filters, size=50)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        references = [c.merchant_reference for c in listed.rows]
        expected = sorted({i for i in range(40) if i % 4 == 3} | {5, 22, 38}, reverse=True)
        assert references == [f"C261127-{i:06d}" for i in expected]
        if db.engine.dialect.name != "sqlite":
            return
        statement, params = captured[-1]
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
        finally:
            raw.close()
    # Each part an index range; none walks the cash-ins one by one (SCAN cashins ...).
    assert not [step for step in plan if step.startswith("SCAN cashins")], plan

    web.login("accountant@example.com")
    page = web.get("/cashins/?status=needs_checking").get_data(as_text=True)
    assert page.count('data-testid="late-conflict-badge"') == 3


def test_audit_anchors_are_what_url_for_makes(app: Flask, staff: dict[str, User]) -> None:
    from dashboard.admin.audit_filter import object_links

    odd = ["CASHIN_MAX_AMOUNT", "a b#c/é?x=1&y", "100%"]
    events = [
        AuditEvent(id=n, action="setting.changed", object_type="setting", object_id=key)
        for n, key in enumerate(odd, start=1)
    ]
    events.append(AuditEvent(id=9, action="poster.created", object_type="poster", object_id="12"))
    with app.test_request_context("/"):
        links = object_links(events)
        for n, key in enumerate(odd, start=1):
            assert links[n] == url_for("admin.settings_page", _anchor="setting-" + key)
        assert links[9] == url_for("shop.posters", _anchor="poster-12")


def test_cashins_needing_checking_page_older_and_newer_over_every_row_once(
    make_app: Any, staff: dict[str, User]
) -> None:
    app = make_app(PAGE_SIZE=3)
    _add_rows(app, staff, 0, 40)  # unknown: 3, 7, 11, ... 39
    for i in (5, 22, 38):
        _late_conflict(app, f"C261127-{i:06d}")
    expected = [f"C261127-{i:06d}" for i in sorted({*range(3, 40, 4), 5, 22, 38}, reverse=True)]
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    seen: list[str] = []
    pages: list[str] = []
    url: str | None = "/cashins/?status=needs_checking"
    while url:
        pages.append(url)
        page = web.get(url).get_data(as_text=True)
        seen += re.findall(r"<code>(C261127-\d+)</code>", page)
        older = re.search(r'href="([^"]*older=[^"]*)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
        assert url is None or "status=needs_checking" in url
    assert seen == expected
    # Back up from the last page: "newer" shows the page before, in the same order.
    last = web.get(pages[-1]).get_data(as_text=True)
    newer = re.search(r'rel="prev" href="([^"]*)"', last)
    assert newer is not None
    before = web.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    shown = re.findall(r"<code>(C261127-\d+)</code>", before)
    assert shown == expected[len(expected) - len(re.findall("C261127-", last)) - 3 :][:3]
