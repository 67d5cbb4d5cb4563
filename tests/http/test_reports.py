"""Month exports: CSV with whole francs, only for accountants, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from dashboard.models import User
from tests.conftest import WebClient
from tests.http.test_bills import issue


def test_bills_and_cashins_export_for_the_month(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("accountant@example.com")
    issue(web, amount="20 000", description='=HYPERLINK("http://evil")')
    issue(web, amount="1500", description="bread")
    month = datetime.now(ZoneInfo("Africa/Bujumbura")).strftime("%Y-%m")
    response = web.get(f"/reports/bills.csv?month={month}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"bills-{month}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["amount_bif"] for r in rows] == ["20000", "1500"]
    assert rows[0]["description"].startswith("'=")  # never a formula in a spreadsheet
    assert rows[1]["issued_by"] == "accountant@example.com"
    empty = web.get("/reports/bills.csv?month=2001-01").get_data(as_text=True)
    assert empty.strip().count("\n") == 0  # header only
    cashins = web.get(f"/reports/cashins.csv?month={month}")
    assert cashins.status_code == 200 and "holder_check" in cashins.get_data(as_text=True)


def test_bad_month_is_a_message_not_a_500(web: WebClient, staff: dict[str, User]) -> None:
    web.login("accountant@example.com")
    response = web.get("/reports/bills.csv?month=November")
    assert response.status_code == 400
    assert "Choose a month" in response.get_data(as_text=True)


def test_cashier_cannot_export(web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com")
    assert web.get("/reports/").status_code == 403
    assert web.get("/reports/bills.csv?month=2026-11").status_code == 403


def test_chunked_reading_crosses_chunk_boundaries(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    from sqlalchemy import select

    from dashboard.models import Bill
    from dashboard.reports.services import _rows_in_chunks

    web.login("cashier@example.com")
    for amount in ("1000", "2000", "3000", "4000", "5000"):
        issue(web, amount=amount)
    with app.app_context():
        query = select(Bill.id, Bill.amount)
        amounts = [b.amount for b in _rows_in_chunks(query, Bill.id, size=2)]
    assert amounts == [1000, 2000, 3000, 4000, 5000]
