"""The audit trail's filters (person, action, object, date range) and the link on each entry."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from dashboard.db import db
from dashboard.models import AuditEvent, User
from tests.conftest import WebClient
from tests.http.test_bills import issue
from tests.http.test_cashins import prepare

# Bujumbura is UTC+2: 2026-11-10 22:30 UTC is already the 11th there.
EVENTS = [
    ("cashier", "bill.created", "bill", "B-11", datetime(2026, 11, 10, 8, 0, tzinfo=UTC)),
    ("cashier", "bill.status_changed", "bill", "B-12", datetime(2026, 11, 10, 22, 30, tzinfo=UTC)),
    ("accountant", "cashin.settled", "cashin", "C-7", datetime(2026, 11, 12, 9, 0, tzinfo=UTC)),
    ("admin", "user.role_changed", "user", "cashier", datetime(2026, 11, 13, 9, 0, tzinfo=UTC)),
    ("admin", "setting.changed", "setting", "BILL_MAX_AMOUNT", datetime(2026, 11, 14, tzinfo=UTC)),
]


def record_events(app: Flask, staff: dict[str, User]) -> None:
    with app.app_context():
        for who, action, kind, ident, when in EVENTS:
            person = staff[who]
            if ident == "cashier":
                ident = str(staff["cashier"].id)
            db.session.add(
                AuditEvent(
                    actor_id=person.id,
                    actor_label=person.email,
                    action=action,
                    object_type=kind,
                    object_id=ident,
                    summary=f"{action} test",
                    created_at=when,
                )
            )
        db.session.commit()


def actions_shown(web: WebClient, query: str) -> list[str]:
    page = web.get("/admin/audit?" + query).get_data(as_text=True)
    return sorted(re.findall(r'data-action="([a-z_.]+)"', page))


@pytest.fixture()
def admin(app: Flask, web: WebClient, staff: dict[str, User]) -> WebClient:
    record_events(app, staff)
    web.login("admin@example.com")
    return web


OURS = {e[1] for e in EVENTS}


def ours(web: WebClient, query: str) -> list[str]:
    return [a for a in actions_shown(web, query) if a in OURS]


def test_filter_by_person(admin: WebClient, staff: dict[str, User]) -> None:
    assert ours(admin, f"person={staff['cashier'].id}") == ["bill.created", "bill.status_changed"]
    assert ours(admin, f"person={staff['accountant'].id}") == ["cashin.settled"]
    page = admin.get(f"/admin/audit?person={staff['accountant'].id}").get_data(as_text=True)
    assert f'<option value="{staff["accountant"].id}" selected>' in page
    # Nonsense ids filter nothing rather than fail.
    assert admin.get("/admin/audit?person=99999999999999999999").status_code == 200


def test_filter_by_typed_email(admin: WebClient) -> None:
    assert ours(admin, "who=ACCOUNTANT@") == ["cashin.settled"]
    assert ours(admin, "who=%25") == []  # a LIKE wildcard is taken literally


def test_filter_by_action_or_its_prefix(admin: WebClient) -> None:
    assert ours(admin, "action=bill.") == ["bill.created", "bill.status_changed"]
    assert ours(admin, "action=bill.created") == ["bill.created"]
    assert ours(admin, "action=setting.changed") == ["setting.changed"]


def test_filter_by_object_type_and_id(admin: WebClient) -> None:
    assert ours(admin, "object_type=bill") == ["bill.created", "bill.status_changed"]
    assert ours(admin, "object_type=bill&object_id=B-12") == ["bill.status_changed"]
    assert ours(admin, "object_type=cashin&object_id=B-12") == []
    assert ours(admin, "object_id=C-7") == ["cashin.settled"]
    # An unknown type is ignored, not an error.
    assert len(ours(admin, "object_type=planet")) == len(EVENTS)


def test_filter_by_date_range_in_the_merchants_zone(admin: WebClient) -> None:
    assert ours(admin, "from=2026-11-10&to=2026-11-10") == ["bill.created"]
    assert ours(admin, "from=2026-11-11&to=2026-11-12") == [
        "bill.status_changed",
        "cashin.settled",
    ]
    assert ours(admin, "from=2026-11-13") == ["setting.changed", "user.role_changed"]
    assert ours(admin, "to=2026-11-10") == ["bill.created"]
    assert ours(admin, "day=2026-11-12") == ["cashin.settled"]  # older links keep working


def test_filters_combine(admin: WebClient, staff: dict[str, User]) -> None:
    query = f"person={staff['cashier'].id}&action=bill.&from=2026-11-11"
    assert ours(admin, query) == ["bill.status_changed"]


def _error(page: str, name: str) -> str:
    match = re.search(rf'data-field-error="{name}">([^<]*)<', page)
    assert match, f"no message next to {name}"
    return html.unescape(match.group(1))


def test_start_after_end_says_so_next_to_the_field(admin: WebClient) -> None:
    response = admin.get("/admin/audit?from=2026-11-13&to=2026-11-10")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error(page, "to") == "The end date is before the start date."
    assert len(ours(admin, "from=2026-11-13&to=2026-11-10")) == len(EVENTS)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "0001-01-01", "9999-12-31"])
def test_a_bad_date_says_so(admin: WebClient, bad: str) -> None:
    response = admin.get(f"/admin/audit?from={bad}")
    assert response.status_code == 200
    assert "2026-11-29" in _error(response.get_data(as_text=True), "from")


def audit_links(web: WebClient, query: str = "") -> dict[str, str]:
    page = web.get("/admin/audit?" + query).get_data(as_text=True)
    found = re.findall(r'<a href="([^"]+)" data-testid="audit-object">([^<]+)<', page)
    return {html.unescape(text): href for href, text in found}


def test_staff_and_setting_entries_link_to_them(admin: WebClient, staff: dict[str, User]) -> None:
    links = audit_links(admin)
    cashier = staff["cashier"].id
    assert links[f"Staff member {cashier}"] == f"/admin/users#user-{cashier}"
    assert links["Setting BILL_MAX_AMOUNT"] == "/admin/settings#setting-BILL_MAX_AMOUNT"
    assert f'id="user-{cashier}"' in admin.get("/admin/users").get_data(as_text=True)
    assert 'id="setting-BILL_MAX_AMOUNT"' in admin.get("/admin/settings").get_data(as_text=True)
    # Objects that are not (or no longer) in the database are named without a link.
    page = admin.get("/admin/audit?object_id=B-11").get_data(as_text=True)
    assert "Bill B-11" in page and "Bill B-11</a>" not in page


def test_bill_and_cashin_entries_open_that_bill_and_cashin(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    bill_url = issue(web).headers["Location"]
    accountant = WebClient(app.test_client())
    accountant.login("accountant@example.com")
    cashin_url = prepare(accountant).headers["Location"]
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    bill_links = audit_links(admin, "action=bill.created")
    cashin_links = audit_links(admin, "object_type=cashin")
    assert len(bill_links) == 1 and len(cashin_links) == 1
    assert list(bill_links.values()) == [bill_url.replace("http://dashboard.test", "")]
    assert list(cashin_links.values()) == [cashin_url.replace("http://dashboard.test", "")]
    assert "2 bags of rice" in admin.get(bill_links.popitem()[1]).get_data(as_text=True)
    cashin_page = admin.get(cashin_links.popitem()[1]).get_data(as_text=True)
    assert "Refund of a returned pair of shoes" in cashin_page


def test_pages_keep_the_filter(make_app: Callable[..., Flask], staff: dict[str, User]) -> None:
    app = make_app(PAGE_SIZE=1)
    record_events(app, staff)
    web = WebClient(app.test_client())
    web.login("admin@example.com")
    page = web.get(
        f"/admin/audit?person={staff['cashier'].id}&from=2026-11-01&object_type=bill"
    ).get_data(as_text=True)
    older = re.search(r'href="([^"]*older=[^"]*)"', page)
    assert older
    link = html.unescape(older.group(1))
    assert f"person={staff['cashier'].id}" in link
    assert "from=2026-11-01" in link and "object_type=bill" in link
    assert ours(web, link.split("?", 1)[1]) == ["bill.created"]
