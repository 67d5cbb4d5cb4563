"""Cash-ins list: search, filters, totals; exports of the current filter (cash-ins and bills)."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from dashboard.db import db
from dashboard.models import Bill, BillState, Cashin, CashinState, HolderCheck, User
from tests.conftest import WebClient

# 10:00 in Bujumbura (UTC+2) on each day.
NOV_2 = datetime(2026, 11, 2, 8, tzinfo=UTC)
NOV_5 = datetime(2026, 11, 5, 8, tzinfo=UTC)
NOV_9 = datetime(2026, 11, 9, 8, tzinfo=UTC)


@pytest.fixture()
def rows(app: Flask, staff: dict[str, User]) -> dict[str, str]:
    """Five cash-ins by two people to three banks on three days; returns reference by key."""
    specs: list[dict[str, Any]] = [
        dict(
            key="aline",
            holder="Niyonzima Aline",
            bank=("MF1-0001", "iHela Credit Union"),
            account="000016-01",
            amount=20000,
            status=CashinState.SUCCEEDED,
            reason="refund",
            by="accountant",
            at=NOV_2,
        ),
        dict(
            key="fabrice",
            holder="Bigirimana Fabrice",
            bank=("MOB-0003", "EcoCash"),
            account="79000001",
            amount=5000,
            status=CashinState.SUCCEEDED,
            reason="payout",
            by="accountant2",
            at=NOV_5,
        ),
        dict(
            key="grace",
            holder="Kaneza Grace",
            bank=("MOB-0006", "PesaFlash"),
            account="68000007",
            amount=15000,
            status=CashinState.AWAITING_APPROVAL,
            reason="payout",
            by="accountant",
            at=NOV_5,
        ),
        dict(
            key="jean",
            holder="Hakizimana Jean",
            bank=("MOB-0003", "EcoCash"),
            account="71000002",
            amount=7000,
            status=CashinState.FAILED,
            reason="other",
            by="accountant2",
            at=NOV_9,
        ),
        dict(
            key="evil",
            holder='=HYPERLINK("http://evil")',
            bank=("MF1-0001", "iHela Credit Union"),
            account="000042-01",
            amount=1000,
            status=CashinState.SUCCEEDED,
            reason="payout",
            by="accountant",
            at=NOV_9,
        ),
    ]
    refs: dict[str, str] = {}
    with app.app_context():
        for spec in specs:
            ref = "C261101-" + secrets.token_hex(3).upper()
            db.session.add(
                Cashin(
                    merchant_reference=ref,
                    bank_slug=spec["bank"][0],
                    bank_name=spec["bank"][1],
                    account=spec["account"],
                    holder_name=spec["holder"],
                    holder_check=HolderCheck.CONFIRMED,
                    amount=spec["amount"],
                    description="test",
                    reason=spec["reason"],
                    status=spec["status"],
                    created_by_id=staff[spec["by"]].id,
                    created_at=spec["at"],
                )
            )
            refs[spec["key"]] = ref
        db.session.commit()
    return refs


@pytest.fixture()
def accountant(web: WebClient, staff: dict[str, User]) -> WebClient:
    web.login("accountant@example.com")
    return web


def shown(page: str, refs: dict[str, str]) -> set[str]:
    return {key for key, ref in refs.items() if ref in page}


def totals(page: str) -> str:
    found = re.search(r'data-testid="cashin-totals">(.*?)</p>', page, re.S)
    assert found, page[-2000:]
    return found.group(1).replace("\u202f", ",").replace("\u00a0", " ")


def listing(web: WebClient, query: str) -> str:
    response = web.get("/cashins/?" + query)
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=aline", {"aline"}),  # beneficiary, any case
        ("q=NIYONZIMA+aline", {"aline"}),
        ("q=79000001", {"fabrice"}),  # account
        ("q=6-01", {"aline"}),  # part of an account
        ("q=%25", set()),  # a typed % is a character, not "anything"
        ("q=_", set()),
        ("status=succeeded", {"aline", "fabrice", "evil"}),
        ("status=awaiting_approval", {"grace"}),
        ("bank=MOB-0003", {"fabrice", "jean"}),
        ("reason=refund", {"aline"}),
        ("from=2026-11-05", {"fabrice", "grace", "jean", "evil"}),
        ("to=2026-11-05", {"aline", "fabrice", "grace"}),  # the whole local day
        ("from=2026-11-05&to=2026-11-05", {"fabrice", "grace"}),
        ("bank=MOB-0003&status=failed", {"jean"}),
        ("", {"aline", "fabrice", "grace", "jean", "evil"}),
    ],
)
def test_search_and_filters(
    accountant: WebClient, rows: dict[str, str], query: str, expected: set[str]
) -> None:
    assert shown(listing(accountant, query), rows) == expected


def test_search_by_reference(accountant: WebClient, rows: dict[str, str]) -> None:
    page = listing(accountant, "q=" + rows["grace"].lower())
    assert shown(page, rows) == {"grace"}


def test_filter_by_person_who_prepared(
    accountant: WebClient, rows: dict[str, str], staff: dict[str, User]
) -> None:
    page = listing(accountant, f"prepared_by={staff['accountant2'].id}")
    assert shown(page, rows) == {"fabrice", "jean"}
    assert f'<option value="{staff["accountant2"].id}" selected' in page


def test_totals_are_for_the_filter(accountant: WebClient, rows: dict[str, str]) -> None:
    assert totals(listing(accountant, "")) == ("5 cash-ins · total BIF 48,000 · sent BIF 26,000")
    assert totals(listing(accountant, "bank=MOB-0003")) == (
        "2 cash-ins · total BIF 12,000 · sent BIF 5,000"
    )
    assert totals(listing(accountant, "q=nobody")) == "0 cash-ins · total BIF 0 · sent BIF 0"


def test_from_after_to_says_so(accountant: WebClient, rows: dict[str, str]) -> None:
    page = listing(accountant, "from=2026-11-09&to=2026-11-02")
    assert re.search(
        r'data-field-error="to">The end date is before the start date, '
        r"so the dates are not applied\.<",
        page,
    )
    assert 'data-testid="cashins-export"' not in page
    bad = listing(accountant, "from=2026-13-40")
    assert 'data-field-error="from">Enter a date like 2026-11-29.<' in bad


def test_filters_are_kept_by_the_export_link(accountant: WebClient, rows: dict[str, str]) -> None:
    page = listing(accountant, "bank=MOB-0003&q=jean&from=2026-11-01")
    link = re.search(r'data-testid="cashins-export" href="([^"]+)"', page)
    assert link
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("/reports/cashins/filtered.csv?")
    assert {"bank=MOB-0003", "q=jean", "from=2026-11-01"} <= set(href.split("?")[1].split("&"))


def read_csv(response: Any, separator: str = ",") -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text), delimiter=separator))


def test_export_of_the_current_cashin_filter(accountant: WebClient, rows: dict[str, str]) -> None:
    response = accountant.get("/reports/cashins/filtered.csv?bank=MOB-0003")
    assert "attachment" in response.headers["Content-Disposition"]
    exported = read_csv(response)
    assert sorted(r["reference"] for r in exported) == sorted([rows["fabrice"], rows["jean"]])
    assert {r["amount_bif"] for r in exported} == {"5000", "7000"}
    succeeded = read_csv(accountant.get("/reports/cashins/filtered.csv?status=succeeded&q=http"))
    [evil] = succeeded
    assert evil["holder"].startswith("'=")  # never a formula in a spreadsheet
    refused = accountant.get("/reports/cashins/filtered.csv?from=2026-11-09&to=2026-11-01")
    assert refused.status_code == 400
    assert "nothing was exported" in refused.get_data(as_text=True)


def test_export_in_french_uses_semicolons_and_french_headers(
    accountant: WebClient, rows: dict[str, str]
) -> None:
    accountant.post("/lang", {"lang": "fr"})
    exported = read_csv(accountant.get("/reports/cashins/filtered.csv?reason=refund"), ";")
    assert [r["Référence"] for r in exported] == [rows["aline"]]


def test_cashier_cannot_export_a_filter(web: WebClient, staff: dict[str, User]) -> None:
    web.login("cashier@example.com")
    assert web.get("/reports/cashins/filtered.csv").status_code == 403
    assert web.get("/reports/bills/filtered.csv").status_code == 403
    assert 'data-testid="bills-export"' not in web.get("/bills/").get_data(as_text=True)


def test_unknown_export_kind_is_404(accountant: WebClient) -> None:
    assert accountant.get("/reports/people/filtered.csv").status_code == 404


@pytest.fixture()
def bills(app: Flask, staff: dict[str, User]) -> dict[str, str]:
    made: dict[str, str] = {}
    with app.app_context():
        for key, payer, status, amount, at in (
            ("paid", "clientmail@gmail.com", BillState.PAID, 12000, NOV_2),
            ("pending", "79123456", BillState.PENDING, 3000, NOV_5),
            ("expired", "aline.niyonzima@example.com", BillState.EXPIRED, 4000, NOV_9),
        ):
            ref = "B261101-" + secrets.token_hex(3).upper()
            db.session.add(
                Bill(
                    merchant_reference=ref,
                    public_token=secrets.token_urlsafe(16),
                    amount=amount,
                    payer=payer,
                    payer_kind="email",
                    description='=cmd|"/c calc"' if key == "paid" else "bread",
                    status=status,
                    issued_by_id=staff["cashier"].id,
                    created_at=at,
                )
            )
            made[key] = ref
        db.session.commit()
    return made


def test_bills_export_of_the_current_filter(accountant: WebClient, bills: dict[str, str]) -> None:
    page = accountant.get("/bills/?status=paid&q=clientmail").get_data(as_text=True)
    link = re.search(r'data-testid="bills-export" href="([^"]+)"', page)
    assert link
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("/reports/bills/filtered.csv?")
    [paid] = read_csv(accountant.get(href))
    assert paid["reference"] == bills["paid"] and paid["amount_bif"] == "12000"
    assert paid["description"].startswith("'=")
    dated = read_csv(accountant.get("/reports/bills/filtered.csv?from=2026-11-05&to=2026-11-05"))
    assert [r["reference"] for r in dated] == [bills["pending"]]
    everything = read_csv(accountant.get("/reports/bills/filtered.csv"))
    assert len(everything) == 3
