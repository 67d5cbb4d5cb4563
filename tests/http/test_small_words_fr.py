"""Issue 15, row 21: small things a French reader trips on, each said once and in French."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from dashboard.config import Config
from dashboard.models import User
from tests.conftest import PASSWORD, WebClient
from tests.http.test_cashins import cashins, confirm, fault, prepare, token_on

NNBSP_OR_NBSP = "[\u00a0\u202f]"


def text_of(page: str) -> str:
    """What a reader sees: tags out, entities decoded, spaces joined."""
    without = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    seen = html.unescape(re.sub(r"<[^>]+>", " ", without))
    return re.sub(r"[ \t\r\n]+", " ", seen).strip()  # no-break spaces stay as they are


def french(make_app: Callable[..., Flask], **config: Any) -> Flask:
    return make_app(BABEL_DEFAULT_LOCALE="fr", **config)


def test_the_first_visit_to_the_front_door_is_the_login_page_without_a_reproach(
    make_app: Callable[..., Flask],
) -> None:
    app = french(make_app)
    first = app.test_client().get("/", follow_redirects=True).get_data(as_text=True)
    assert 'name="password"' in first
    assert "Connectez-vous pour voir cette page" not in first
    # A page that was refused still says why.
    other = app.test_client().get("/bills/", follow_redirects=True).get_data(as_text=True)
    assert "Connectez-vous pour voir cette page" in other


def test_the_shift_summary_puts_the_french_space_before_colons(
    make_app: Callable[..., Flask], staff: dict[str, User]
) -> None:
    app = french(make_app)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    page = text_of(web.get("/reports/shift").get_data(as_text=True))
    assert re.search("Argent encaissé" + NNBSP_OR_NBSP + ":", page), page
    assert re.search("Signature" + NNBSP_OR_NBSP + ":", page)
    assert not re.search(r"\w:", page.split("Argent encaissé")[1][:40])


def test_a_succeeded_cash_in_reads_versement_reussi(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any
) -> None:
    app = french(make_app)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    page = text_of(confirm(web, url).get_data(as_text=True))
    assert "Versement réussi" in page
    assert "Versement Réussi" not in page and "Versement  Réussi" not in page


def test_an_unknown_cash_in_says_its_message_once(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
) -> None:
    app = french(make_app, IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    fault(sandbox, stall=2, path=api_path("cash-in"), count=1)
    after_sending = text_of(confirm(web, url).get_data(as_text=True))
    assert cashins(app)[0].status == "unknown"
    for page in (after_sending, text_of(web.get(url).get_data(as_text=True))):
        assert page.count("Nous ne savons pas si l'argent est parti") == 1, page
        assert page.count("iHela n'a pas répondu à temps") == 1, page
        assert "Il ne sera pas renvoyé automatiquement" in page


def test_the_two_factor_warning_is_said_once(make_app: Callable[..., Flask], sandbox: Any) -> None:
    app = french(
        make_app, TWO_FACTOR_DEFAULT_REQUIRED_ROLES=Config.TWO_FACTOR_DEFAULT_REQUIRED_ROLES
    )
    from dashboard.auth import services

    with app.app_context():
        services.create_user("accountant@example.com", "Test Accountant", "accountant", PASSWORD)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    send_token = token_on(web, url, "send_token")
    page = text_of(
        web.post(url + "/confirm", {"send_token": send_token}, follow_redirects=True).get_data(
            as_text=True
        )
    )
    assert page.count("doit utiliser la connexion à deux facteurs") == 1, page
    assert "Rien n'a été envoyé" in page
