"""All tables. Models never commit: services do, once per use case."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.db import Base, utcnow


class Role(enum.StrEnum):
    CASHIER = "cashier"
    ACCOUNTANT = "accountant"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def _new_login_nonce() -> str:
    return secrets.token_urlsafe(12)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the session id: changing it (new password, deactivation) ends every open session.
    login_nonce: Mapped[str] = mapped_column(String(32), default=_new_login_nonce)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Two-factor sign-in (auth/twofactor.py): the TOTP secret once confirmed, the one being
    # enrolled (both sealed, auth/sealing.py), and the last time step used (a code is never
    # accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The language the person last chose (FR / EN): their e-mails are written in it.
    language: Mapped[str | None] = mapped_column(String(8))
    # Which e-mails they want (topic -> on/off); a missing topic takes the role's default.
    email_choices: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    # When their last approval e-mail was (or their next digest is) due: one per 10 minutes.
    approval_mail_at: Mapped[datetime | None]

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    def set_password(self, password: str) -> None:
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)
        self.login_nonce = _new_login_nonce()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.login_nonce}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class AuditEvent(Base):
    """Append-only trail: who did what to which object, when, from where."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # The trail pages by (created_at, id); each filter's index ends in that order.
        Index("ix_audit_events_created_at_id", "created_at", "id"),
        Index("ix_audit_events_actor_created_at", "actor_id", "created_at", "id"),
        Index("ix_audit_events_action_created_at_id", "action", "created_at", "id"),
        Index("ix_audit_events_object_created_at", "object_type", "object_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))  # e-mail typed, "system", "cli"
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class RecoveryCode(Base):
    """One of a person's ten two-factor recovery codes, hashed; ``used_at`` set once used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class RolePolicy(Base):
    """What an admin decided for one role; no row: the configured default applies."""

    __tablename__ = "role_policies"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    two_factor_required: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BillState(enum.StrEnum):
    CREATING = "creating"  # committed, gateway not yet answered
    PENDING = "pending"  # iHela has it; waiting for the payer
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"  # iHela reported an error, or nothing could be sent
    REJECTED = "rejected"  # iHela refused it; nothing is owed
    UNKNOWN = "unknown"  # the reply was lost: iHela may or may not have the bill

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_final(self) -> bool:
        return self not in (BillState.CREATING, BillState.PENDING, BillState.UNKNOWN)


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        Index("ix_bills_status_created_at", "status", "created_at", "id"),
        Index("ix_bills_issued_by_created_at", "issued_by_id", "created_at", "id"),
        Index("ix_bills_created_at_id", "created_at", "id"),  # the list's order, also deep pages
        # "Statuses checked since" on the bills list: the oldest check per followed state.
        Index("ix_bills_status_last_checked_at", "status", "last_checked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(40), unique=True)
    # One per rendered form: a second submission of the same form finds the first bill.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Lets the payer's return page find the bill without exposing ids or staff pages.
    public_token: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    payer: Mapped[str] = mapped_column(String(120))
    payer_kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    bank_slug: Mapped[str | None] = mapped_column(String(20))
    bank_client_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[BillState] = mapped_column(String(20), default=BillState.CREATING)
    raw_status: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    confirmation_uri: Mapped[str | None] = mapped_column(String(500))
    payment_reference: Mapped[str | None] = mapped_column(String(80))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_checked_at: Mapped[datetime | None]
    # When the payer first came back from iHela's page: that visit asks iHela at once (once).
    payer_returned_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Why the dashboard failed the bill (a code; the sentence is rendered when shown).
    failure_code: Mapped[str | None] = mapped_column(String(40))
    field_errors: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    gateway_reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Unique: however many tabs click "try again", an unknown bill is issued again once.
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), unique=True)
    # Francs promised to refunds being sent, awaiting approval or sent (released when one fails
    # or is rejected). Raised only by a conditional UPDATE, so it never passes ``amount``.
    refund_reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    # The payer's name when iHela gives it (v1 verify replies never do: then it stays empty).
    payer_name: Mapped[str | None] = mapped_column(String(160))
    # The customer the payer is (customers/services.py), set in the transaction that issues it.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # Self-service: the shop QR poster a customer paid through (no cashier typed it).
    poster_id: Mapped[int | None] = mapped_column(ForeignKey("posters.id"), index=True)

    issued_by: Mapped[User] = relationship()
    events: Mapped[list[BillEvent]] = relationship(
        back_populates="bill", order_by="BillEvent.id", cascade="all, delete-orphan"
    )
    # What the bill is made of, when it was built from the price list or free lines.
    lines: Mapped[list[BillLine]] = relationship(
        order_by="BillLine.position", cascade="all, delete-orphan"
    )

    @property
    def state(self) -> BillState:
        return BillState(self.status)

    @property
    def outcome_unknown(self) -> bool:
        """Unknown, or stuck in "creating" (the process died during the gateway call)."""
        if self.state == BillState.UNKNOWN:
            return True
        return self.state == BillState.CREATING and utcnow() - self.created_at > STUCK_AFTER


# No gateway call takes this long; a row still "creating" after it was abandoned mid-call.
STUCK_AFTER = timedelta(minutes=2)


class BillEvent(Base):
    """One status change of a bill: the history shown on its page."""

    __tablename__ = "bill_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(Text, default="")

    bill: Mapped[Bill] = relationship(back_populates="events")


class BillDayTotal(Base):
    """Bills and francs per UTC day, status and issuer, for the list's totals. Written only by
    database triggers on ``bills`` (migration a6667115a006), never by the application."""

    __tablename__ = "bill_day_totals"

    day: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    issued_by_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bills: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class BillMonthTotal(Base):
    """bill_day_totals rolled up by UTC month (``month`` is its first day): a long range sums
    a few rows per month rather than one per day. Written only by triggers (f1701a0a0001)."""

    __tablename__ = "bill_month_totals"

    month: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    issued_by_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bills: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class BillAllTimeTotal(Base):
    """Bills and francs per status and issuer over all time: the lists' unbounded totals read
    a few rows, not every month. Written only by triggers (f17015ea4c05)."""

    __tablename__ = "bill_all_time_totals"

    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    issued_by_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bills: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class CachedDocument(Base):
    """Gateway data shared by every request and every server (bank list, bank logos)."""

    __tablename__ = "cached_documents"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    fetched_at: Mapped[datetime]
    content_type: Mapped[str] = mapped_column(String(80), default="application/json")
    body: Mapped[bytes] = mapped_column(LargeBinary)


class CashinState(enum.StrEnum):
    DRAFT = "draft"  # filled in, reviewed by nobody yet
    AWAITING_APPROVAL = "awaiting_approval"
    SUBMITTING = "submitting"  # committed before the gateway call
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the reply was lost: the money may or may not have left
    REJECTED = "rejected"  # by the approver
    DISCARDED = "discarded"  # a draft nobody will send (e.g. the bill was refunded meanwhile)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class HolderCheck(enum.StrEnum):
    CONFIRMED = "confirmed"  # the gateway gave the holder's name
    UNAVAILABLE = "unavailable"  # lookup impossible: a person typed and vouched for the name


class Cashin(Base):
    """Money the merchant sends to a customer's account: a refund or a payout."""

    __tablename__ = "cashins"
    __table_args__ = (
        Index("ix_cashins_status_created_at", "status", "created_at", "id"),
        Index("ix_cashins_created_at_id", "created_at", "id"),
        Index("ix_cashins_account_created_at", "bank_slug", "account", "created_at"),
        # The list's filters, each then its order (migration f1701a0a0001).
        Index("ix_cashins_bank_created_at", "bank_slug", "created_at", "id"),
        Index("ix_cashins_created_by_created_at", "created_by_id", "created_at", "id"),
        Index("ix_cashins_reason_created_at", "reason", "created_at", "id"),
        Index(
            "ix_cashins_open_conflicts",
            "id",
            sqlite_where=text("late_outcome IS NOT NULL AND late_checked_at IS NULL"),
            postgresql_where=text("late_outcome IS NOT NULL AND late_checked_at IS NULL"),
        ),
        # The needs-checking banner on every accountant page looks for open conflicts.
        Index("ix_cashins_late_outcome", "late_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(40), unique=True)
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # One-time token of the review page: spent by the click that sends (or submits) it.
    send_token: Mapped[str | None] = mapped_column(String(64))
    bank_slug: Mapped[str] = mapped_column(String(20))
    bank_name: Mapped[str] = mapped_column(String(120))
    account: Mapped[str] = mapped_column(String(64))
    holder_name: Mapped[str] = mapped_column(String(160))
    holder_check: Mapped[HolderCheck] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(String(20))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    status: Mapped[CashinState] = mapped_column(String(20), default=CashinState.DRAFT)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    approval_reason: Mapped[str | None] = mapped_column(Text)
    # A refund that does not go back to the payer's account iHela named (or whose payer's account
    # iHela could not name): a stored message, shown on the review and approval pages.
    account_warning: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    gateway_reference: Mapped[str | None] = mapped_column(String(80))
    gateway_message: Mapped[str | None] = mapped_column(Text)
    gateway_reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The gateway's answer to a send that came after a person had already resolved the row: kept
    # beside the resolution (never over it) until a person has looked at the disagreement.
    late_outcome: Mapped[str | None] = mapped_column(String(20))
    late_reference: Mapped[str | None] = mapped_column(String(80))
    late_message: Mapped[str | None] = mapped_column(Text)
    late_reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    late_at: Mapped[datetime | None]
    late_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    late_checked_at: Mapped[datetime | None]
    late_check_note: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    late_checked_by: Mapped[User | None] = relationship(foreign_keys=[late_checked_by_id])
    bill: Mapped[Bill | None] = relationship()

    @property
    def state(self) -> CashinState:
        return CashinState(self.status)

    @property
    def has_open_conflict(self) -> bool:
        return self.late_outcome is not None and self.late_checked_at is None


class CashinDayTotal(Base):
    """Cash-ins and francs per UTC day, status and reason. Written only by triggers on
    ``cashins`` (migration f1701a0a0001), never by the application."""

    __tablename__ = "cashin_day_totals"

    day: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    cashins: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class CashinMonthTotal(Base):
    """Cash-ins and francs per UTC month, status, reason, bank and preparer (the list's other
    filters). Written only by triggers on ``cashins``."""

    __tablename__ = "cashin_month_totals"

    month: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    bank_slug: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_by_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cashins: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class CashinAllTimeTotal(Base):
    """Cash-ins and francs per status, reason, bank and preparer over all time (as
    BillAllTimeTotal). Written only by triggers on ``cashins``."""

    __tablename__ = "cashin_all_time_totals"

    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    bank_slug: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_by_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cashins: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class CashinBank(Base):
    """Every bank a cash-in went to (the list's bank choices). Written only by triggers."""

    __tablename__ = "cashin_banks"

    slug: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class AccountLock(Base):
    """One row per receiving account. Confirming or approving a cash-in updates it first, which
    makes those steps take turns per account (on SQLite and PostgreSQL alike), so two cash-ins
    to one account cannot both slip under the daily maximum or the approval threshold."""

    __tablename__ = "account_locks"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow)


class Throttle(Base):
    """Tries counted for one throttled key (dashboard/throttle.py): a login pair, an account's
    two-factor codes, an address's pairing codes or callbacks. ``version`` changes with every
    write, so counting a try is a compare-and-swap that one request wins at a time."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tries: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Setting(Base):
    """A value an admin saved on the settings page; DASHBOARD_<KEY> in the environment wins."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    updated_by: Mapped[User | None] = relationship()


class CounterDisplay(Base):
    """A cashier's counter (one per login session) and the customer displays paired to it.

    The pairing code is shown on the cashier's screen and typed on the display; the display then
    polls with the random ``display_token``. It carries no staff session and ends with the
    cashier's session (logout, new password, deactivation) or after a long idle time.
    """

    __tablename__ = "counter_displays"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_key: Mapped[str] = mapped_column(String(64), unique=True)  # kept in the staff session
    pairing_code: Mapped[str] = mapped_column(String(12), unique=True)
    display_token: Mapped[str] = mapped_column(String(64), unique=True)
    login_nonce: Mapped[str] = mapped_column(String(32))  # the user's at creation
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow)  # the cashier's last action
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    bill: Mapped[Bill | None] = relationship()


# Case-sensitive byte order on PostgreSQL too, so that a prefix is one index range.
_TERM = String(160).with_variant(String(160, collation="C"), "postgresql")


class Customer(Base):
    """A payer, built by itself from the bills: each of their iHela identifiers, the name iHela
    confirmed, and running figures kept in the transactions that change them."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(160))  # as iHela confirmed it
    note: Mapped[str | None] = mapped_column(Text)  # accountants' and admins' own words
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_bill_at: Mapped[datetime | None]
    last_bill_at: Mapped[datetime | None] = mapped_column(index=True)
    bills_count: Mapped[int] = mapped_column(default=0)
    paid_amount: Mapped[int] = mapped_column(BigInteger, default=0)

    identifiers: Mapped[list[CustomerIdentifier]] = relationship(
        back_populates="customer", order_by="CustomerIdentifier.id"
    )


class CustomerIdentifier(Base):
    """One way iHela knows a customer: e-mail, phone, username or client code (as bills send it)."""

    __tablename__ = "customer_identifiers"
    __table_args__ = (Index("uq_customer_identifiers_kind_value", "kind", "value", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(120))

    customer: Mapped[Customer] = relationship(back_populates="identifiers")


class CustomerTerm(Base):
    """A lower-case word a customer is found by (a name's words, each identifier): suggestions
    read one index range of this table for what is typed, however many customers there are."""

    __tablename__ = "customer_terms"

    term: Mapped[str] = mapped_column(_TERM, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id"), primary_key=True, index=True
    )


class PriceItem(Base):
    """An item of the price list: a name and a price in whole francs, offered while active."""

    __tablename__ = "price_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    price: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    uses: Mapped[int] = mapped_column(default=0)  # lines billed: the most used are offered first
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BillLine(Base):
    """One line of a bill: an item at the price it had then (or a free line), times a quantity."""

    __tablename__ = "bill_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    position: Mapped[int]
    item_id: Mapped[int | None] = mapped_column(ForeignKey("price_items.id"))
    name: Mapped[str] = mapped_column(String(80))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int]

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


def _poster_token() -> str:
    # Short enough to type from a printed poster: 8 letters and digits with no 0/O, 1/I.
    return "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(8))


class Poster(Base):
    """A shop QR: printed at a shop or a counter, scanned by customers who pay by themselves.
    The bills it issues are the counter's (its ``user``'s); turned off or replaced, its address
    says so and issues nothing."""

    __tablename__ = "posters"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True, default=_poster_token)
    label: Mapped[str] = mapped_column(String(80))  # the shop or counter, as customers see it
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    offers_items: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("posters.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class GatewayBreaker(Base):
    """The iHela circuit breaker's state, one row shared by every worker and server."""

    __tablename__ = "gateway_breaker"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    failures: Mapped[int] = mapped_column(default=0)
    down_since: Mapped[datetime | None]
    open_until: Mapped[datetime | None]


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its time (``run_after``) and a worker
    RUNNING = "running"  # a worker holds it until ``lease_until``; past that it counts as dead
    DONE = "done"
    FAILED = "failed"  # every attempt failed: shown on the System page


class Job(Base):
    """One piece of background work, written in the same transaction as the change it follows
    (the outbox): a web process that dies right after its commit loses nothing.

    ``key`` makes a job idempotent: the same event (one e-mail to one person about one thing)
    is written once however many times it is noticed.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_run_after", "state", "run_after"),
        Index("ix_jobs_kind_recipient_created_at", "kind", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The person an e-mail job is for (None: not an e-mail, or a payer known by address only).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[JobState] = mapped_column(String(20), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    # Handed to the queue at (a message lost with a dead worker is handed again after a lease).
    enqueued_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class PeriodicTask(Base):
    """One periodic task: which period was claimed (one worker per period, whatever number
    run), which was finished, and how the last runs went (the System page)."""

    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    claimed_period: Mapped[int] = mapped_column(BigInteger, default=0)
    claimed_at: Mapped[datetime | None]
    done_period: Mapped[int] = mapped_column(BigInteger, default=0)
    runs: Mapped[int] = mapped_column(default=0)
    last_run_at: Mapped[datetime | None]  # the last run that ended, well or not
    last_ok_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
