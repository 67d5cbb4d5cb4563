"""French and English: pages in the reader's language, the language switch, and the catalog."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import gettext
from flask_babel.speaklater import LazyString

from dashboard.bills import services as bills
from dashboard.models import User
from dashboard.money import AmountError, parse_typed_amount
from dashboard.templating import select_locale
from tests.conftest import WebClient
from tests.http.test_bills import GOOD, new_form_token

ROOT = Path(__file__).resolve().parents[2]
FRENCH = {"Accept-Language": "fr-BI,fr;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs() -> None:
    """`make` compiles the catalogs; compile here too when pytest runs on its own after an edit."""
    for po in (ROOT / "dashboard" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


def issue_in_french(web: WebClient, **changes: str) -> Any:
    data = {**GOOD, "form_token": new_form_token(web), **changes}
    return web.post("/bills/new", data, headers=FRENCH)


def text(response: Any) -> str:
    """The page as a person reads it: French spacing (no-break spaces) as plain spaces."""
    return str(response.get_data(as_text=True)).replace("\u202f", " ").replace("\u00a0", " ")


def test_login_page_follows_the_browser_language(web: WebClient) -> None:
    french = text(web.get("/login", headers=FRENCH))
    assert '<html lang="fr">' in french
    assert "Se connecter" in french and "Mot de passe" in french
    assert "Mot de passe oublié ? Demandez à un administrateur" in french
    redirected = text(web.get("/bills/", headers=FRENCH, follow_redirects=True))
    assert "Connectez-vous pour voir cette page." in redirected  # Flask-Login's message
    english = text(web.get("/login", headers=ENGLISH))
    assert '<html lang="en">' in english
    assert "Log in" in english and "Forgot your password?" in english


def test_without_a_browser_language_the_configured_default_is_used(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(BABEL_DEFAULT_LOCALE="fr")
    page = text(app.test_client().get("/login"))
    assert '<html lang="fr">' in page and "Se connecter" in page


def test_bills_list_and_new_bill_form_in_french(
    web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com", headers=FRENCH)
    empty = text(web.get("/bills/", headers=FRENCH))
    assert '<h1 class="h3 m-0">Factures</h1>' in empty
    assert "Nouvelle facture" in empty and "Rechercher" in empty
    assert "Aucune facture pour l'instant." in empty
    assert "0 facture · payé 0 FBu · en attente de paiement 0 FBu" in empty

    form = text(web.get("/bills/new", headers=FRENCH))
    for label in (
        "Montant (FBu)",
        "Payeur identifié par",
        "Objet de la facture",
        "Émettre la facture",
    ):
        assert label in form
    assert "E-mail iHela" in form and "Numéro de téléphone" in form  # the payer kinds

    assert issue_in_french(web).status_code == 303
    listed = text(web.get("/bills/", headers=FRENCH))
    assert "1 facture · payé 0 FBu · en attente de paiement 20 000 FBu" in listed
    assert 'data-testid="status-badge">En attente</span>' in listed


def test_french_field_errors_and_amounts(
    web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    response = issue_in_french(web, amount="0")
    assert response.status_code == 422
    page = text(response)
    assert 'data-field-error="amount">Le montant doit être supérieur à zéro.</div>' in page

    page = text(issue_in_french(web, amount="20000000", description="x" * 200))
    assert "La description doit faire moins de 160 caractères." in page  # WTForms' Length
    page = text(issue_in_french(web, amount="20000000"))
    assert "Une facture ne peut pas dépasser 10 000 000 FBu." in page


def test_switching_language_persists_across_pages_and_logins(
    web: WebClient, staff: dict[str, User]
) -> None:
    assert "Log in" in text(web.get("/login"))  # the tests' default language
    response = web.post("/lang", {"lang": "fr", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Se connecter" in text(web.get("/login"))

    page = text(web.login("cashier@example.com", follow_redirects=True))
    assert "Bienvenue, Test Cashier." in page  # the language outlives the fresh login session
    assert "Se déconnecter" in page and 'data-testid="lang-fr"' in page

    bills = text(web.get("/bills/?status=paid"))
    assert 'name="next" value="/bills/?status=paid"' in bills  # the switch comes back here
    response = web.post("/lang", {"lang": "en", "next": "/bills/?status=paid"})
    assert response.headers["Location"] == "/bills/?status=paid"
    assert "Log out" in text(web.get("/bills/"))

    web.post("/lang", {"lang": "fr", "next": "/bills/"})
    page = text(web.logout())
    page = text(web.get("/login"))
    assert "Vous êtes maintenant déconnecté." in page and "Se connecter" in page


@pytest.mark.parametrize(
    ("lang", "target"),
    [("de", "/bills/"), ("fr", "https://evil.example/"), ("fr", "//evil.example/x"), ("en", "")],
)
def test_language_switch_keeps_to_known_languages_and_this_site(
    web: WebClient, lang: str, target: str
) -> None:
    response = web.post("/lang", {"lang": lang, "next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    with web.client.session_transaction() as session:
        assert session.get("lang") == (lang if lang in ("fr", "en") else None)


def test_language_switch_needs_the_csrf_token(app: Flask) -> None:
    response = app.test_client().post("/lang", data={"lang": "fr", "next": "/login"})
    assert response.status_code == 400


def test_services_and_the_cli_speak_the_default_language_outside_a_request(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(BABEL_DEFAULT_LOCALE="fr")
    runner = app.test_cli_runner()
    args = ["user", "create", "--email", "ana@shop.bi", "--name", "Ana", "--role", "cashier"]
    refused = runner.invoke(args=[*args, "--password", "short"])
    assert refused.exit_code != 0
    assert "Le mot de passe doit compter au moins 10 caractères." in refused.output
    created = runner.invoke(args=[*args, "--password", "long-enough-password"])
    assert created.exit_code == 0 and "Compte ana@shop.bi créé (cashier)." in created.output
    listed = runner.invoke(args=["user", "list"])
    assert "ana@shop.bi\tAna\tcashier\tactif" in listed.output
    unknown = runner.invoke(args=["user", "deactivate", "--email", "nobody@shop.bi"])
    assert "Aucun compte avec l\u2019adresse nobody@shop.bi." in unknown.output
    with app.app_context():
        assert select_locale() == "fr"
        assert gettext("Bills") == "Factures"


def test_messages_are_plain_text_in_the_request_language(app: Flask) -> None:
    with app.test_request_context("/", headers=FRENCH):
        with pytest.raises(bills.BillInputError) as raised:
            bills.check_bill_request(
                bills.BillRequest(0, "phone", "12", ""), minimum=1, maximum=100
            )
        messages = [m for ms in raised.value.errors.values() for m in ms]
        assert messages and all(type(m) is str for m in messages)  # safe to store or serialise
        assert "Le montant minimum est de 1 FBu." in messages
        with pytest.raises(AmountError, match="pas de centimes"):
            parse_typed_amount("20,50")
        assert isinstance(bills.PAYER_KINDS["email"], LazyString)  # class-level labels stay lazy
        assert str(bills.PAYER_KINDS["email"]) == "E-mail iHela"
    with pytest.raises(AmountError, match="Francs have no cents"):
        parse_typed_amount("20,50")  # no app at all: the text as written


def test_catalog_is_found_whatever_the_working_directory(
    make_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    with app.test_request_context("/", headers=FRENCH):
        assert gettext("Cash-ins") == "Versements"


def test_catalog_is_complete_and_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_translations.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_who_did_it_and_how_many_are_said_in_the_readers_language(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    """The parts of the system that act on a bill (stored as fixed words) and the list's count
    (grouped by thousands, like its francs) read in French on a French page."""
    from sqlalchemy import insert

    from dashboard.db import db
    from dashboard.models import Bill, BillEvent

    web.login("cashier@example.com", headers=FRENCH)
    with app.app_context():
        rows = [
            {
                "merchant_reference": f"B261204-{i:06d}",
                "form_token": f"f{i}",
                "public_token": f"p{i}",
                "amount": 1_000,
                "payer": "79123456",
                "payer_kind": "phone",
                "description": "Rice",
                "status": "paid",
                "issued_by_id": staff["cashier"].id,
            }
            for i in range(1_234)
        ]
        db.session.execute(insert(Bill), rows)
        bill = db.session.scalars(db.select(Bill).limit(1)).one()
        for label in ("payer returned", "customer display", "cron", "cashier@example.com"):
            db.session.add(
                BillEvent(
                    bill_id=bill.id, from_status="pending", to_status="paid", actor_label=label
                )
            )
        db.session.commit()
        bill_id = bill.id
    page = text(web.get(f"/bills/{bill_id}", headers=FRENCH))
    assert "retour du payeur depuis iHela" in page and "payer returned" not in page
    assert "écran client" in page and "vérification planifiée" in page
    assert "cashier@example.com" in page  # a person's e-mail stays as it is
    listing = text(web.get("/bills/", headers=FRENCH))
    assert "1 234 factures · payé 1 234 000 FBu" in listing
