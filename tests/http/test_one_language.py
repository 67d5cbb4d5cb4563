"""One language per page: after every kind of gateway refusal or failure, a French page holds
no English sentence. Stored notes, errors and audit summaries are codes, said at display time;
the gateway's own words are translated when known and quoted as iHela's message otherwise."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import select

from dashboard import messages
from dashboard.db import db
from dashboard.ihela import GatewayRejected, GatewayUnavailable, OutcomeUnknown
from dashboard.ihela.errors import KINDS
from dashboard.models import AuditEvent, Bill, BillEvent, Cashin, User
from tests.conftest import WebClient
from tests.http import test_bills as bills
from tests.http import test_cashins as cashins

ROOT = Path(__file__).resolve().parents[2]
BILL_INIT = "/api/v1/payments/bill/init"
BILL_VERIFY = "/api/v1/payments/bill/verify"
CASHIN = "/api/v1/payments/cash-in"
LOOKUP = "/api/v1/bank/"

# Words the client and the sandbox write in English: none may reach a French page unquoted.
GATEWAY_ENGLISH = [
    "iHela gateway",
    "No usable answer",
    "may have been applied",
    "unreadable reply",
    "did not answer the",
    "Sandbox fault",
    "No iHela user matches",
    "Account lookup is not available",
    "No account",
    "This field is",
    "Not found",
    "Bill waiting for payment",
    "Success",
    "answer was lost",
    "logged in",
    "login failed",
    " created as ",
    "status checked",
    "to iHela",
]


def english_fragments() -> set[str]:
    """Every English phrase of the catalog (12+ characters) whose French differs."""
    po = ROOT / "dashboard" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    found = set()
    for entry in catalog:
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not entry.id or set(ids) == set(strings):
            continue
        for msgid in ids:
            for chunk in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>|&\w+;", msgid):
                chunk = chunk.strip(" .:,;()?!")
                if len(chunk) >= 12 and " " in chunk:
                    found.add(chunk)
    return found


ENGLISH = english_fragments()


def readable_text(page: str) -> str:
    """What a person reads, minus the gateway's own words quoted as such."""
    page = re.sub(r"<q [^>]*data-gateway-text[^>]*>.*?</q>", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(page).replace("\u202f", " ").replace("\u00a0", " ").split())


def assert_french(page: str, where: str) -> None:
    assert '<html lang="fr">' in page, where
    text = readable_text(page)
    english = [f for f in ENGLISH if f in text] + [w for w in GATEWAY_ENGLISH if w in text]
    assert not english, f"{where}: English on a French page: {english}\n{text[:3000]}"


def fault(sandbox: Any, **spec: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=spec, timeout=5).raise_for_status()


@pytest.fixture()
def clear_faults(sandbox: Any) -> Iterator[None]:
    yield
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)


def in_french(web: WebClient) -> WebClient:
    web.post("/lang", {"lang": "fr", "next": "/"})
    return web


def staff_in_french(app: Flask, email: str) -> WebClient:
    web = WebClient(app.test_client())
    web.login(email)
    return in_french(web)


def forget_last_check(app: Flask, bill_id: int) -> None:
    """As if the coalescing window had passed: the next refresh asks iHela."""
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None
        bill.last_checked_at = None
        db.session.commit()


def last_bill_id(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalars(select(Bill.id).order_by(Bill.id.desc())).first() or 0)


BILL_FAULTS = {
    "refused": {"status": 400},  # {"detail": "Sandbox fault: HTTP 400."}
    "unavailable": {"status": 503},
    "bad gateway": {"status": 502},
    "busy": {"status": 429},
    "timeout": {"stall": 4},
    "unreadable": {"garbage": True},
}


@pytest.mark.usefixtures("clear_faults")
@pytest.mark.parametrize("name", BILL_FAULTS)
def test_bill_init_failures_read_in_french(
    app: Flask, staff: dict[str, User], sandbox: Any, name: str
) -> None:
    web = staff_in_french(app, "cashier@example.com")
    fault(sandbox, path=BILL_INIT, count=1, **BILL_FAULTS[name])
    data = {**bills.GOOD, "form_token": bills.new_form_token(web)}
    page = web.post("/bills/new", data, follow_redirects=True)
    assert_french(page.get_data(as_text=True), f"{name}: after sending")
    detail = web.get(f"/bills/{last_bill_id(app)}").get_data(as_text=True)
    assert_french(detail, f"{name}: bill page")


def test_bill_refused_by_field_error_and_verify_errors_read_in_french(
    app: Flask, staff: dict[str, User], sandbox: Any, clear_faults: None
) -> None:
    web = staff_in_french(app, "cashier@example.com")
    refused = bills.issue(web, payer="nobody.here@example.com")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert_french(page, "unknown payer: form")
    assert "Aucun utilisateur iHela n'a cet e-mail" in readable_text(page)
    assert_french(web.get(f"/bills/{last_bill_id(app)}").get_data(as_text=True), "rejected bill")

    bills.issue(web)
    bill_id = last_bill_id(app)
    forget_last_check(app, bill_id)
    fault(sandbox, path=BILL_VERIFY, count=1, status=503)
    response = web.post(f"/bills/{bill_id}/refresh", {}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "iHela est indisponible (HTTP 503)" in page
    assert_french(page, "verify 503")
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None and bill.code is not None
        code = bill.code
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", json={}, timeout=5)
    forget_last_check(app, bill_id)
    response = web.post(f"/bills/{bill_id}/refresh", {}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Facture payée" in page or "référence bancaire" in page
    assert_french(page, "paid bill history")


def test_gateway_down_reads_in_french(
    make_app: Callable[..., Flask], staff: dict[str, User]
) -> None:
    down = make_app(IHELA_BASE_URL="http://127.0.0.1:9/")
    web = staff_in_french(down, "cashier@example.com")
    page = web.get(bills.issue(web).headers["Location"]).get_data(as_text=True)
    assert "Connexion à iHela impossible" in page
    assert_french(page, "gateway down: bill")
    accountant = staff_in_french(down, "accountant@example.com")
    assert_french(accountant.get("/cashins/new").get_data(as_text=True), "gateway down: banks")


def test_lookups_read_in_french(
    app: Flask, staff: dict[str, User], sandbox: Any, clear_faults: None
) -> None:
    web = staff_in_french(app, "accountant@example.com")
    missing = web.get("/cashins/lookup?bank_slug=MF1-0001&account=000099-01")
    assert_french(
        '<html lang="fr">' + missing.get_data(as_text=True), "lookup not found (fragment)"
    )
    page = cashins.prepare(web, account="000099-01").get_data(as_text=True)
    assert_french(page, "lookup not found: form")
    fault(sandbox, path=LOOKUP, count=1, status=503)
    page = cashins.prepare(web).get_data(as_text=True)
    assert_french(page, "lookup 503: form")
    unavailable = web.get("/cashins/lookup?bank_slug=BNQ-0005&account=0150012345600")
    assert_french('<html lang="fr">' + unavailable.get_data(as_text=True), "no lookup")


CASHIN_FAULTS = {
    "refused": {"status": 400},
    "unavailable": {"status": 503},
    "timeout": {"stall": 4},
    "unreadable": {"garbage": True},
}


@pytest.mark.usefixtures("clear_faults")
@pytest.mark.parametrize("name", CASHIN_FAULTS)
def test_cashin_failures_read_in_french(
    app: Flask, staff: dict[str, User], sandbox: Any, name: str
) -> None:
    web = staff_in_french(app, "accountant@example.com")
    url = cashins.prepare(web).headers["Location"]
    fault(sandbox, path=CASHIN, count=1, **CASHIN_FAULTS[name])
    page = cashins.confirm(web, url).get_data(as_text=True)
    assert_french(page, f"cash-in {name}")
    [cashin] = cashins.cashins(app)
    assert cashin.status == ("failed" if name == "refused" else "unknown")


def test_the_audit_trail_and_approvals_read_in_french(
    app: Flask, staff: dict[str, User], sandbox: Any, clear_faults: None
) -> None:
    cashier = staff_in_french(app, "cashier@example.com")
    bills.issue(cashier, payer="nobody.here@example.com")
    fault(sandbox, path=BILL_INIT, count=1, status=503)
    bills.issue(cashier)
    accountant = staff_in_french(app, "accountant@example.com")
    cashins.prepare(
        accountant,
        bank_slug="BNQ-0005",
        account="0150012345600",
        holder_name="Eric Nshimirimana",
        holder_verified="y",
        amount="5000",
    )
    url = cashins.prepare(accountant).headers["Location"]
    fault(sandbox, path=CASHIN, count=1, status=400)
    cashins.confirm(accountant, url)
    admin = staff_in_french(app, "admin@example.com")
    WebClient(app.test_client()).login("cashier@example.com", "wrong password")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "connecté" in page and "iHela a refusé la facture" in page
    assert_french(page, "audit trail")
    other = staff_in_french(app, "accountant2@example.com")
    assert_french(other.get("/cashins/approvals").get_data(as_text=True), "approvals")
    with app.app_context():
        summaries = db.session.scalars(select(AuditEvent.summary)).all()
        notes = db.session.scalars(select(BillEvent.note)).all()
        errors = db.session.scalars(select(Bill.last_error)).all()
        said = db.session.scalars(select(Cashin.gateway_message)).all()
    # Stored as codes, not as sentences in whoever's language wrote them.
    for text in [*summaries, *notes, *errors, *said]:
        assert not text or messages.decode(text) is not None, text


def test_old_free_text_rows_still_show(app: Flask, staff: dict[str, User]) -> None:
    with app.app_context():
        db.session.add(AuditEvent(actor_label="cli", action="old.event", summary="a <b> note"))
        db.session.commit()
    admin = staff_in_french(app, "admin@example.com")
    assert "a &lt;b&gt; note" in admin.get("/admin/audit").get_data(as_text=True)


# --- the registry itself ---------------------------------------------------------------------


def test_every_error_kind_has_a_french_sentence(app: Flask) -> None:
    examples = []
    for kind in sorted(KINDS):
        for operation in ("bill init", "bill verify", "cash-in", "account lookup", "bank list"):
            examples.append(GatewayUnavailable("x", status=503, kind=kind, operation=operation))
            examples.append(OutcomeUnknown("x", status=503, kind=kind, operation=operation))
    examples.append(GatewayRejected("x", status=400, operation="bill init", gateway_text="Odd"))
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        for exc in examples:
            text = messages.render(messages.coded(messages.gateway_error(exc)))
            assert not [f for f in ENGLISH if f in text], (exc.kind, exc.operation, text)


# What the sandbox (playing iHela) says, word for word.
SANDBOX_WORDS = [
    "This field is required.",
    "This field may not be null.",
    "This field may not be blank.",
    "This query parameter is required.",
    "Not a valid string.",
    "Ensure this field has no more than 64 characters.",
    "Ensure this value is greater than or equal to 1000.",
    "Ensure this value is less than or equal to 10000000.",
    "A valid number is required.",
    "Ensure that there are no more than 0 decimal places.",
    "Only BIF (108) is accepted.",
    "No iHela user matches this e-mail, phone number, username or client code.",
    "Object with slug=XYZ-0009 does not exist.",
    "This bank is not active.",
    "Enter a valid URL.",
    "Not found.",
    "No bank with slug XYZ-0009.",
    "CRDB is not active.",
    "Account lookup is not available for CRDB.",
    "No account 000099-01 at MicroFinance One.",
    "Unknown bank XYZ-0009.",
    "PesaFlash accepts at least 1000 BIF.",
    "PesaFlash accepts at most 2000000 BIF.",
    "A cash-in with merchant reference C261204-ABCDEF already exists.",
    "Authentication credentials were not provided.",
    "JSON parse error.",
    "Invalid data. Expected a dictionary, but got list.",
    "Sandbox fault: HTTP 503.",
    "Bill waiting for payment",
    "Bill paid",
    "Bill expired",
    "Bill cancelled by the payer",
    "Payment failed",
    "Success",
    "invalid_client",
    "unsupported_grant_type",
]


def test_known_gateway_words_are_translated_and_unknown_ones_quoted(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        for sample in SANDBOX_WORDS:
            said = messages.gateway_text(sample)
            assert not said.startswith("“"), (sample, said)
            assert not [f for f in ENGLISH if f in said], (sample, said)
        assert messages.gateway_text("Solde insuffisant") == "“Solde insuffisant”"
        stored = messages.coded(
            "gw.said", text=messages.gateway_said("Le <serveur> a dit non & c'est tout")
        )
        shown = str(messages.render_html(stored))
        assert shown.startswith('Message d&#39;iHela : <q class="gateway-text" data-gateway-text>')
        assert "Le &lt;serveur&gt; a dit non &amp; c&#39;est tout</q>" in shown
        assert messages.render(stored) == "Message d'iHela : “Le <serveur> a dit non & c'est tout”"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert messages.render(messages.coded("audit.logged_in")) == "logged in"
        note = messages.coded("audit.cashin_to", amount=messages.money(20000), holder="A")
        assert messages.render(note) == "BIF\u00a020,000 to A"


def test_stored_codes_are_compact_enough_for_the_approval_column() -> None:
    reason = messages.coded(
        "approval.two",
        first=messages.message("approval.split", amount=messages.money(10**12)),
        second=messages.message("approval.unconfirmed"),
    )
    assert len(reason) <= 200
    assert json.loads(reason)["code"] == "approval.two"


def test_error_pages_read_in_french(app: Flask, staff: dict[str, User]) -> None:
    web = staff_in_french(app, "cashier@example.com")
    for url, code in [("/session/keep-alive", 405), ("/no/such/page", 404)]:
        response = web.get(url)
        assert response.status_code == code
        assert_french(response.get_data(as_text=True), f"error {code}")
    page = web.get("/session/keep-alive").get_data(as_text=True)
    assert "The method is not allowed" not in page  # Werkzeug's English description
