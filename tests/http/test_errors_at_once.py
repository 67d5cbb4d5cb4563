"""A form with two mistakes says both at once: a refused amount or price does not hide what is
wrong with the payer or the item's name (a person used to correct one, send, then learn of the
other)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from dashboard.db import db
from dashboard.models import Bill, PriceItem, User
from tests.conftest import WebClient
from tests.http.test_bills import issue
from tests.http.test_counter import issue_at_counter
from tests.http.test_price_list import add_item, item_id
from tests.http.test_shop_qr import customer, make_poster, sandbox_bills

PHONE_SAYS = "A Burundi phone number has 8 digits"


def _errors(page: str) -> set[str]:
    return {f for f in ("amount", "payer", "name", "price") if f'data-field-error="{f}"' in page}


def _bills(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Bill)) or 0


def test_the_counter_says_the_amount_and_the_payer_together(
    web: WebClient, app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    response = issue_at_counter(web, amount="abc", payer="7912345678901")  # 13 digits
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page) == {"amount", "payer"}
    # Digits only, so not "digits only": too many of them.
    assert "Too many digits: a Burundi phone number has 8" in page
    response = issue_at_counter(web, amount="", payer="")
    assert _errors(response.get_data(as_text=True)) == {"amount", "payer"}
    # A good payer is not blamed for the amount.
    response = issue_at_counter(web, amount="abc", payer="79123456")
    assert _errors(response.get_data(as_text=True)) == {"amount"}
    assert _bills(app) == 0


def test_a_new_bill_says_the_amount_and_the_payer_together(
    web: WebClient, app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    response = issue(web, amount="douze mille", payer_kind="phone", payer="7912345678901")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page) == {"amount", "payer"} and PHONE_SAYS in page
    response = issue(web, amount="douze mille")
    assert _errors(response.get_data(as_text=True)) == {"amount"}
    assert _bills(app) == 0


def test_the_shop_page_says_the_amount_and_the_payer_together(
    app: Flask, staff: dict[str, User], sandbox: Any
) -> None:
    poster = make_poster(app, staff)
    response = customer(app).post(
        f"/s/{poster.token}",
        data={"amount": "douze mille", "payer": "7912345678901"},
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page) == {"amount", "payer"}
    assert "Un numéro de téléphone burundais compte 8 chiffres" in page
    assert sandbox_bills(sandbox) == 0


def test_the_price_list_says_the_name_and_the_price_together(
    web: WebClient, app: Flask, staff: dict[str, User]
) -> None:
    web.login("admin@example.com")
    response = add_item(web, "  ", "")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page) == {"name", "price"} and "Name the item." in page
    assert add_item(web, "Soap", "1 500").status_code == 303
    soap = item_id(app, "Soap")
    response = web.post(f"/prices/{soap}", {f"item{soap}-name": "", f"item{soap}-price": "abc"})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True)) == {"name", "price"}
    with app.app_context():
        item = db.session.get(PriceItem, soap)
        assert item is not None and (item.name, item.price) == ("Soap", 1500)
