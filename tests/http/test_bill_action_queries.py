"""A bill's issue and its *Reload status* ask the database only what they need (issue 17).

Each statement is a round trip while the cashier (and the customer) wait: nothing read twice,
nothing read back after it was written, nothing read for a page that is not shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, update

from dashboard.db import db
from dashboard.models import AuditEvent, Bill, User
from tests.conftest import WebClient
from tests.http.test_bills import GOOD, issue, new_form_token


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app sends meanwhile (its breaker's connection too), one line each."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_of(table: str, seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and f" FROM {table} " in f"{s} "]


def test_issuing_a_bill_reads_nothing_twice_and_nothing_back(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    assert issue(web).status_code == 303  # the payer is a known customer from now on
    form = {**GOOD, "form_token": new_form_token(web)}
    with statements(app) as seen:
        response = web.post("/bills/new", form)
    assert response.status_code == 303
    assert len(reads_of("users", seen)) == 1, "\n".join(seen)  # the login's, once
    # The form-token check only: the bill written is never read back, before or after iHela.
    assert len(reads_of("bills", seen)) == 1, seen
    assert not [s for s in seen if "price_items" in s], seen  # the form's items: no form shown
    assert not [s for s in seen if s.startswith("UPDATE bills SET") and "customer_id" in s], seen
    # The payer's customer and its identifiers are read once, with the form token (one round
    # trip): what iHela then says of the payer is checked against those, not read again.
    assert len([s for s in seen if "FROM customer_identifiers" in s]) == 1, "\n".join(seen)
    assert len([s for s in seen if "form_token" in s and s.startswith("SELECT")]) == 1, seen
    assert "FROM customer_identifiers" in next(s for s in seen if "form_token" in s)
    # What iHela said and the new state: one UPDATE of the bill.
    assert len([s for s in seen if s.startswith("UPDATE bills")]) == 1, "\n".join(seen)
    assert len(seen) <= 12, "\n".join(seen)
    with app.app_context():
        bill = db.session.get(Bill, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert bill is not None and bill.status == "pending" and bill.customer_id is not None
        assert [e.to_status for e in bill.events] == ["creating", "pending"]


def test_the_breakers_state_is_read_without_a_transaction_around_it(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    """One SELECT of one row needs no BEGIN and COMMIT (two round trips before every call)."""
    web.login("cashier@example.com")
    reads: list[str | None] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "FROM gateway_breaker" in statement:
            reads.append(conn.get_execution_options().get("isolation_level"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert issue(web).status_code == 303
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert reads and set(reads) == {"AUTOCOMMIT"}, reads  # the form's page reads it too


def test_reload_status_reads_the_bill_and_the_person_once(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any
) -> None:
    web.login("cashier@example.com")
    bill_id = int(issue(web).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():  # the last check was long ago
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
    with statements(app) as seen:
        response = web.post(f"/bills/{bill_id}/refresh", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-testid="last-checked"' in response.get_data(as_text=True)
    assert len(reads_of("users", seen)) == 1, seen
    assert len(reads_of("bills", seen)) == 1, seen  # the claim returns the row it changed
    assert len(seen) <= 6, "\n".join(seen)
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        assert bill is not None and bill.last_checked_at is not None
        actions = db.session.scalars(
            AuditEvent.__table__.select().with_only_columns(AuditEvent.action)
        ).all()
        assert actions.count("bill.refreshed") == 1


def test_wtforms_own_messages_stay_in_the_readers_language_and_are_read_once(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any, monkeypatch: Any
) -> None:
    from babel import support

    from dashboard import forms

    loads: list[str] = []
    real_load = support.Translations.load

    def load(*args: Any, **kwargs: Any) -> Any:
        loads.append(str(kwargs.get("domain")))
        return real_load(*args, **kwargs)

    web.login("cashier@example.com")
    web.post("/lang", {"lang": "fr", "next": "/bills/new"})
    monkeypatch.setattr(support.Translations, "load", load)
    monkeypatch.setattr(forms._WTFORMS_MESSAGES, "_catalogues", {})
    for _ in range(2):
        form = {**GOOD, "payer_kind": "pigeon", "form_token": new_form_token(web)}
        page = web.post("/bills/new", form).get_data(as_text=True)
        assert "N&#39;est pas un choix valide." in page  # WTForms' own words, in French
    assert loads.count("wtforms") == 1  # its catalogue read once, not on each of four requests
