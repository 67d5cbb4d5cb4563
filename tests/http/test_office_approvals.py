"""What accountants and admins are told before they send money: the overview says when two-factor
must be turned on first (with the way to do it); the menu counts the cash-ins waiting for this
person's approval, never their own and never past a bound; the approvals list shows each
cash-in's reference, amount, beneficiary and who prepared it. In English and French."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from dashboard import messages as msg
from dashboard.auth import services as auth
from dashboard.auth import twofactor
from dashboard.cashins import services
from dashboard.db import db, utcnow
from dashboard.models import Cashin, CashinState, HolderCheck, User
from tests.conftest import PASSWORD, WebClient
from tests.http.test_two_factor import code_for as totp_code
from tests.http.test_two_factor import enrol, log_in_with_code, step_now

BADGE = re.compile(r'data-testid="approvals-badge"[^>]*>([^<]*)<')
NOTICE = re.compile(r'data-testid="two-factor-notice">(.*?)</div>', re.S)


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def waiting(
    app: Flask, by_email: str, count: int, *, amount: int = 150_000, start: int = 0
) -> list[int]:
    """``count`` cash-ins awaiting approval, prepared by ``by_email`` (as confirm leaves them)."""
    with app.app_context():
        by = db.session.scalar(select(User).where(User.email == by_email))
        assert by is not None
        rows = [
            Cashin(
                merchant_reference=f"C261207-W{by.id}{start + n:04d}",
                bank_slug="MOB-0003",
                bank_name="EcoCash",
                account="79123456",
                holder_name="Ndayishimiye Claude",
                holder_check=HolderCheck.CONFIRMED,
                amount=amount,
                description="Payout",
                reason="payout",
                status=CashinState.AWAITING_APPROVAL,
                needs_approval=True,
                approval_reason=msg.coded("approval.amount", amount=msg.money(100_000)),
                created_by_id=by.id,
                submitted_at=utcnow(),
            )
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def badge(web: WebClient) -> str | None:
    match = BADGE.search(web.get("/bills/").get_data(as_text=True))
    return match.group(1).strip() if match else None


# --- (a) two-factor before the first cash-in -------------------------------------------------


def required_app(make_app: Callable[..., Flask], **config: Any) -> Flask:
    app = make_app(TWO_FACTOR_DEFAULT_REQUIRED_ROLES=("accountant", "admin"), **config)
    with app.app_context():
        for email, name, role in (
            ("cashier@example.com", "Test Cashier", "cashier"),
            ("accountant@example.com", "Test Accountant", "accountant"),
            ("accountant2@example.com", "Second Accountant", "accountant"),
            ("admin@example.com", "Test Admin", "admin"),
        ):
            auth.create_user(email, name, role, PASSWORD)
    return app


def test_the_overview_says_two_factor_comes_first_with_the_way_to_turn_it_on(
    make_app: Callable[..., Flask],
) -> None:
    app = required_app(make_app)
    for email in ("accountant@example.com", "admin@example.com"):
        web = WebClient(app.test_client())
        web.login(email)
        page = web.get("/").get_data(as_text=True)
        notice = NOTICE.search(page)
        assert notice, email
        said = words(notice.group(1))
        assert "Your role must use two-factor sign-in before sending money." in said
        assert "Turn it on now, before you send or approve a cash-in." in said
        assert 'href="/account/two-factor"' in notice.group(1)
        # The link leads to the page that turns it on.
        target = web.get("/account/two-factor").get_data(as_text=True)
        assert "Type your password to get a new key for your authenticator app." in target
    # A cashier never sends money: nothing to say.
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    assert "two-factor-notice" not in cashier.get("/").get_data(as_text=True)


def test_no_notice_once_enrolled_or_when_the_role_need_not(
    make_app: Callable[..., Flask],
) -> None:
    app = required_app(make_app)
    secret, _codes = enrol(app, "accountant2@example.com")
    web = WebClient(app.test_client())
    log_in_with_code(web, "accountant2@example.com", totp_code(secret, step_now()))
    assert 'data-testid="signed-in"' in web.get("/").get_data(as_text=True)
    assert "two-factor-notice" not in web.get("/").get_data(as_text=True)

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        assert admin is not None
        twofactor.set_policies({"admin"}, by=admin)
    other = WebClient(app.test_client())
    other.login("accountant@example.com")
    assert "two-factor-notice" not in other.get("/").get_data(as_text=True)


def test_the_two_factor_notice_in_french(make_app: Callable[..., Flask]) -> None:
    app = required_app(make_app, BABEL_DEFAULT_LOCALE="fr")
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    notice = NOTICE.search(web.get("/").get_data(as_text=True))
    assert notice
    said = words(notice.group(1))
    assert "Votre rôle doit utiliser la connexion à deux facteurs avant d'envoyer" in said
    assert "Activez-la maintenant, avant d'envoyer ou d'approuver un versement." in said
    assert "Activer la connexion à deux facteurs" in said


# --- (b) the menu's count of cash-ins waiting for this person ---------------------------------


def test_the_badge_counts_what_this_person_may_approve(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    waiting(app, "accountant@example.com", 3)
    waiting(app, "accountant2@example.com", 2)
    web.login("accountant@example.com")
    assert badge(web) == "2"  # the other's two, not one's own three
    other = WebClient(app.test_client())
    other.login("accountant2@example.com")
    assert badge(other) == "3"
    admin = WebClient(app.test_client())
    admin.login("admin@example.com")
    assert badge(admin) == "5"  # an admin approves too, and prepared none
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    assert badge(cashier) is None


def test_the_badge_counts_no_further_than_its_bound(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    waiting(app, "accountant2@example.com", services.APPROVALS_BADGE_BOUND - 1)
    web.login("accountant@example.com")
    assert badge(web) == "99"
    waiting(app, "accountant2@example.com", 30, start=500)
    assert badge(web) == "99+"
    with app.app_context():
        user = db.session.get(User, staff["accountant"].id)
        assert user is not None
        assert services.approvals_waiting_for(user) == services.APPROVALS_BADGE_BOUND


def test_the_badge_reads_an_index_range(
    app: Flask, staff: dict[str, User], database_url: str
) -> None:
    """The count runs on every accountant page: it reads the (status, created_at) index."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    waiting(app, "accountant2@example.com", 3)
    with app.app_context():
        user = db.session.get(User, staff["accountant"].id)
        assert user is not None
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "cashins" in statement:
                seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert services.approvals_waiting_for(user) == 3
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        [(statement, parameters)] = seen
        raw = db.session.connection().connection.driver_connection
        assert raw is not None
        rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = " ".join(row[-1] for row in rows)
        assert "USING INDEX ix_cashins_status_created_at (status=?)" in plan, plan
        assert "LIMIT" in statement.upper()


# --- (c) the approvals list --------------------------------------------------------------------


def test_the_approvals_list_shows_reference_amount_beneficiary_and_preparer(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    [theirs] = waiting(app, "accountant2@example.com", 1, amount=250_000)
    [mine] = waiting(app, "accountant@example.com", 1, amount=120_000)
    web.login("accountant@example.com")
    page = web.get("/cashins/approvals").get_data(as_text=True)
    with app.app_context():
        rows = {c.id: c for c in db.session.scalars(select(Cashin))}
        references = {theirs: rows[theirs].merchant_reference, mine: rows[mine].merchant_reference}
    header = words(page.split("<tbody>")[0].split('data-testid="approvals">')[1])
    assert header == "Reference Amount To Prepared by Why approval Actions"
    row = words(page.split(f'data-testid="approval-{theirs}"')[1].split("</tr>")[0])
    assert references[theirs] in row
    assert "BIF 250,000" in row
    assert "Ndayishimiye Claude EcoCash · 79123456" in row
    assert "Second Accountant" in row and "yours" not in row
    own = words(page.split(f'data-testid="approval-{mine}"')[1].split("</tr>")[0])
    assert references[mine] in own and "BIF 120,000" in own
    assert "Test Accountant yours" in own  # one's own, said so: someone else approves it
    assert f'href="/cashins/{theirs}" data-testid="approval-reference"' in page


def test_the_approvals_list_in_french(
    make_app: Callable[..., Flask], staff: dict[str, User]
) -> None:
    app = make_app(BABEL_DEFAULT_LOCALE="fr")
    [theirs] = waiting(app, "accountant2@example.com", 1, amount=250_000)
    waiting(app, "accountant@example.com", 1, amount=120_000, start=1)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    page = web.get("/cashins/approvals").get_data(as_text=True)
    header = words(page.split("<tbody>")[0].split('data-testid="approvals">')[1])
    assert header == "Référence Montant Bénéficiaire Préparé par Motif de l'approbation Actions"
    row = words(page.split(f'data-testid="approval-{theirs}"')[1].split("</tr>")[0])
    assert "250 000 FBu" in row and "Second Accountant" in row
    assert "(le vôtre)" not in row
    assert "le vôtre" in words(page)
    assert badge(web) == "1"
