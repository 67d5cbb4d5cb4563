"""Each bank's amount range on the new cash-in form, said by the server in the reader's
language: on every bank's option (the page shows it as soon as the bank is chosen) and under
the amount once a bank is chosen; the form starts on the bank picker only when it is fresh."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from dashboard.models import User
from tests.conftest import WebClient
from tests.http.test_cashins import prepare

OPTION = re.compile(r'<option value="([^"]+)"[^>]*data-limits="([^"]*)"')
HELP = re.compile(r'id="amount-help" data-testid="amount-limits"( hidden)?>([^<]*)<')


def said(text: str) -> str:
    return " ".join(html.unescape(text).split())


def options(page: str) -> dict[str, str]:
    return {slug: said(text) for slug, text in OPTION.findall(page)}


def test_every_bank_says_its_range_on_its_option(
    web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("accountant@example.com")
    page = web.get("/cashins/new").get_data(as_text=True)
    limits = options(page)
    assert limits["MOB-0003"] == "From BIF 1,000 to BIF 2,000,000 per cash-in to EcoCash."
    # PesaFlash takes up to 50 000 000, the merchant's own largest cash-in is 5 000 000.
    assert limits["MOB-0006"] == "From BIF 10,000 to BIF 5,000,000 per cash-in to PesaFlash."
    assert limits["BNQ-0002"] == "Up to BIF 5,000,000 per cash-in to Mutec."
    # Nothing chosen yet: the sentence's place is empty and hidden, the picker has the cursor.
    match = HELP.search(page)
    assert match and match.group(1) and match.group(2) == ""
    assert re.search(r'<select name="bank_slug"[^>]*\bautofocus\b', page)


def test_the_range_follows_the_merchant_setting(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    web = WebClient(make_app(CASHIN_MAX_AMOUNT=1_500_000).test_client())
    web.login("accountant@example.com")
    limits = options(web.get("/cashins/new").get_data(as_text=True))
    assert limits["MOB-0003"] == "From BIF 1,000 to BIF 1,500,000 per cash-in to EcoCash."


def test_after_a_refused_amount_the_range_stays_under_the_amount(
    web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("accountant@example.com")
    response = prepare(web, bank_slug="MOB-0006", account="68123456", amount="5000")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    match = HELP.search(page)
    assert match and not match.group(1)
    assert said(match.group(2)) == "From BIF 10,000 to BIF 5,000,000 per cash-in to PesaFlash."
    # The cursor goes to the field in error, not back to the picker.
    assert not re.search(r'<select name="bank_slug"[^>]*\bautofocus\b', page)


def test_the_range_is_said_in_french(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    web = WebClient(make_app(BABEL_DEFAULT_LOCALE="fr").test_client())
    web.login("accountant@example.com")
    limits = options(web.get("/cashins/new").get_data(as_text=True))
    assert limits["MOB-0003"] == "De 1 000 FBu à 2 000 000 FBu par versement vers EcoCash."
    assert limits["BNQ-0002"] == "Jusqu'à 5 000 000 FBu par versement vers Mutec."
