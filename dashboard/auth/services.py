"""Staff accounts and logging in; shared by the web views and the CLI."""

from __future__ import annotations

import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard import audit
from dashboard import messages as msg
from dashboard.db import db, utcnow
from dashboard.models import AuditEvent, Role, User

MIN_PASSWORD_LENGTH = 10
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the person."""

    def __init__(
        self, message: str, field: str | None = None, more: list[AccountError] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.all = [self, *(more or [])]  # every problem found, to show them all at once


class LoginRefused(AccountError):
    """Wrong e-mail or password, or an inactive account (deliberately indistinguishable)."""


class LoginThrottled(AccountError):
    """Too many failed attempts recently for this account or this address."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(_("Enter a valid e-mail address."), field="email") from exc


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Use at least %(count)d characters for the password.", count=MIN_PASSWORD_LENGTH),
            field="password",
        )


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str,
    name: str,
    role: Role | str,
    password: str,
    *,
    by: User | None = None,
    by_label: str | None = None,
) -> User:
    """Add a staff member; the e-mail must be new. Reports every problem at once."""
    problems: list[AccountError] = []
    try:
        email = normalise_email(email)
        if find_user_by_email(email) is not None:
            problems.append(
                AccountError(_("Somebody already has this e-mail address."), field="email")
            )
    except AccountError as exc:
        problems.append(exc)
    name = name.strip()
    if not name:
        problems.append(AccountError(_("Enter the person's name."), field="name"))
    if role not in {r.value for r in Role}:
        problems.append(AccountError(_("Choose cashier, accountant or admin."), field="role"))
    try:
        check_password_strength(password)
    except AccountError as exc:
        problems.append(exc)
    if problems:
        first, *more = problems
        raise AccountError(first.message, first.field, more)
    role = Role(role)
    user = User(email=email, name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created",
        actor=by,
        actor_label=by_label,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.user_created", email=email, role={"role": role.value}),
    )
    db.session.commit()
    return user


def set_password(
    user: User, password: str, *, by: User | None = None, by_label: str | None = None
) -> None:
    """Change a password; every open session of that person ends."""
    check_password_strength(password)
    user.set_password(password)
    audit.record(
        "user.password_changed",
        actor=by,
        actor_label=by_label,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.password_changed", email=user.email),
    )
    db.session.commit()


def set_active(
    user: User, active: bool, *, by: User | None = None, by_label: str | None = None
) -> None:
    """Deactivate (ends their sessions) or reactivate a staff member."""
    if by is not None and by.id == user.id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if not active and user.role == Role.ADMIN and user.active and count_active_admins() <= 1:
        raise AccountError(_("This is the last active admin; add another admin first."))
    user.active = active
    if not active:
        user.login_nonce = secrets.token_urlsafe(12)
    audit.record(
        "user.activated" if active else "user.deactivated",
        actor=by,
        actor_label=by_label,
        object_type="user",
        object_id=user.id,
        summary=msg.coded(
            "audit.user_activated" if active else "audit.user_deactivated", email=user.email
        ),
    )
    db.session.commit()


def set_role(user: User, role: Role | str, *, by: User | None = None) -> None:
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise AccountError(_("Choose cashier, accountant or admin."), field="role") from exc
    if user.role == Role.ADMIN and new_role != Role.ADMIN and count_active_admins() <= 1:
        raise AccountError(_("This is the last active admin; add another admin first."))
    old = user.role
    user.role = new_role
    audit.record(
        "user.role_changed",
        actor=by,
        object_type="user",
        object_id=user.id,
        summary=msg.coded(
            "audit.role_changed",
            email=user.email,
            old={"role": Role(old).value},
            new={"role": new_role.value},
        ),
    )
    db.session.commit()


def count_active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        or 0
    )


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.name)))


def _recent_failures(window_minutes: int, **where: str) -> int:
    since = utcnow() - timedelta(minutes=window_minutes)
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "auth.login_failed", AuditEvent.created_at >= since)
    )
    if "email" in where:
        query = query.where(AuditEvent.actor_label == where["email"])
    if "address" in where:
        query = query.where(AuditEvent.remote_addr == where["address"])
    return db.session.scalar(query) or 0


def authenticate(
    email: str,
    password: str,
    *,
    address: str | None,
    per_account: int,
    per_address: int,
    window_minutes: int,
) -> User:
    """Check a login. Failures are counted in the audit trail, so limits hold across servers."""
    label = email.strip().lower()[:254]
    if _recent_failures(window_minutes, email=label) >= per_account or (
        address is not None and _recent_failures(window_minutes, address=address) >= per_address
    ):
        audit.record(
            "auth.login_throttled", actor_label=label, summary=msg.coded("audit.login_throttled")
        )
        db.session.commit()
        raise LoginThrottled(
            ngettext(
                "Too many failed attempts. Wait %(num)d minute and try again, "
                "or ask an admin to reset your password.",
                "Too many failed attempts. Wait %(num)d minutes and try again, "
                "or ask an admin to reset your password.",
                window_minutes,
            )
        )
    user = find_user_by_email(label)
    if user is None:
        # Hash anyway, so the time taken does not tell which e-mails have an account.
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.check_password(password) or not user.active:
        reason = "inactive account" if user is not None and user.active is False else "bad password"
        if user is None:
            reason = "unknown e-mail"
        audit.record(
            "auth.login_failed",
            actor_label=label,
            object_type="user",
            object_id=user.id if user else None,
            summary=msg.coded(f"audit.login_failed.{reason}"),
        )
        db.session.commit()
        raise LoginRefused(_("Wrong e-mail or password, or the account is not active."))
    user.last_login_at = utcnow()
    audit.record(
        "auth.login",
        actor=user,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.logged_in"),
    )
    db.session.commit()
    return user


def record_logout(user: User) -> None:
    audit.record(
        "auth.logout",
        actor=user,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.logged_out"),
    )
    db.session.commit()


def ensure_first_admin() -> tuple[User, str] | None:
    """Create an admin when there is none yet; return it with its password (shown once)."""
    exists = db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN)
    )
    if exists:
        return None
    password = generate_password()
    user = create_user("admin@example.com", "First admin", Role.ADMIN, password, by_label="setup")
    return user, password
