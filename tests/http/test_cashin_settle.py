"""Unknown cash-ins settled by asking iHela (v2 operations/status), from the page or from cron."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard.cashins.settle import settle_unknown
from dashboard.db import db, utcnow
from dashboard.models import AuditEvent, Cashin, User
from tests.conftest import WebClient
from tests.http.test_cashins import cashins, confirm, prepare, received

pytestmark = pytest.mark.both_dialects


def fault(sandbox: Any, **spec: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=spec, timeout=5).raise_for_status()


def unknown_cashin(
    make_app: Callable[..., Flask], sandbox: Any, api_path: Callable[[str], str], **fault_spec: Any
) -> tuple[Flask, WebClient, str]:
    """A cash-in whose answer was lost: by default the sandbox applied it, then went quiet."""
    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    fault(sandbox, path=api_path("cash-in"), count=1, **(fault_spec or {"stall": 2}))
    confirm(web, url)
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    [cashin] = cashins(app)
    assert cashin.status == "unknown"
    return app, web, url


def test_check_with_ihela_settles_to_what_the_sandbox_recorded(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
    dialect: str,
) -> None:
    app, web, url = unknown_cashin(make_app, sandbox, api_path)
    page = web.get(url).get_data(as_text=True)
    if dialect == "v1":  # no status call in v1: the button is hidden, and refused if forged
        assert 'data-testid="check-with-ihela"' not in page
        web.post(url + "/check-with-ihela")
        assert cashins(app)[0].status == "unknown"
        return
    assert 'data-testid="check-with-ihela"' in page
    page = web.post(url + "/check-with-ihela", follow_redirects=True).get_data(as_text=True)
    assert "iHela says the money arrived" in page
    [cashin] = cashins(app)
    [recorded] = received(sandbox)
    assert cashin.status == "succeeded"
    assert cashin.gateway_reference == recorded["reference"]
    assert cashin.resolved_by_id == staff["accountant"].id
    assert "accountant@example.com" in (cashin.resolution_note or "")
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cashin.settled")
        ).one()
        assert event.actor_label == "accountant@example.com"
        assert event.object_id == cashin.merchant_reference
    # Asking again changes nothing: it is no longer unknown.
    again = web.post(url + "/check-with-ihela", follow_redirects=True).get_data(as_text=True)
    assert "already resolved" in again
    assert len(received(sandbox)) == 1


@pytest.mark.parametrize("dialect", ["v2"])
def test_cron_settles_a_cashin_that_never_reached_ihela_once_old_enough(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
    dialect: str,
) -> None:
    # A 502 before the sandbox acted: iHela has no operation under our reference.
    app, _web, _url = unknown_cashin(make_app, sandbox, api_path, status=502)
    assert received(sandbox) == []
    with app.app_context():
        assert settle_unknown(asked_by="cron") == (1, 0)  # too recent to read "not found" as no
    assert cashins(app)[0].status == "unknown"
    with app.app_context():
        db.session.execute(
            Cashin.__table__.update().values(submitted_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["cashins", "settle-unknown"])
    assert result.exit_code == 0, result.output
    assert "1 settled" in result.output
    [cashin] = cashins(app)
    assert cashin.status == "failed" and cashin.resolved_by_id is None
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cashin.settled")
        ).one()
        assert event.actor_label == "cron" and event.actor_id is None


@pytest.mark.parametrize("dialect", ["v1"])
def test_cron_command_refuses_with_v1(app: Flask, dialect: str) -> None:
    result = app.test_cli_runner().invoke(args=["cashins", "settle-unknown"])
    assert result.exit_code == 1 and "a person must settle" in result.output


@pytest.mark.parametrize("dialect", ["v2"])
def test_a_check_that_settles_nothing_says_why_in_the_readers_language(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
    dialect: str,
) -> None:
    app, web, url = unknown_cashin(make_app, sandbox, api_path, status=502)
    page = web.post(url + "/check-with-ihela", follow_redirects=True).get_data(as_text=True)
    assert "iHela has no operation with this reference yet." in page
    french = {"Accept-Language": "fr"}
    # Reads are tried twice: both answer 500.
    fault(sandbox, path=api_path("operation status"), count=2, status=500)
    web.post(url + "/check-with-ihela", headers=french)
    page = web.get(url, headers=french).get_data(as_text=True)
    assert "iHela n\u2019a pas pu être interrogé pour l\u2019instant." in page
    assert "Internal" not in page and "500" not in page  # no client or gateway detail
    assert cashins(app)[0].status == "unknown"


def test_every_reason_a_check_settles_nothing_is_a_sentence_in_both_languages(app: Flask) -> None:
    """What the sandbox cannot answer (a status word nobody knows, another amount) still reads
    as a sentence in the reader's language, with iHela's own word quoted."""
    from dashboard.cashins.settle import Settled, _still_unknown

    cashin = Cashin(amount=20_000)
    cases = [
        Settled(None, "unrecognised", "Reversed"),
        Settled(None, "amount_differs", "Success", 15_000),
        Settled(None, "pending", "Pending"),
        Settled(None, "not_found"),
        Settled(None, "no_answer"),
    ]
    for language, reversed_status in (("en", "does not know"), ("fr", "ne connaît pas")):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            said = [_still_unknown(result, cashin) for result in cases]
        assert reversed_status in said[0] and "Reversed" in said[0]
        assert "15" in said[1] and "20" in said[1]
        assert len(set(said)) == len(cases)  # each reason its own sentence
        assert not any("still in progress" in s for s in said[:1] + said[3:])


@pytest.mark.parametrize("dialect", ["v2", "v2-on-v1"])
@pytest.mark.parametrize("how", ["cron", "check with iHela"])
def test_a_bare_404_from_the_status_call_never_frees_a_refund_that_left(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    sandbox: Any,
    api_path: Callable[[str], str],
    dialect: str,
    how: str,
) -> None:
    """Issue 15 row 1: stall a refund past the read timeout (the money left), two minutes later
    let the status call answer a bare 404 (a proxy, a wrong path) and settle: the refund stays
    unknown and a second refund of the same bill is refused."""
    from tests.http.test_cashins import _paid_bill

    app = make_app(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    bill_id = _paid_bill(app, sandbox, 20_000)
    url = prepare(web, f"/cashins/new?bill={bill_id}", amount="20000").headers["Location"]
    fault(sandbox, path=api_path("cash-in"), count=1, stall=2)
    confirm(web, url)
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    [refund] = cashins(app)
    assert refund.status == "unknown" and refund.reason == "refund"
    assert len(received(sandbox)) == 1  # the money left
    # Two minutes later, on both clocks.
    requests.post(sandbox.url + "_sandbox/clock", json={"advance": 150}, timeout=5)
    with app.app_context():
        db.session.execute(
            Cashin.__table__.update().values(submitted_at=utcnow() - timedelta(minutes=3))
        )
        db.session.commit()
    fault(sandbox, path=api_path("operation status"), status=404)  # every status call
    if how == "cron":
        result = app.test_cli_runner().invoke(args=["cashins", "settle-unknown"])
        assert result.exit_code == 0, result.output
        assert "0 settled" in result.output
    else:
        page = web.post(url + "/check-with-ihela", follow_redirects=True).get_data(as_text=True)
        assert "iHela could not be asked just now" in page
    assert cashins(app)[0].status == "unknown"
    second = prepare(web, f"/cashins/new?bill={bill_id}", amount="20000")
    assert second.status_code == 422
    assert "left to refund" in second.get_data(as_text=True)
    assert len(cashins(app)) == 1 and len(received(sandbox)) == 1
    # iHela's own "no such operation" (its envelope, code 04) is what may say "not found".
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    with app.app_context():
        from dashboard.gateway import gateway

        status = gateway().operation_status("NO-SUCH-REFERENCE")
    assert status.outcome.value == "not_found"
    assert status.raw.get("response_code") == "04"
