"""Staff accounts and logging in; shared by the web views and the CLI."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from dashboard import audit, throttle
from dashboard import messages as msg
from dashboard.db import db, utcnow
from dashboard.models import AuditEvent, Role, User

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
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


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most common passwords, lower-cased (scripts/make_common_passwords.py writes the file)."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def _is_common(password: str) -> bool:
    lowered = password.strip().lower()
    # "password2026!" is "password" with the year and a sign: as easy to guess.
    stem = lowered.rstrip("0123456789!?.,;:-_@#$%&*+= ")
    return lowered in common_passwords() or stem in common_passwords()


# Words anyone would try first against this dashboard: treated like the person's own name.
LOCAL_WORDS = ("ihela", "bujumbura", "burundi", "gitega", "ngozi", "merchant", "marchand")
MIN_STRENGTH = 3  # zxcvbn's score (0-4): 3 is at least 10^8 guesses


def _personal_words(*texts: str | None) -> list[str]:
    """The words of an e-mail or a name, whole and squeezed (lower-cased, 3 letters or more)."""
    words = []
    for text in texts:
        if not text:
            continue
        lowered = text.strip().lower()
        if "@" in lowered:
            local = lowered.split("@")[0]
            words.extend([lowered, local, *re.split(r"[._+-]", local)])
        else:
            words.append("".join(lowered.split()))
            words.extend(lowered.split())
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def _weakness(result: dict[str, Any], personal: list[str]) -> str:
    """Why zxcvbn finds a password easy, said in the reader's language (never its English)."""
    patterns = [m for m in result["sequence"] if m["pattern"] != "bruteforce"]
    for match in patterns:
        if match["pattern"] == "dictionary" and match.get("dictionary_name") == "user_inputs":
            if match.get("matched_word") in personal:  # e.g. the name with 0 for o
                return str(_("It contains the person's name or e-mail, or the merchant's name."))
            return str(_("It contains a word anyone would try first here (iHela, a town …)."))
    longest = max(patterns, key=lambda m: len(m["token"]), default=None)
    pattern = longest["pattern"] if longest else ""
    if pattern == "dictionary" and longest and (longest.get("l33t") or longest.get("reversed")):
        pattern = "disguised"
    reasons = {
        "repeat": _("Repeated characters or groups (aaaa, 123123) are easy to guess."),
        "sequence": _("Sequences (abcd, 6543) are easy to guess."),
        "spatial": _("Rows of neighbouring keys (qwerty, 1qaz) are easy to guess."),
        "date": _("Dates and years are easy to guess."),
        "regex": _("Dates and years are easy to guess."),
        "disguised": _("Common words stay easy to guess with signs for letters, or backwards."),
        "dictionary": _("Common words, names and passwords are easy to guess."),
    }
    return str(reasons.get(pattern) or _("It is too short or too simple for its length."))


def check_password_strength(
    password: str, *, email: str | None = None, name: str | None = None
) -> None:
    """Long enough, not among the most common, and hard to guess by zxcvbn's estimate fed with
    the person's name and e-mail and the merchant's name (README, *Passwords*)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Use at least %(count)d characters for the password.", count=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if _is_common(password):
        raise AccountError(
            _("This password is among the most common ones; choose one that is harder to guess."),
            field="password",
        )
    person = _personal_words(email, name)
    merchant = _personal_words(_merchant_name())
    squeezed = "".join(password.lower().split())
    if any(word in squeezed for word in person):
        raise AccountError(
            _("The password must not contain the person's e-mail address or name."),
            field="password",
        )
    # The merchant's whole name, or one of its longer words ("Boutique La Paix": not "paix").
    if any(word in squeezed for word in merchant if len(word) >= 5 or word == merchant[0]):
        raise AccountError(
            _("The password must not contain the merchant's name."), field="password"
        )
    personal = person + merchant
    # zxcvbn looks at 100 characters at most: longer passwords are strong by length alone.
    result = zxcvbn(password[:100], user_inputs=[*personal, *LOCAL_WORDS])
    if result["score"] < MIN_STRENGTH:
        raise AccountError(
            _("This password is too easy to guess.")
            + " "
            + _weakness(result, personal)
            + " "
            + _("A few unrelated words, with a digit or a sign, are easy to remember."),
            field="password",
        )


def _merchant_name() -> str | None:
    if not has_app_context():
        return None
    from dashboard.settings import setting  # the name saved on the Settings page wins

    return str(setting("MERCHANT_NAME") or "") or None


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
        check_password_strength(password, email=email, name=name)
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
    check_password_strength(password, email=user.email, name=user.name)
    user.set_password(password)
    user.totp_pending_secret = None  # a key shown before is never accepted after this
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


KNOWN_ADDRESS_MEMORY = timedelta(days=180)


@dataclass(frozen=True)
class LoginLimits:
    """How slow guessing is made (see README, *Logging in*)."""

    free_failures: int = 5  # per account and address, before delays start
    free_failures_known: int = 20  # the same, from an address the account logged in from before
    failures_per_address: int = 100  # all accounts together, before unknown pairs wait too
    first_delay_seconds: int = 1  # then doubling
    max_delay_seconds: int = 300
    window_minutes: int = 60


def _has_logged_in_from(user: User | None, address: str | None) -> bool:
    if user is None or address is None:
        return False
    query = select(AuditEvent.id).where(
        AuditEvent.action == "auth.login",
        AuditEvent.created_at >= utcnow() - KNOWN_ADDRESS_MEMORY,
        AuditEvent.actor_id == user.id,
        AuditEvent.remote_addr == address,
    )
    return db.session.scalar(query.limit(1)) is not None


def throttle_rule(limits: LoginLimits, free: int) -> throttle.Rule:
    return throttle.Rule(
        free=free,
        first_delay=limits.first_delay_seconds,
        max_delay=limits.max_delay_seconds,
        window=timedelta(minutes=limits.window_minutes),
    )


def _claim_login_try(
    label: str, address: str | None, user: User | None, limits: LoginLimits
) -> tuple[int, list[str]]:
    """Count this try at this account from this address, if it may be made now.

    Returns (0, the throttle keys counted) or (seconds to wait, []). Counted per account *and*
    address, so nobody's failures delay the owner elsewhere; an address the account has logged
    in from before gets more tries before any delay. Checking and counting are one step in the
    database (dashboard/throttle.py), so requests sent together get no extra guesses.
    """
    known = _has_logged_in_from(user, address)
    pair = throttle.key("login", label, address or "")
    free = limits.free_failures_known if known else limits.free_failures
    wait = throttle.claim(pair, throttle_rule(limits, free))
    if wait:
        return wait, []
    if known or address is None:
        return 0, [pair]
    # Many accounts tried from one address (credential stuffing): slow its new pairs too.
    everyone = throttle.key("login-address", address)
    wait = throttle.claim(everyone, throttle_rule(limits, limits.failures_per_address))
    if wait:
        throttle.forgive(pair)  # not tried after all
        return wait, []
    return 0, [pair, everyone]


def authenticate(
    email: str, password: str, *, address: str | None, limits: LoginLimits | None = None
) -> User:
    """Check a login. Tries are counted in the database, so limits hold across servers."""
    limits = limits or LoginLimits()
    label = email.strip().lower()[:254]
    user = find_user_by_email(label)
    wait, counted = _claim_login_try(label, address, user, limits)
    if wait:
        # The password is not even checked: a guess made too early is no guess at all.
        audit.record(
            "auth.login_throttled", actor_label=label, summary=msg.coded("audit.login_throttled")
        )
        db.session.commit()
        raise LoginThrottled(
            ngettext(
                "Too many failed attempts from here. Wait %(num)d second and try again.",
                "Too many failed attempts from here. Wait %(num)d seconds and try again.",
                wait,
            ),
            field="password",
        )
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
    # The right password: this try was no guess. The pair starts again from zero; the address
    # only gets this one try back (its other accounts' failures still count).
    throttle.clear(counted[0])
    for key in counted[1:]:
        throttle.forgive(key)
    if user.two_factor_enabled:
        # Not logged in yet: the code step (auth/twofactor_views.py) finishes the login.
        audit.record(
            "auth.password_ok",
            actor=user,
            object_type="user",
            object_id=user.id,
            summary=msg.coded("audit.password_ok"),
        )
        db.session.commit()
        return user
    record_login(user)
    return user


def record_login(user: User, summary: str | None = None) -> None:
    user.last_login_at = utcnow()
    audit.record(
        "auth.login",
        actor=user,
        object_type="user",
        object_id=user.id,
        summary=summary or msg.coded("audit.logged_in"),
    )
    db.session.commit()


def record_logout(user: User) -> None:
    """Log out on the server too: a new nonce makes every copy of the session cookie useless."""
    user.login_nonce = secrets.token_urlsafe(12)
    user.totp_pending_secret = None  # an enrolment under way ends with the session
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
    # A name that reads the same in French and English (the admin gives their own later).
    user = create_user("admin@example.com", "Admin", Role.ADMIN, password, by_label="setup")
    return user, password
