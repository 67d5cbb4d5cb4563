"""iHela's refusals are said in French on a French page, not quoted in English.

Every sentence the sandbox can answer (collected from its source) is one the dashboard knows;
every common refusal, provoked through the real sandbox over HTTP in both API generations,
reads in French with none of iHela's English left; and the pages a person sees after the
common ones (unknown payer, wrong PIN, insufficient funds) quote nothing in English.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask_babel import force_locale

from dashboard import messages
from dashboard.ihela import IhelaClient, IhelaError
from dashboard.models import User
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import SANDBOX_PIN
from tests.http import test_bills as bills
from tests.http import test_cashins as cashins
from tests.http.test_one_language import (
    ENGLISH,
    GATEWAY_ENGLISH,
    last_bill_id,
    readable_text,
    staff_in_french,
)

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_API = [ROOT / "dashboard" / "sandbox" / name for name in ("api.py", "api_v2.py")]
SANDBOX_APP = ROOT / "dashboard" / "sandbox" / "__init__.py"
# Strings of the sandbox's API that are not sentences said to the dashboard.
NOT_SAID = {"read write", " ", ", ", 'Bearer realm="api"'}
# Words of the token endpoint (no space, no full stop: the collector cannot tell them).
OAUTH_WORDS = ["invalid_client", "unsupported_grant_type", "invalid_request"]
# What an f-string's placeholder stands for, when "12345" would not be a likely value.
SAMPLE_VALUES = {"CURRENCY_ALPHA": "BIF", "CURRENCY_NUMERIC": "108", "request.method": "PUT"}
QUOTED = "data-gateway-text"
PAYER = "clientmail@gmail.com"


def _sample(node: ast.JoinedStr) -> str:
    return "".join(
        str(part.value)
        if isinstance(part, ast.Constant)
        else SAMPLE_VALUES.get(ast.unparse(part.value), "12345")  # type: ignore[attr-defined]
        for part in node.values
    )


def sandbox_sentences() -> list[str]:
    """Every string and f-string of the sandbox's API and its error replies that reads as a
    sentence (placeholders filled with sample values), docstrings and the fault page aside."""
    found: list[str] = []
    for path in [*SANDBOX_API, SANDBOX_APP]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                skip.add(id(body[0].value))  # a docstring
            if isinstance(node, ast.JoinedStr):
                skip.update(id(part) for part in node.values)
                found.append(_sample(node))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and (" " in node.value or node.value.endswith("."))
                and not node.value.startswith("<html>")
            ):
                found.append(node.value)
    return sorted({text for text in found if text not in NOT_SAID} | set(OAUTH_WORDS))


def said_in(locale: str, text: str) -> str:
    with force_locale(locale):
        return str(messages.gateway_text(text, html=True))


def test_the_sandbox_sentences_are_collected() -> None:
    sentences = sandbox_sentences()
    for expected in [
        "No iHela user matches this e-mail, phone number, username or client code.",
        "Insufficient funds.",
        "Invalid PIN code.",
        "12345 accepts at least 12345 BIF.",
        "A cash-in with merchant reference 12345 already exists.",
        "Invalid request.",
    ]:
        assert expected in sentences
    assert len(sentences) > 40


@pytest.mark.parametrize("sentence", sandbox_sentences())
def test_every_sentence_the_sandbox_can_say_is_known_and_french(app: Flask, sentence: str) -> None:
    with app.test_request_context():
        french = said_in("fr", sentence)
        english = said_in("en", sentence)
    assert QUOTED not in french, f"{sentence!r} is quoted as iHela's English: {french}"
    assert french != english, f"{sentence!r} has no French: {french}"


# --- the common refusals, through the real sandbox -------------------------------------------


def reference() -> str:
    return uuid.uuid4().hex[:20]


def control(sandbox: RunningSandbox, method: str, what: str, **json: Any) -> None:
    requests.request(method, sandbox.url + "_sandbox/" + what, json=json, timeout=5)


@pytest.fixture()
def faults_cleared(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    control(sandbox, "DELETE", "faults")


def gateway(sandbox: RunningSandbox, api: str, **changes: Any) -> IhelaClient:
    settings: dict[str, Any] = {"api": api, "pin": SANDBOX_PIN, "read_timeout": 3.0, **changes}
    secret = settings.pop("secret", "sandbox-client-secret")
    return IhelaClient(sandbox.url, "sandbox-client-id", secret, **settings)


def _duplicate_bill(ihela: IhelaClient) -> Any:
    taken = reference()
    ihela.init_bill(2000, PAYER, "Bread", taken)
    return ihela.init_bill(2000, PAYER, "Bread", taken)


def _duplicate_cashin(ihela: IhelaClient) -> Any:
    taken = reference()
    ihela.cashin_client("MOB-0003", "79123456", 2000, taken, "Refund")
    return ihela.cashin_client("MOB-0003", "79123456", 2000, taken, "Refund")


REFUSALS: dict[str, Callable[[IhelaClient], Any]] = {
    "unknown payer": lambda c: c.init_bill(2000, "nobody@example.com", "Bread", reference()),
    "bill above iHela's maximum": lambda c: c.init_bill(10**12 + 1, PAYER, "Bread", reference()),
    "bill below iHela's minimum": lambda c: c.init_bill(0, PAYER, "Bread", reference()),
    "bill at an unknown bank": lambda c: c.init_bill(
        2000, PAYER, "Bread", reference(), bank="ZZZ-0009", bank_client_id="1"
    ),
    "bill at an inactive bank": lambda c: c.init_bill(
        2000, PAYER, "Bread", reference(), bank="MF1-0007", bank_client_id="000003-01"
    ),
    "bill with a bad return address": lambda c: c.init_bill(
        2000, PAYER, "Bread", reference(), redirect_uri="not a url"
    ),
    "bill description too long": lambda c: c.init_bill(2000, PAYER, "B" * 300, reference()),
    "duplicate bill reference": _duplicate_bill,
    "unknown bill": lambda c: c.verify_bill("NOPE-1", reference()),
    "lookup at an unknown bank": lambda c: c.customer_lookup("ZZZ-0009", "1"),
    "lookup at an inactive bank": lambda c: c.customer_lookup("MF1-0007", "000003-01"),
    "lookup not offered": lambda c: c.customer_lookup("BNQ-0005", "0150012345600"),
    "lookup of an unknown account": lambda c: c.customer_lookup("BNQ-0002", "99999"),
    "cash-in to an unknown bank": lambda c: c.cashin_client(
        "ZZZ-0009", "1", 2000, reference(), "Refund"
    ),
    "cash-in to an inactive bank": lambda c: c.cashin_client(
        "MF1-0007", "000003-01", 2000, reference(), "Refund"
    ),
    "cash-in to an unknown account": lambda c: c.cashin_client(
        "BNQ-0002", "99999", 2000, reference(), "Refund"
    ),
    "cash-in below the bank's minimum": lambda c: c.cashin_client(
        "MOB-0003", "79123456", 10, reference(), "Refund"
    ),
    "cash-in above the bank's maximum": lambda c: c.cashin_client(
        "MOB-0003", "79123456", 3_000_000, reference(), "Refund"
    ),
    "duplicate cash-in reference": _duplicate_cashin,
}


def assert_said_in_french(app: Flask, exc: IhelaError, where: str) -> str:
    """The stored sentences of this failure, as a French page shows them."""
    with app.test_request_context(), force_locale("fr"):
        page = str(messages.render_html(messages.coded(messages.gateway_error(exc))))
        fields = " ".join(
            str(messages.gateway_text(text, html=True))
            for texts in getattr(exc, "field_errors", {}).values()
            for text in texts
        )
    for shown in (page, fields):
        assert QUOTED not in shown, f"{where}: iHela's English quoted: {shown}"
        text = readable_text(shown)
        english = [f for f in ENGLISH | set(GATEWAY_ENGLISH) if f in text]
        assert not english, f"{where}: English in {text!r}: {english}"
    raw = exc.gateway_text.split(": ", 1)[-1]
    assert raw not in readable_text(page), f"{where}: iHela's words as they came: {page}"
    return readable_text(page)


@pytest.mark.parametrize("api", ["v1", "v2"])
@pytest.mark.parametrize("name", REFUSALS)
def test_each_common_refusal_reads_in_french(
    app: Flask, sandbox: RunningSandbox, api: str, name: str
) -> None:
    with gateway(sandbox, api) as ihela, pytest.raises(IhelaError) as refused:
        REFUSALS[name](ihela)
    assert_said_in_french(app, refused.value, f"{api} {name}")


def test_refusals_v2_alone_can_make_read_in_french(
    app: Flask, sandbox: RunningSandbox, faults_cleared: None
) -> None:
    with gateway(sandbox, "v2", pin="9999") as ihela, pytest.raises(IhelaError) as wrong_pin:
        ihela.init_bill(2000, PAYER, "Bread", reference())
    said = assert_said_in_french(app, wrong_pin.value, "wrong PIN")
    assert "code PIN" in said

    for code, words in [("05", "pas assez d'argent"), ("07", "réessayez")]:
        control(sandbox, "POST", "faults", path="/api/v2/payments/cash-in", response_code=code)
        with gateway(sandbox, "v2") as ihela, pytest.raises(IhelaError) as faulted:
            ihela.cashin_client("MOB-0003", "79123456", 2000, reference(), "Refund")
        control(sandbox, "DELETE", "faults")
        assert words in assert_said_in_french(app, faulted.value, f"v2 code {code}")


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_refused_credentials_and_a_faulted_reply_read_in_french(
    app: Flask, sandbox: RunningSandbox, api: str, faults_cleared: None
) -> None:
    with gateway(sandbox, api, secret="wrong") as ihela, pytest.raises(IhelaError) as refused:
        ihela.get_bank_list()
    assert_said_in_french(app, refused.value, f"{api} credentials")
    control(sandbox, "POST", "faults", path="/api/", status=400, count=1)
    with gateway(sandbox, api) as ihela, pytest.raises(IhelaError) as faulted:
        ihela.init_bill(2000, PAYER, "Bread", reference())
    assert_said_in_french(app, faulted.value, f"{api} HTTP 400")


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["v1", "v2"])
def test_an_unknown_payer_reads_in_french_on_the_form_and_the_bill(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox, dialect: str
) -> None:
    web = staff_in_french(app, "cashier@example.com")
    form = bills.issue(web, payer="nobody.here@example.com").get_data(as_text=True)
    page = web.get(f"/bills/{last_bill_id(app)}").get_data(as_text=True)
    for where, shown in [("form", form), ("bill", page)]:
        assert '<html lang="fr">' in shown
        assert QUOTED not in shown, f"{dialect} {where}: iHela's English quoted"
        assert "Aucun utilisateur iHela n'a cet e-mail" in readable_text(shown), where
        assert "No iHela user" not in shown and "Invalid request" not in shown, where


def test_a_wrong_pin_reads_in_french_on_the_bill(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: RunningSandbox
) -> None:
    app = make_app(IHELA_API="v2", IHELA_PIN="9999")
    web = staff_in_french(app, "cashier@example.com")
    bills.issue(web)
    page = web.get(f"/bills/{last_bill_id(app)}").get_data(as_text=True)
    assert QUOTED not in page and "Invalid PIN" not in page
    assert "code PIN" in readable_text(page)


def test_insufficient_funds_read_in_french_on_the_cashin(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: RunningSandbox,
    faults_cleared: None,
) -> None:
    app = make_app(IHELA_API="v2", IHELA_PIN=SANDBOX_PIN)
    web = staff_in_french(app, "accountant@example.com")
    url = cashins.prepare(web).headers["Location"]
    control(sandbox, "POST", "faults", path="/api/v2/payments/cash-in", response_code="05")
    page = cashins.confirm(web, url).get_data(as_text=True)
    assert QUOTED not in page and "Insufficient funds" not in page
    assert "pas assez d'argent" in readable_text(page)
    [cashin] = cashins.cashins(app)
    assert cashin.status == "failed"
