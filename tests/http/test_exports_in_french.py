"""Every CSV export, downloaded in French, says statuses, reasons and checks in French words;
in English it keeps the stored codes its importers rely on."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from dashboard.db import db
from dashboard.models import Bill, BillState, Cashin, CashinState, HolderCheck, User
from tests.conftest import WebClient

MONTH = datetime.now(ZoneInfo("Africa/Bujumbura")).strftime("%Y-%m")
EXPORTS = {
    "bills of the month": f"/reports/bills.csv?month={MONTH}",
    "cash-ins of the month": f"/reports/cashins.csv?month={MONTH}",
    "bills of the list's filter": "/reports/bills/filtered.csv",
    "cash-ins of the list's filter": "/reports/cashins/filtered.csv",
}
# The French a reader expects, for each stored code (column → code → words).
FRENCH = {
    "bills": {
        "Statut": {
            "creating": "Création en cours",
            "pending": "En attente",
            "paid": "Payée",
            "expired": "Expirée",
            "cancelled": "Annulée",
            "failed": "Échouée",
            "rejected": "Refusée",
            "unknown": "Inconnue",
        },
    },
    "cashins": {
        "Statut": {
            "draft": "Brouillon",
            "awaiting_approval": "En attente d'approbation",
            "succeeded": "Réussi",
            "failed": "Échoué",
            "rejected": "Rejeté",
        },
        "Motif": {"refund": "Remboursement", "payout": "Paiement", "other": "Autre"},
        "Vérification du titulaire": {
            "confirmed": "confirmé par la banque",
            "unavailable": "saisi et garanti",
        },
    },
}


@pytest.fixture()
def stored(app: Flask, staff: dict[str, User]) -> None:
    """A bill in every status; cash-ins in several statuses, every reason, both checks."""
    now = datetime.now(UTC)
    with app.app_context():
        for state in BillState:
            db.session.add(
                Bill(
                    merchant_reference="B" + secrets.token_hex(4).upper(),
                    public_token=secrets.token_urlsafe(16),
                    amount=1000,
                    payer="clientmail@gmail.com",
                    payer_kind="email",
                    description="bread",
                    status=state,
                    issued_by_id=staff["cashier"].id,
                    created_at=now,
                )
            )
        cashin_states = [CashinState(code) for code in FRENCH["cashins"]["Statut"]]
        reasons = list(FRENCH["cashins"]["Motif"])
        for index, state in enumerate(cashin_states):
            db.session.add(
                Cashin(
                    merchant_reference="C" + secrets.token_hex(4).upper(),
                    bank_slug="MF1-0001",
                    bank_name="iHela Credit Union",
                    account="000016-01",
                    holder_name="Niyonzima Aline",
                    holder_check=HolderCheck.CONFIRMED if index % 2 else HolderCheck.UNAVAILABLE,
                    amount=2000,
                    description="test",
                    reason=reasons[index % len(reasons)],
                    status=state,
                    created_by_id=staff["accountant"].id,
                    created_at=now,
                )
            )
        db.session.commit()


def download(web: WebClient, url: str, separator: str) -> list[dict[str, str]]:
    response = web.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv", url
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text), delimiter=separator))


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("export", EXPORTS)
def test_each_export_in_french_carries_french_words(web: WebClient, export: str) -> None:
    web.login("accountant@example.com")
    web.post("/lang", {"lang": "fr"})
    rows = download(web, EXPORTS[export], ";")
    kind = "bills" if "bills" in EXPORTS[export] else "cashins"
    assert rows, export
    for column, words in FRENCH[kind].items():
        found = {row[column] for row in rows}
        codes = found & set(words)
        assert not codes, f"{export}: codes in the {column!r} column: {codes}"
        assert found == set(words.values()), f"{export}: {column!r} says {found}"


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("export", EXPORTS)
def test_each_export_in_english_keeps_the_codes(web: WebClient, export: str) -> None:
    web.login("accountant@example.com")
    rows = download(web, EXPORTS[export], ",")
    if "bills" in EXPORTS[export]:
        assert {row["status"] for row in rows} == {state.value for state in BillState}
    else:
        assert {row["status"] for row in rows} == set(FRENCH["cashins"]["Statut"])
        assert {row["reason"] for row in rows} == {"refund", "payout", "other"}
        assert {row["holder_check"] for row in rows} == {"confirmed", "unavailable"}
