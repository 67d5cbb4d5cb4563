"""``flask ihela check`` and its button on the admins' Settings page: what the gateway speaks,
asked without moving money."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.ihela.check import _dialects
from dashboard.messages import TEMPLATES
from dashboard.models import AuditEvent, User
from dashboard.sandbox.server import RunningSandbox, start_sandbox
from tests.conftest import WebClient
from tests.http.test_one_language import assert_french, in_french, readable_text

SHAPES = ["v1", "v2", "v2-on-v1"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def one_shape_gateway() -> Iterator[Callable[[str], RunningSandbox]]:
    started: list[RunningSandbox] = []

    def start(shape: str) -> RunningSandbox:
        running = start_sandbox(config={"SANDBOX_SHAPES": (shape,)})
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def stats(gateway: RunningSandbox) -> dict[str, int]:
    return dict(requests.get(gateway.url + "_sandbox/stats", timeout=5).json()["api_requests"])


@pytest.mark.parametrize("shape", SHAPES)
def test_check_names_the_shape_the_gateway_serves_and_moves_no_money(
    make_app: Callable[..., Flask],
    one_shape_gateway: Callable[[str], RunningSandbox],
    shape: str,
) -> None:
    gateway = one_shape_gateway(shape)
    app = make_app(IHELA_BASE_URL=gateway.url, IHELA_API=shape, IHELA_PIN="1234")
    result = app.test_cli_runner().invoke(
        args=["ihela", "check", "--account", "MF1-0001:000016-01"]
    )
    print(result.output)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "issued, lifetime 36000 s" in out
    assert "6 banks (5 active), 3 with a mask" in out
    assert "MF1-0001 000016-01: Niyonzima Aline" in out
    assert f"Recommended: DASHBOARD_IHELA_API={shape} (configured: {shape})" in out
    assert "clock skew" in out and "plain http" in out
    for other in set(SHAPES) - {shape}:
        assert f"{other} bill init" in out
    # Nothing created, nothing sent.
    received = requests.get(gateway.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    bills = requests.get(gateway.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert received == [] and bills == []


@pytest.mark.parametrize(
    ("configured", "served"), [("v1", "v2"), ("v2", "v2-on-v1"), ("v2-on-v1", "v1")]
)
def test_a_wrong_shape_is_detected_and_named(
    make_app: Callable[..., Flask],
    one_shape_gateway: Callable[[str], RunningSandbox],
    configured: str,
    served: str,
) -> None:
    gateway = one_shape_gateway(served)
    app = make_app(IHELA_BASE_URL=gateway.url, IHELA_API=configured, IHELA_PIN="1234")
    result = app.test_cli_runner().invoke(args=["ihela", "check"])
    assert result.exit_code == 1, result.output
    assert (
        f"Wrong shape: DASHBOARD_IHELA_API={configured} is not what this gateway serves; "
        f"it speaks {served}. Set DASHBOARD_IHELA_API={served}."
    ) in result.output


# --- the same check from the admins' Settings page -------------------------------------------


def checks_audited(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "settings.gateway_checked")
            )
        )


def run_from_settings(web: WebClient) -> Any:
    settings = web.get("/admin/settings").get_data(as_text=True)
    assert 'data-testid="run-ihela-check"' in settings
    return web.post("/admin/settings/ihela-check")


def test_an_admin_runs_the_check_from_settings_in_english_and_french(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox
) -> None:
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    response = run_from_settings(admin)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = readable_text(page)
    assert "Recommended: DASHBOARD_IHELA_API=v1 (configured: v1)." in text
    table = readable_text(page[page.index('data-testid="check-table"') :])
    for words in [
        "token issued, lifetime 36000 s",
        "bank list 6 banks (5 active), 3 with a mask",
        "money-in bank list not served for information",  # v1 has no such list
        "v1 bill init POST api/v1/payments/bill/init/: served",
        "v2-on-v1 operation status POST ihela/api/v1/transaction-status/: served",
        "clock skew",
        "TLS plain http (allowed on loopback only: the sandbox)",
    ]:
        assert words in table, words

    in_french(admin)
    page = run_from_settings(admin).get_data(as_text=True)
    assert_french(page, "the gateway check")
    text = readable_text(page)
    assert "Recommandé : DASHBOARD_IHELA_API=v1 (configuré : v1)." in text
    for words in [
        "jeton émis, durée de vie 36000 s",
        "liste des banques 6 banques (5 actives), 3 avec un masque",
        "v1 création de facture POST api/v1/payments/bill/init/ : servie",
        "v2 statut d\u2019opération POST api/v2/operations/status/ : servie",
    ]:
        assert words in text, words

    # Audited (in words), and nothing was created nor sent at iHela.
    events = checks_audited(app)
    assert [e.actor_label for e in events] == ["admin@example.com"] * 2
    assert events[0].details == {
        "configured": "v1",
        "served": ["v1", "v2", "v2-on-v1"],
        "recommended": "v1",
    }
    audit_page = readable_text(admin.get("/admin/audit").get_data(as_text=True))
    assert "Passerelle iHela vérifiée (rien n\u2019a été envoyé)" in audit_page
    assert "Recommandé : DASHBOARD_IHELA_API=v1" in audit_page
    received = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    bills = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert received == [] and bills == []


@pytest.mark.parametrize("role", ["cashier", "accountant"])
def test_only_admins_run_the_check(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox, role: str
) -> None:
    web = WebClient(app.test_client())
    web.login(f"{role}@example.com")
    assert web.post("/admin/settings/ihela-check").status_code == 403
    assert checks_audited(app) == []


def test_the_check_needs_the_csrf_token(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox
) -> None:
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    response = admin.client.post("/admin/settings/ihela-check", data={})
    assert response.status_code == 400
    assert checks_audited(app) == []


def test_the_settings_page_names_a_wrong_shape(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    one_shape_gateway: Callable[[str], RunningSandbox],
) -> None:
    gateway = one_shape_gateway("v2-on-v1")
    app = make_app(IHELA_BASE_URL=gateway.url, IHELA_API="v2", IHELA_PIN="1234")
    make_user("admin")
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    page = run_from_settings(admin).get_data(as_text=True)
    advice = readable_text(page.split('data-testid="check-advice">', 1)[1])
    assert advice.startswith(
        "Wrong shape: DASHBOARD_IHELA_API=v2 is not what this gateway serves; it speaks "
        "v2-on-v1. Set DASHBOARD_IHELA_API=v2-on-v1."
    )
    assert 'class="alert alert-danger"' in page
    row = page[page.index('data-check="check.route"') :]
    assert 'data-ok="no"' in row[: row.index("</tr>")]  # v1 bill init: not served here


def test_an_unreachable_gateway_is_said_in_the_readers_language(
    app: Flask, staff: dict[str, User]
) -> None:
    """No sandbox here: the app's gateway address (port 9) refuses connections."""
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    text = readable_text(run_from_settings(admin).get_data(as_text=True))
    assert "token refused or unreachable: Could not connect to iHela: nothing was sent." in text
    assert (
        "No shape of iHela's API is fully served at this address: check DASHBOARD_IHELA_BASE_URL."
    ) in text
    in_french(admin)
    page = run_from_settings(admin).get_data(as_text=True)
    assert_french(page, "the gateway check, iHela unreachable")
    assert "jeton refusé ou injoignable : Connexion à iHela impossible" in readable_text(page)


def test_every_sentence_of_the_check_has_words() -> None:
    """Codes check.py can say, found in its source: each one has a sentence to say."""
    source = (ROOT / "dashboard" / "ihela" / "check.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'"(check\.[a-z_]+)"', source))
    labels = {label for d in _dialects().values() for label in d.probes()}
    codes |= {f"check.route.{label}" for label in labels}
    assert len(codes) > 20
    assert codes <= set(TEMPLATES), codes - set(TEMPLATES)
