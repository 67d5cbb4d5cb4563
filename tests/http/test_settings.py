"""The admins' settings page: who may open it, what it refuses, what it records, and that a
saved limit really applies (the environment, where set, still wins)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from dashboard.db import db
from dashboard.models import AuditEvent, Setting, User
from dashboard.settings import setting
from tests.conftest import WebClient
from tests.http.test_bills import issue
from tests.http.test_cashins import confirm, prepare

CURRENT = {
    "merchant_name": "Global Test Merchant",
    "bill_max_amount": "10000000",
    "cashin_max_amount": "5000000",
    "cashin_daily_max_per_account": "10000000",
    "cashin_approval_threshold": "100000",
}


def save(web: WebClient, **changes: str) -> Any:
    return web.post("/admin/settings", {**CURRENT, **changes})


def field_error(page: str, name: str) -> str:
    match = re.search(rf'data-field-error="{name}">([^<]*)<', page)
    assert match, f"no error next to {name}"
    return html.unescape(match.group(1)).replace("\xa0", " ").replace("\u202f", " ")


def saved(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {row.key: row.value for row in db.session.scalars(select(Setting))}


def changes_audited(app: Flask) -> list[tuple[str, str | None, Any]]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "setting.changed")
        ).all()
        return [(e.actor_label, e.object_id, e.details) for e in events]


@pytest.fixture()
def admin(web: WebClient, staff: dict[str, User]) -> WebClient:
    web.login("admin@example.com")
    return web


@pytest.mark.parametrize("role", ["cashier", "accountant"])
def test_only_admins_open_or_change_settings(
    app: Flask, web: WebClient, staff: dict[str, User], role: str
) -> None:
    web.login(f"{role}@example.com")
    assert web.get("/admin/settings").status_code == 403
    assert save(web, bill_max_amount="5000").status_code == 403
    assert saved(app) == {}
    assert "/admin/settings" not in web.get("/bills/").get_data(as_text=True)


def test_admin_sees_current_values_and_defaults(admin: WebClient) -> None:
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="bill_max_amount"' in page and 'value="10000000"' in page
    assert 'value="Global Test Merchant"' in page
    assert "Default value." in page
    assert 'data-testid="locked"' not in page


def test_a_change_is_saved_audited_and_shown(app: Flask, admin: WebClient) -> None:
    response = save(admin, bill_max_amount="5 000", merchant_name="Boutique Kira")
    assert response.status_code == 303
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Settings saved" in page
    assert "Last changed by Test Admin" in page
    assert "Boutique Kira" in admin.get("/bills/").get_data(as_text=True)  # the header
    assert saved(app) == {"BILL_MAX_AMOUNT": "5000", "MERCHANT_NAME": "Boutique Kira"}
    assert sorted(changes_audited(app), key=lambda e: str(e[1])) == [
        (
            "admin@example.com",
            "BILL_MAX_AMOUNT",
            {"key": "BILL_MAX_AMOUNT", "old": 10000000, "new": 5000},
        ),
        (
            "admin@example.com",
            "MERCHANT_NAME",
            {"key": "MERCHANT_NAME", "old": "Global Test Merchant", "new": "Boutique Kira"},
        ),
    ]
    # Saving the same values again changes and records nothing.
    save(admin, bill_max_amount="5000", merchant_name="Boutique Kira")
    assert len(changes_audited(app)) == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bill_max_amount": "abc"}, "bill_max_amount", "Enter the amount in digits"),
        ({"bill_max_amount": "1500,50"}, "bill_max_amount", "Francs have no cents"),
        ({"bill_max_amount": ""}, "bill_max_amount", "Enter an amount."),
        ({"bill_max_amount": "-5"}, "bill_max_amount", "more than zero"),
        (
            {"cashin_max_amount": "99999999999999"},
            "cashin_max_amount",
            "Enter an amount from BIF 1 to BIF 10,000,000,000.",
        ),
        (
            {"cashin_approval_threshold": "6000000"},
            "cashin_approval_threshold",
            "The approval threshold (BIF 6,000,000) must not be above the cash-in maximum "
            "(BIF 5,000,000).",
        ),
        (
            {"cashin_daily_max_per_account": "1000000"},
            "cashin_daily_max_per_account",
            "The daily cap per account (BIF 1,000,000) must not be below the cash-in maximum",
        ),
        (
            {"cashin_max_amount": "50000", "cashin_approval_threshold": "60000"},
            "cashin_approval_threshold",
            "must not be above the cash-in maximum (BIF 50,000)",
        ),
        ({"merchant_name": "   "}, "merchant_name", "Enter the merchant's name."),
        ({"merchant_name": "x" * 81}, "merchant_name", "At most 80 characters."),
        ({"merchant_name": "Shop\x07"}, "merchant_name", "letters, digits and punctuation"),
    ],
)
def test_bad_values_are_refused_next_to_their_field(
    app: Flask, admin: WebClient, changes: dict[str, str], field: str, message: str
) -> None:
    response = save(admin, **changes)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert saved(app) == {} and changes_audited(app) == []


def test_a_lowered_bill_maximum_applies_to_the_next_bill(
    app: Flask, admin: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    assert save(admin, bill_max_amount="15000").status_code == 303
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    response = issue(cashier, amount="20 000")
    assert response.status_code == 422
    assert "The largest bill is 15 000 FBu." in field_error(
        response.get_data(as_text=True), "amount"
    )
    assert issue(cashier, amount="15 000").status_code == 303


def test_cashin_limits_saved_on_the_page_apply(
    app: Flask, admin: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    assert (
        save(admin, cashin_max_amount="15000", cashin_approval_threshold="10000").status_code == 303
    )
    accountant = WebClient(app.test_client())
    accountant.login("accountant@example.com")
    refused = prepare(accountant, amount="20 000")
    assert "The largest amount for one cash-in is BIF 15,000." in refused.get_data(as_text=True)
    url = prepare(accountant, amount="12 000").headers["Location"]
    page = confirm(accountant, url).get_data(as_text=True)
    assert "another accountant must approve it" in page  # 12 000 is over the new threshold


def test_a_daily_cap_saved_on_the_page_applies(
    app: Flask, admin: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    limits = {"cashin_max_amount": "30000", "cashin_approval_threshold": "30000"}
    assert save(admin, **limits, cashin_daily_max_per_account="30000").status_code == 303
    accountant = WebClient(app.test_client())
    accountant.login("accountant@example.com")
    url = prepare(accountant, amount="20 000").headers["Location"]
    confirm(accountant, url)
    second = prepare(accountant, amount="20 000").get_data(as_text=True)
    assert "the daily maximum per account is BIF 30,000" in second


def test_every_app_server_sees_a_change_on_its_next_request(
    make_app: Callable[..., Flask], staff: dict[str, User]
) -> None:
    one, two = make_app(), make_app()
    first, second = WebClient(one.test_client()), WebClient(two.test_client())
    first.login("admin@example.com")
    second.login("admin@example.com")
    assert 'value="10000000"' in second.get("/admin/settings").get_data(as_text=True)
    save(first, bill_max_amount="7000")
    assert 'value="7000"' in second.get("/admin/settings").get_data(as_text=True)


def test_a_setting_from_the_environment_is_locked(
    make_app: Callable[..., Flask], staff: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_BILL_MAX_AMOUNT", "8000")
    app = make_app()
    with app.app_context():  # a value saved before the variable was set is ignored
        db.session.add(Setting(key="BILL_MAX_AMOUNT", value="3000"))
        db.session.commit()
    web = WebClient(app.test_client())
    web.login("admin@example.com")
    page = web.get("/admin/settings").get_data(as_text=True)
    section = page[page.index('id="setting-BILL_MAX_AMOUNT"') :]
    section = section[: section.index("</section>")].replace("\xa0", " ")
    assert 'data-testid="locked"' in section and "DASHBOARD_BILL_MAX_AMOUNT" in section
    assert "BIF 8,000" in section
    assert 'name="bill_max_amount"' not in page
    # A forged form changes nothing, and the other settings still save.
    response = save(web, bill_max_amount="99", merchant_name="Kira")
    assert response.status_code == 303
    assert saved(app) == {"BILL_MAX_AMOUNT": "3000", "MERCHANT_NAME": "Kira"}
    assert [e[1] for e in changes_audited(app)] == ["MERCHANT_NAME"]
    with app.test_request_context():
        assert setting("BILL_MAX_AMOUNT") == 8000


def test_a_locked_setting_cannot_be_saved_through_the_service(
    make_app: Callable[..., Flask], staff: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.settings import SettingsError, save_settings

    monkeypatch.setenv("DASHBOARD_CASHIN_MAX_AMOUNT", "9000")
    app = make_app()
    with app.test_request_context():
        admin = db.session.get(User, staff["admin"].id)
        assert admin is not None
        with pytest.raises(SettingsError) as refused:
            save_settings({"CASHIN_MAX_AMOUNT": 1000}, by=admin)
        assert "CASHIN_MAX_AMOUNT" in refused.value.problems
    assert saved(app) == {}


def test_threshold_checked_against_a_locked_maximum(
    make_app: Callable[..., Flask], staff: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_CASHIN_MAX_AMOUNT", "50000")
    web = WebClient(make_app().test_client())
    web.login("admin@example.com")
    data = {k: v for k, v in CURRENT.items() if k != "cashin_max_amount"}
    response = web.post("/admin/settings", {**data, "cashin_approval_threshold": "60000"})
    assert response.status_code == 422
    assert "(BIF 50,000)" in field_error(
        response.get_data(as_text=True), "cashin_approval_threshold"
    )


def test_a_damaged_saved_value_falls_back_to_the_default(app: Flask) -> None:
    with app.app_context():
        db.session.add(Setting(key="BILL_MAX_AMOUNT", value="lots"))
        db.session.commit()
    with app.test_request_context():
        assert setting("BILL_MAX_AMOUNT") == 10_000_000


def test_the_merchant_name_is_escaped(app: Flask, admin: WebClient) -> None:
    save(admin, merchant_name="<b>Kira</b>")
    page = admin.get("/bills/").get_data(as_text=True)
    assert "&lt;b&gt;Kira&lt;/b&gt;" in page and "<b>Kira</b>" not in page


def test_the_page_is_french_for_french_readers(admin: WebClient) -> None:
    admin.post("/lang", {"lang": "fr", "next": "/admin/settings"})
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Paramètres" in page and "Plafond d\u2019une facture" in page
    refused = save(admin, cashin_approval_threshold="6000000").get_data(as_text=True)
    assert "ne peut pas dépasser le plafond d\u2019un versement (5 000 000 FBu)" in field_error(
        refused, "cashin_approval_threshold"
    )


def test_the_error_page_of_a_database_outage_still_names_the_merchant(
    make_app: Callable[..., Flask], staff: dict[str, User]
) -> None:
    app = make_app()
    web = WebClient(app.test_client())
    web.login("admin@example.com")
    with app.app_context():
        db.session.execute(text("ALTER TABLE settings RENAME TO settings_away"))
        db.session.commit()
    try:
        response = web.get("/admin/settings")
        assert response.status_code == 500
        assert "Global Test Merchant" in response.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.execute(text("ALTER TABLE settings_away RENAME TO settings"))
            db.session.commit()
