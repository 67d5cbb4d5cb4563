"""Two-factor sign-in: TOTP codes, one-time recovery codes, and which roles must use them."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, or_, select, update

from dashboard import audit, throttle
from dashboard import messages as msg
from dashboard.auth.sealing import SealBroken, seal, unseal
from dashboard.auth.services import AccountError, LoginLimits, LoginThrottled, throttle_rule
from dashboard.db import db, utcnow
from dashboard.models import RecoveryCode, Role, RolePolicy, User

log = logging.getLogger("dashboard.auth")

RECOVERY_CODE_COUNT = 10
# 12 characters from 32 (60 random bits): too many to try even from a stolen hash, so a plain
# SHA-256 is enough and checking a code needs no slow hash per stored code.
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: nothing to misread
STEP_SECONDS = 30


class CodeRefused(AccountError):
    """The code is wrong, already used, or for another window."""


def _otp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=STEP_SECONDS)


def normalise_code(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").lower()


def _is_totp_shape(code: str) -> bool:
    return re.fullmatch(r"[0-9]{6}", code) is not None


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step the code belongs to, within one step either side of now (clock drift)."""
    if not _is_totp_shape(code):
        return None
    otp = _otp(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def _use_step(user: User, step: int) -> bool:
    """Record the step as used, only if no later or equal step was: a code works once."""
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    user.totp_last_step = step
    return True


def _use_recovery_code(user: User, code: str) -> bool:
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _open(sealed: str | None) -> str | None:
    """A sealed secret from the database, opened; None when there is none or it cannot be."""
    if sealed is None:
        return None
    try:
        return unseal(sealed)
    except SealBroken:
        # The key changed (TOTP_KEY or SECRET_KEY): no code can match; an admin resets it.
        log.error("a two-factor secret cannot be opened with the configured key")
        return None


def _check_code(user: User, code: str) -> str | None:
    """ "totp" or "recovery" when the code is good (and now used), else None."""
    code = normalise_code(code)
    secret = _open(user.totp_secret)
    if secret is None:
        return None
    step = _matching_step(secret, code)
    if step is not None:
        return "totp" if _use_step(user, step) else None
    if not _is_totp_shape(code) and _use_recovery_code(user, code):
        return "recovery"
    return None


def _claim_code_try(user: User, limits: LoginLimits) -> int:
    """Count one code try for this account if it may be made now (0), else the seconds to wait.

    Whoever reaches this step knows the password, so tries count per account wherever they come
    from; the delays are the password's (1, 2, 4 … seconds, never a lock-out). Checking and
    counting are one step in the database: codes sent together get no extra guesses.
    """
    return throttle.claim(_code_key(user), throttle_rule(limits, limits.free_failures))


def _code_key(user: User) -> str:
    return throttle.key("code", user.id)


def _throttled(wait: int) -> LoginThrottled:
    return LoginThrottled(
        ngettext(
            "Too many wrong codes. Wait %(num)d second and try again.",
            "Too many wrong codes. Wait %(num)d seconds and try again.",
            wait,
        ),
        field="code",
    )


def _record_failure(user: User, summary: str) -> None:
    audit.record(
        "auth.code_failed",
        actor=user,
        actor_label=user.email,  # what the throttle counts
        object_type="user",
        object_id=user.id,
        summary=summary,
    )
    db.session.commit()


def verify_code(user: User, code: str, *, limits: LoginLimits, purpose: str = "login") -> str:
    """Check a second-factor code (TOTP or recovery); throttled, each code good once."""
    wait = _claim_code_try(user, limits)
    if wait:
        audit.record(
            "auth.code_throttled",
            actor=user,
            object_type="user",
            object_id=user.id,
            summary=msg.coded("audit.code_throttled", purpose=purpose),
        )
        db.session.commit()
        raise _throttled(wait)
    return _verify_counted(user, code, purpose)


def _verify_counted(user: User, code: str, purpose: str) -> str:
    """Check a code whose try was already counted."""
    method = _check_code(user, code)
    if method is None:
        _record_failure(user, msg.coded("audit.code_refused", purpose=purpose))
        raise CodeRefused(
            _("This code is wrong or was already used. Type the current code."), field="code"
        )
    throttle.clear(_code_key(user))  # the person holds the phone (or a recovery code)
    if method == "recovery":
        audit.record(
            "auth.recovery_code_used",
            actor=user,
            object_type="user",
            object_id=user.id,
            summary=msg.coded("audit.recovery_code_used", purpose=purpose),
        )
    db.session.commit()
    return method


def begin_enrolment(user: User, password: str, *, limits: LoginLimits) -> str:
    """The password again, then a new key for this attempt (sealed in the database): a stolen
    session cannot bind its own authenticator, and a key once shown is not offered again."""
    wait = _claim_code_try(user, limits)
    if wait:
        raise _throttled(wait)
    if not user.check_password(password):
        _record_failure(user, msg.coded("audit.code_wrong_password_enrol"))
        raise AccountError(_("Wrong password."), field="password")
    throttle.forgive(_code_key(user))  # the right password was no guess
    return start_enrolment(user)


def start_enrolment(user: User) -> str:
    """A new secret for this enrolment attempt (any earlier attempt's key stops working)."""
    secret = pyotp.random_base32()
    user.totp_pending_secret = seal(secret)
    db.session.commit()
    return secret


def pending_secret(user: User) -> str | None:
    """The key of the enrolment attempt under way, if any."""
    return _open(user.totp_pending_secret)


def forget_enrolment(user: User) -> None:
    """End an enrolment attempt (logout, a new password): its key will never be accepted."""
    user.totp_pending_secret = None


def provisioning_uri(user: User, secret: str) -> str:
    return _otp(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["MERCHANT_NAME"]
    )


def qr_data_uri(uri: str) -> str:
    """The enrolment QR as an SVG data: address (an <img>, so no markup is injected in the page)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    return codes


def _end_other_sessions(user: User) -> None:
    user.login_nonce = secrets.token_urlsafe(12)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn two-factor on once the app shows the right code; returns the recovery codes (once)."""
    secret = pending_secret(user)
    step = _matching_step(secret, normalise_code(code)) if secret else None
    if secret is None or step is None:
        raise CodeRefused(
            _("This code does not match. Check the phone's clock and type the current code."),
            field="code",
        )
    user.totp_secret = user.totp_pending_secret  # sealed as it is
    user.totp_pending_secret = None
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    _end_other_sessions(user)
    audit.record(
        "user.two_factor_enabled",
        actor=user,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.two_factor_on", email=user.email),
    )
    db.session.commit()
    return codes


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _end_other_sessions(user)


def disable(user: User, password: str, code: str, *, limits: LoginLimits) -> None:
    """The person turns two-factor off (to enrol a new phone): password and a code needed."""
    wait = _claim_code_try(user, limits)  # one try, for the password and the code together
    if wait:
        raise _throttled(wait)
    if not user.check_password(password):
        _record_failure(user, msg.coded("audit.code_wrong_password_off"))
        raise AccountError(_("Wrong password."), field="password")
    _verify_counted(user, code, purpose="turn off")
    _turn_off(user)
    audit.record(
        "user.two_factor_disabled",
        actor=user,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.two_factor_off", email=user.email),
    )
    db.session.commit()


def reset(user: User, *, by: User | None = None, by_label: str | None = None) -> None:
    """An admin (or the CLI) removes someone's two-factor, e.g. after a lost phone."""
    _turn_off(user)
    audit.record(
        "user.two_factor_reset",
        actor=by,
        actor_label=by_label,
        object_type="user",
        object_id=user.id,
        summary=msg.coded("audit.two_factor_reset", email=user.email),
    )
    db.session.commit()


def policies() -> dict[Role, bool]:
    """For each role: must its people use two-factor before sending money?"""
    configured = current_app.config["TWO_FACTOR_DEFAULT_REQUIRED_ROLES"] or ()
    if isinstance(configured, str):  # "accountant,admin" from the environment
        configured = configured.replace(",", " ").split()
    default = {str(role).strip().lower() for role in configured}
    stored = {p.role: p.two_factor_required for p in db.session.scalars(select(RolePolicy))}
    return {role: stored.get(role.value, role.value in default) for role in Role}


def required_for(role: Role | str) -> bool:
    return policies()[Role(role)]


def may_send_money(user: User) -> bool:
    return user.two_factor_enabled or not required_for(user.role)


def set_policies(required: set[str], *, by: User) -> list[str]:
    """Store the roles that must use two-factor; returns the roles whose rule changed."""
    before = policies()
    changed = []
    for role in Role:
        wanted = role.value in required
        row = db.session.get(RolePolicy, role.value)
        if row is None:
            db.session.add(
                RolePolicy(role=role.value, two_factor_required=wanted, updated_by_id=by.id)
            )
        elif row.two_factor_required != wanted:
            row.two_factor_required = wanted
            row.updated_by_id = by.id
        if before[role] != wanted:
            changed.append(role.value)
    if changed:
        audit.record(
            "settings.two_factor_policy",
            actor=by,
            object_type="role_policy",
            object_id=",".join(changed),
            summary=msg.coded(
                "audit.two_factor_policy",
                roles=", ".join(sorted(required & {r.value for r in Role})) or "—",
            ),
            details={r: {"old": before[Role(r)], "new": r in required} for r in changed},
        )
    db.session.commit()
    return changed
