"""Month exports: CSV with whole francs, only for accountants, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
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
        query = select(Bill.id, Bill.created_at, Bill.amount)
        keys = (Bill.created_at, Bill.id)
        amounts = [b.amount for b in _rows_in_chunks(query, keys, size=2)]
    assert amounts == [1000, 2000, 3000, 4000, 5000]


DANGEROUS = ["=1+1", "+1", "-1", "@SUM(A1)", "|calc", "\tx", "\rx"]
DANGEROUS += ["\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", "\uff5ccalc"]  # full-width


@pytest.mark.parametrize("separator", [";", ","])
def test_every_field_holding_the_separator_is_quoted_and_no_cell_is_a_formula(
    app: Flask, separator: str
) -> None:
    from dashboard.reports.services import BILL_COLUMNS, _csv

    texts = ["a;b", "a,b", 'say "hi"', "two\nlines", *DANGEROUS]
    rows = [[text, 1500] for text in texts]
    with app.test_request_context():
        out = "".join(_csv(BILL_COLUMNS[:2], rows, separator, french=False)).lstrip("\ufeff")
    parsed = list(csv.reader(io.StringIO(out, newline=""), delimiter=separator))
    assert parsed[0] == ["issued_at", "reference"]
    cells = [row[0] for row in parsed[1:]]
    assert cells[:4] == texts[:4]  # read back whole: quoted where needed
    assert all(row[1] == "1500" for row in parsed[1:])
    for cell, text in zip(cells[4:], DANGEROUS, strict=True):
        assert cell == "'" + text, text


def test_french_interface_gets_semicolons_and_french_headers(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("accountant@example.com")
    issue(web, amount="20 000", description="riz; haricots, sucre")
    month = datetime.now(ZoneInfo("Africa/Bujumbura")).strftime("%Y-%m")
    english = web.get(f"/reports/bills.csv?month={month}").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("issued_at,reference,")
    web.post("/lang", {"lang": "fr"})
    page = web.get("/reports/").get_data(as_text=True)
    assert '<option value="semicolon" selected' in page
    french = web.get(f"/reports/bills.csv?month={month}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(french.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Émise le", "Référence"] and "Montant (BIF)" in rows[0]
    assert rows[1][rows[0].index("Description")] == "riz; haricots, sucre"
    comma = web.get(f"/reports/bills.csv?month={month}&sep=comma").get_data(as_text=True)
    assert next(csv.reader(io.StringIO(comma.lstrip("\ufeff"))))[0] == "Émise le"
