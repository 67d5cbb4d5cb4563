"""The page after login: one's own figures for a cashier, everyone's for accountants and admins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from dashboard.db import db
from dashboard.models import User
from tests.conftest import WebClient
from tests.unit.test_overview_figures import add_bill, add_cashin

ZONE = ZoneInfo("Africa/Bujumbura")


def figure(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page)
    assert match, f"no {testid} on the page"
    return " ".join(match.group(1).split())


@pytest.fixture()
def day_of_work(app: Flask, staff: dict[str, User], make_user: object) -> dict[str, User]:
    """Bills by two cashiers, cash-ins by an accountant, all today; one older paid bill."""
    other = make_user("cashier", "other@example.com", "Other Cashier")  # type: ignore[operator]
    now = datetime.now(UTC)
    with app.app_context():
        add_bill(staff["cashier"], 15_000, "paid", now)
        add_bill(staff["cashier"], 2_000, "pending", now)
        add_bill(other, 40_000, "paid", now)
        add_bill(other, 900, "expired", now)
        add_cashin(staff["accountant"], 6_000, "succeeded", now, reason="refund")
        add_cashin(staff["accountant"], 250_000, "awaiting_approval", now)
        add_cashin(staff["accountant"], 3_000, "unknown", now)
        db.session.commit()
    return {**staff, "other": other}


def test_login_lands_on_the_overview(web: WebClient, staff: dict[str, User]) -> None:
    response = web.login("cashier@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = web.get("/").get_data(as_text=True)
    assert "My shift" in page and 'data-testid="flow-chart"' in page


def test_overview_needs_login(web: WebClient) -> None:
    response = web.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cashier_sees_only_own_bills_and_no_cashins(
    web: WebClient, day_of_work: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    page = web.get("/").get_data(as_text=True)
    assert figure(page, "today-collected-amount") == "BIF 15,000"
    assert figure(page, "today-issued-count") == "2 bills"
    assert figure(page, "today-issued-amount") == "BIF 17,000"
    assert figure(page, "today-waiting-amount") == "BIF 2,000"
    assert figure(page, "month-collected-amount") == "BIF 15,000"
    assert "today-cashins-sent" not in page and "today-people" not in page
    assert page.count('class="bar"') == 30  # one series: money collected
    me = day_of_work["cashier"].id
    today = datetime.now(ZONE).date().isoformat()
    assert f"/bills/?from={today}&amp;to={today}&amp;status=paid&amp;issued_by={me}" in page


def test_accountant_sees_everyone_cashins_and_per_person(
    web: WebClient, day_of_work: dict[str, User]
) -> None:
    web.login("accountant@example.com")
    page = web.get("/").get_data(as_text=True)
    assert figure(page, "today-collected-amount") == "BIF 55,000"
    assert figure(page, "today-issued-count") == "4 bills"
    assert figure(page, "today-expired-amount") == "BIF 900"
    assert figure(page, "today-cashins-sent-amount") == "BIF 6,000"
    assert figure(page, "today-cashins-approval-amount") == "BIF 250,000"
    assert figure(page, "today-cashins-unknown-count") == "1 cash-in"
    assert figure(page, "today-refunds-amount") == "BIF 6,000"
    assert page.count('class="bar"') == 60  # collected and paid out, 30 days each
    other = day_of_work["other"].id
    people = page[page.index('data-testid="today-people"') :]
    assert people.index("Other Cashier") < people.index("Test Cashier")  # most collected first
    assert f'data-testid="person-{other}"' in people
    today = datetime.now(ZONE).date().isoformat()
    assert f"/cashins/?status=awaiting_approval&amp;from={today}&amp;to={today}" in page


def test_admin_sees_everyone(web: WebClient, day_of_work: dict[str, User]) -> None:
    web.login("admin@example.com")
    page = web.get("/").get_data(as_text=True)
    assert figure(page, "today-collected-amount") == "BIF 55,000"
    assert 'data-testid="today-people"' in page


def test_shift_summary_counts_only_my_bills_today(
    app: Flask, web: WebClient, day_of_work: dict[str, User]
) -> None:
    with app.app_context():
        yesterday = datetime.now(UTC) - timedelta(days=1, hours=1)
        add_bill(day_of_work["cashier"], 80_000, "paid", yesterday)
        db.session.commit()
    web.login("cashier@example.com")
    page = web.get("/reports/shift").get_data(as_text=True)
    assert figure(page, "shift-collected") == "BIF 15,000"
    assert figure(page, "shift-issued-count") == "2"
    assert "data-print" in page and 'data-testid="nav"' not in page  # the print layout


def test_overview_in_french(web: WebClient, day_of_work: dict[str, User]) -> None:
    web.login("accountant@example.com")
    web.post("/lang", {"lang": "fr", "next": "/"})
    page = web.get("/").get_data(as_text=True)
    assert "Ce mois-ci" in page and "Argent encaissé et versé par jour" in page
    assert figure(page, "today-collected-amount").replace("\u202f", " ") == "55 000 FBu"
