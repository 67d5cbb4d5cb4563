"""The price list: admins keep items; bills are made of lines whose sum is their amount."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from dashboard.bills.services import DESCRIPTION_MAX, BillLineRequest, compose_description
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, PriceItem, User
from tests.conftest import WebClient
from tests.http.test_bills import new_form_token

COUNTER_TOKEN = 'name="form_token"'


def add_item(web: WebClient, name: str, price: str) -> Any:
    return web.post("/prices/", {"name": name, "price": price})


def send_bill(web: WebClient, fields: dict[str, Any]) -> Any:
    """New bill for the sandbox's payer, no description (the lines say it), with ``fields``."""
    form = {"payer_kind": "email", "payer": "clientmail@gmail.com", "description": ""}
    return web.post("/bills/new", {**form, "form_token": new_form_token(web), **fields})


def item_id(app: Flask, name: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(PriceItem.id).where(PriceItem.name == name))
        assert found is not None
        return found


@pytest.fixture()
def priced(web: WebClient, app: Flask, staff: dict[str, User]) -> dict[str, int]:
    web.login("admin@example.com")
    assert add_item(web, "Rice 25 kg", "45 000").status_code == 303
    assert add_item(web, "Cooking oil 5 L", "18 000").status_code == 303
    web.logout()
    return {"rice": item_id(app, "Rice 25 kg"), "oil": item_id(app, "Cooking oil 5 L")}


def test_admins_keep_the_list_and_every_change_is_audited(
    web: WebClient, app: Flask, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    assert add_item(web, "Sugar 1 kg", "3 500").status_code == 303
    sugar = item_id(app, "Sugar 1 kg")
    page = web.get("/prices/").get_data(as_text=True)
    assert "Sugar 1 kg" in page
    changed = web.post(
        f"/prices/{sugar}",
        {f"item{sugar}-name": "Sugar 1 kg", f"item{sugar}-price": "3 800"},
    )
    assert changed.status_code == 303
    with app.app_context():
        item = db.session.get(PriceItem, sugar)
        assert item is not None and item.price == 3800 and item.active is False  # unticked
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "item")
        ).all()
        assert sorted(actions) == ["item.changed", "item.created"]
    trail = web.get("/admin/audit?object_type=item").get_data(as_text=True)
    assert "3 800" in trail or "3,800" in trail


@pytest.mark.parametrize(
    ("name", "price", "field", "says"),
    [
        ("", "1 000", "name", "Name the item."),
        ("Rice 25 kg", "1 000", "name", "already on the list"),
        ("Bread", "abc", "price", "digits"),
        ("Bread", "12,50", "price", "no cents"),
        ("Bread", "", "price", "Enter an amount"),
    ],
)
def test_bad_items_are_refused_next_to_the_field_and_change_nothing(
    web: WebClient, app: Flask, priced: dict[str, int], name: str, price: str, field: str, says: str
) -> None:
    web.login("admin@example.com")
    response = add_item(web, name, price)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'data-field-error="{field}"' in page and says in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PriceItem)) == 2


def test_only_admins_manage_the_list_everyone_who_bills_picks_from_it(
    web: WebClient, priced: dict[str, int]
) -> None:
    web.login("cashier@example.com")
    assert web.get("/prices/").status_code == 403
    assert add_item(web, "Bread", "500").status_code == 403
    offered = web.get("/prices/offered?q=oil").get_json()
    assert [i["name"] for i in offered] == ["Cooking oil 5 L"]
    assert offered[0]["price"] == 18_000


def test_a_bill_of_lines_sums_them_and_keeps_them_as_billed(
    web: WebClient, app: Flask, priced: dict[str, int], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    response = send_bill(
        web,
        {
            "amount": "",
            "line_item": [str(priced["rice"]), str(priced["oil"]), ""],
            "line_name": ["", "", "Delivery"],
            "line_price": ["", "", "2 000"],
            "line_qty": ["2", "", "1"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        assert bill.amount == 2 * 45_000 + 18_000 + 2_000
        assert [(ln.name, ln.unit_price, ln.quantity) for ln in bill.lines] == [
            ("Rice 25 kg", 45_000, 2),
            ("Cooking oil 5 L", 18_000, 1),
            ("Delivery", 2_000, 1),
        ]
        assert bill.description == "2 x Rice 25 kg, Cooking oil 5 L, Delivery"
        rice = db.session.get(PriceItem, priced["rice"])
        assert rice is not None and rice.uses == 1
        bill_id = bill.id
    page = web.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert 'data-testid="bill-lines"' in page and "Delivery" in page
    slip = web.get(f"/bills/{bill_id}/slip").get_data(as_text=True)
    assert "Rice 25 kg" in slip and "Cooking oil 5 L" in slip
    # A new price applies from now on; the bill keeps what it was billed at.
    web.logout()
    web.login("admin@example.com")
    rice_id = priced["rice"]
    web.post(
        f"/prices/{rice_id}",
        {
            f"item{rice_id}-name": "Rice 25 kg",
            f"item{rice_id}-price": "50 000",
            f"item{rice_id}-active": "y",
        },
    )
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None and bill.lines[0].unit_price == 45_000
        assert bill.amount == 110_000


def test_an_amount_that_is_not_the_sum_of_the_lines_is_refused(
    web: WebClient, app: Flask, priced: dict[str, int], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    response = send_bill(
        web, {"amount": "40 000", "line_item": [str(priced["rice"])], "line_qty": ["1"]}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field-error="amount"' in page and "add up to 45 000 FBu" in page
    assert 'value="Rice 25 kg"' not in page  # the row comes back as chosen:
    assert f'value="{priced["rice"]}" data-price="45000" selected' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bill)) == 0


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"line_item": "999999", "line_qty": "1"}, "no longer sold"),
        ({"line_item": "", "line_name": "", "line_price": "500"}, "say what it is"),
        ({"line_item": "", "line_name": "Bag", "line_price": "5,50"}, "no cents"),
        ({"line_item": "RICE", "line_qty": "0"}, "a quantity from 1 to 999"),
    ],
)
def test_a_line_that_cannot_be_billed_is_said_next_to_the_lines(
    web: WebClient, app: Flask, priced: dict[str, int], row: dict[str, str], says: str
) -> None:
    if row.get("line_item") == "RICE":
        row = {**row, "line_item": str(priced["rice"])}
    web.login("cashier@example.com")
    response = send_bill(web, {"amount": "", **row})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field-error="lines"' in page and says in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bill)) == 0


def test_an_item_taken_off_sale_is_no_longer_offered_or_billed(
    web: WebClient, app: Flask, priced: dict[str, int]
) -> None:
    web.login("admin@example.com")
    oil = priced["oil"]
    web.post(f"/prices/{oil}", {f"item{oil}-name": "Cooking oil 5 L", f"item{oil}-price": "18 000"})
    web.logout()
    web.login("cashier@example.com")
    assert [i["name"] for i in web.get("/prices/offered").get_json()] == ["Rice 25 kg"]
    response = send_bill(web, {"amount": "", "line_item": str(oil)})
    assert response.status_code == 422 and "no longer sold" in response.get_data(as_text=True)


def test_the_most_used_items_are_offered_first(
    web: WebClient, app: Flask, priced: dict[str, int], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    assert [i["name"] for i in web.get("/prices/offered").get_json()] == [
        "Cooking oil 5 L",
        "Rice 25 kg",
    ]  # alphabetical while nothing is used
    for _ in range(2):
        send_bill(web, {"amount": "", "line_item": str(priced["rice"])})
    assert [i["name"] for i in web.get("/prices/offered").get_json()] == [
        "Rice 25 kg",
        "Cooking oil 5 L",
    ]


def test_the_counter_bills_lines_and_says_what_they_are(
    web: WebClient, app: Flask, priced: dict[str, int], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    page = web.get("/counter").get_data(as_text=True)
    assert 'data-suggest-mode="item"' in page
    token = page.split(COUNTER_TOKEN, 1)[1].split('value="', 1)[1].split('"', 1)[0]
    description = page.split('name="description"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    response = web.post(
        "/counter",
        {
            "amount": "",
            "payer": "clientmail@gmail.com",
            "payer_kind": "auto",
            "description": description,
            "form_token": token,
            "line_item": [str(priced["rice"]), str(priced["oil"])],
            "line_qty": ["1", "1"],
        },
    )
    assert response.status_code == 303
    with app.app_context():
        bill = db.session.scalars(select(Bill)).one()
        assert bill.amount == 63_000
        assert bill.description == "Rice 25 kg, Cooking oil 5 L"
        assert len(bill.lines) == 2


def test_the_lines_of_the_month_export_as_csv(
    web: WebClient, app: Flask, priced: dict[str, int], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    send_bill(
        web,
        {
            "amount": "",
            "line_item": [str(priced["rice"]), ""],
            "line_name": ["", "Delivery"],
            "line_price": ["", "2 000"],
            "line_qty": ["3", ""],
        },
    )
    web.logout()
    web.login("accountant@example.com")
    with app.app_context():
        month = db.session.scalars(select(Bill.created_at)).one()
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    month_text = month.astimezone(zone).strftime("%Y-%m")
    response = web.get(f"/reports/lines.csv?month={month_text}&sep=comma")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "issued_at",
        "reference",
        "status",
        "item",
        "quantity",
        "unit_price_bif",
        "line_bif",
    ]
    assert [r[3:] for r in rows[1:]] == [
        ["Rice 25 kg", "3", "45000", "135000"],
        ["Delivery", "1", "2000", "2000"],
    ]


def test_a_long_list_of_lines_is_described_within_the_gateways_limit() -> None:
    many = tuple(BillLineRequest(f"Item number {n}", 100, n % 3 + 1) for n in range(40))
    text = compose_description(many)
    assert len(text) <= DESCRIPTION_MAX
    assert text.startswith("Item number 0, 2 x Item number 1, 3 x Item number 2")
    shown = text.count("Item number")
    assert text.endswith(f" (+{40 - shown})")
    one = (BillLineRequest("X" * 300, 100, 1),)
    assert len(compose_description(one)) <= DESCRIPTION_MAX
    assert compose_description((BillLineRequest("Rice", 100, 1),)) == "Rice"
