"""The merchant's settings: limits and name, changed by admins on the settings page.

Precedence: ``DASHBOARD_<KEY>`` in the environment (shown locked on the page) > the value saved
on the page (the ``settings`` table) > the ``Config`` default. ``setting(name)`` is the one way
to read them. Saved values are read from the database once per request, never kept in the
process, so every app server sees a change on its next request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dashboard import audit
from dashboard import messages as msg
from dashboard.db import db, utcnow
from dashboard.models import Setting, User
from dashboard.money import format_amount

log = logging.getLogger(__name__)

ENV_PREFIX = "DASHBOARD_"
# Ten thousand million francs: far above any counter's bill or payout, well inside BigInteger.
AMOUNT_CEILING = 10_000_000_000
NAME_MAX_LENGTH = 80
_CACHE_KEY = "dashboard.settings"
_EXTENSION = "dashboard.settings_locked"


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: Any  # lazy string, rendered in the reader's language
    help: Any
    is_amount: bool = True
    is_switch: bool = False  # on or off (stored "1" / "0")


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "MERCHANT_NAME",
        _l("Merchant name"),
        _l("Shown in the header, on slips and receipts and in the messages sent to payers."),
        is_amount=False,
    ),
    SettingSpec("BILL_MAX_AMOUNT", _l("Bill maximum"), _l("The largest bill staff may issue.")),
    SettingSpec(
        "CASHIN_MAX_AMOUNT",
        _l("Cash-in maximum"),
        _l("The largest single cash-in (refund or payout)."),
    ),
    SettingSpec(
        "CASHIN_DAILY_MAX_PER_ACCOUNT",
        _l("Daily cap per receiving account"),
        _l("The most one receiving account may get in a day, all cash-ins together."),
    ),
    SettingSpec(
        "CASHIN_APPROVAL_THRESHOLD",
        _l("Approval threshold"),
        _l("At or above this amount, a second person must approve a cash-in."),
    ),
    SettingSpec(
        "PAYER_RECEIPTS",
        _l("E-mail receipts to payers"),
        _l(
            "When a bill whose payer was identified by e-mail is paid, send the payer a receipt "
            "by e-mail."
        ),
        is_amount=False,
        is_switch=True,
    ),
)
SETTINGS: dict[str, SettingSpec] = {spec.key: spec for spec in SPECS}


class SettingsError(Exception):
    """Values refused, each with a message for its field (keyed by setting name)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


def init_app(app: Flask) -> None:
    """Note which settings the environment gives: those are locked on the page."""
    app.extensions[_EXTENSION] = frozenset(
        key for key in SETTINGS if ENV_PREFIX + key in os.environ
    )


def locked_settings() -> frozenset[str]:
    locked: frozenset[str] = current_app.extensions.get(_EXTENSION, frozenset())
    return locked


def env_name(key: str) -> str:
    return ENV_PREFIX + key


def _parse(spec: SettingSpec, text: str) -> int | str | bool | None:
    if spec.is_switch:
        return text == "1"
    if not spec.is_amount:
        return text
    try:
        return int(text)
    except ValueError:
        return None


def saved_rows() -> dict[str, Setting]:
    """The rows saved on the page (fresh from the database; for the page itself)."""
    return {row.key: row for row in db.session.scalars(select(Setting))}


def _saved_values() -> dict[str, str]:
    if has_request_context():
        cached: dict[str, str] | None = request.environ.get(_CACHE_KEY)
        if cached is not None:
            return cached
    values = {key: value for key, value in db.session.execute(select(Setting.key, Setting.value))}
    if has_request_context():
        request.environ[_CACHE_KEY] = values
    return values


def _forget_cached() -> None:
    if has_request_context():
        request.environ.pop(_CACHE_KEY, None)


def setting(name: str) -> Any:
    """The value in force for one of the settings: environment, else the page, else default."""
    spec = SETTINGS[name]
    default = current_app.config[name]
    if name in locked_settings():
        return default
    text = _saved_values().get(name)
    if text is None:
        return default
    value = _parse(spec, text)
    if value is None:
        log.warning("Ignoring the saved %s, which is not a whole number", name)
        return default
    return value


class LazySetting:
    """A setting read only when a template prints it (escaped), so pages that never show it
    cost no query."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        try:
            return str(setting(self.name))
        except SQLAlchemyError:  # the error page of a database outage still shows a name
            db.session.rollback()
            return str(current_app.config[self.name])

    def __html__(self) -> Markup:
        return escape(str(self))


def _check_name(value: str) -> str | None:
    if not value:
        return str(_("Enter the merchant's name."))
    if len(value) > NAME_MAX_LENGTH:
        return str(_("At most %(count)d characters.", count=NAME_MAX_LENGTH))
    if any(not ch.isprintable() for ch in value):
        return str(_("Use letters, digits and punctuation only."))
    return None


def check_settings(new: Mapping[str, int | str | bool]) -> dict[str, str]:
    """What is wrong with the values in ``new`` (others keep their current value)."""
    problems: dict[str, str] = {}
    minimum = int(current_app.config["GATEWAY_MIN_AMOUNT"])
    for key, value in new.items():
        spec = SETTINGS[key]
        if spec.is_switch:
            if not isinstance(value, bool):
                problems[key] = str(_("Choose on or off."))
        elif not spec.is_amount:
            message = _check_name(str(value))
            if message:
                problems[key] = message
        elif not isinstance(value, int) or not minimum <= value <= AMOUNT_CEILING:
            problems[key] = _(
                "Enter an amount from %(low)s to %(high)s.",
                low=format_amount(minimum, _locale()),
                high=format_amount(AMOUNT_CEILING, _locale()),
            )
    if problems:
        return problems
    effective = {key: setting(key) for key in SETTINGS} | dict(new)
    maximum = effective["CASHIN_MAX_AMOUNT"]
    if effective["CASHIN_APPROVAL_THRESHOLD"] > maximum:
        field = _dependent("CASHIN_APPROVAL_THRESHOLD", "CASHIN_MAX_AMOUNT", new)
        if field:
            problems[field] = _(
                "The approval threshold (%(threshold)s) must not be above the cash-in "
                "maximum (%(maximum)s).",
                threshold=format_amount(effective["CASHIN_APPROVAL_THRESHOLD"], _locale()),
                maximum=format_amount(maximum, _locale()),
            )
    if effective["CASHIN_DAILY_MAX_PER_ACCOUNT"] < maximum:
        field = _dependent("CASHIN_DAILY_MAX_PER_ACCOUNT", "CASHIN_MAX_AMOUNT", new)
        if field:
            problems[field] = _(
                "The daily cap per account (%(cap)s) must not be below the cash-in "
                "maximum (%(maximum)s).",
                cap=format_amount(effective["CASHIN_DAILY_MAX_PER_ACCOUNT"], _locale()),
                maximum=format_amount(maximum, _locale()),
            )
    return problems


def _dependent(first: str, second: str, new: Mapping[str, object]) -> str | None:
    """The field a conflict is shown next to: the dependent one when the person can change it."""
    for key in (first, second):
        if key in new:
            return key
    return None


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "fr")


def save_settings(new: Mapping[str, int | str | bool], *, by: User) -> list[str]:
    """Save the values that changed, each change audited (old → new, who); one commit.

    Raises SettingsError when a value is refused or a setting is locked by the environment.
    Returns the names of the settings that changed.
    """
    locked = set(new) & locked_settings()
    if locked:
        message = _("Set in the server's environment; it cannot be changed here.")
        raise SettingsError(dict.fromkeys(locked, message))
    problems = check_settings(new)
    if problems:
        raise SettingsError(problems)
    current = {key: setting(key) for key in new}
    changed = []
    for key, value in new.items():
        if value == current[key]:
            continue
        text = ("1" if value else "0") if SETTINGS[key].is_switch else str(value)
        row = db.session.get(Setting, key)
        if row is None:
            row = Setting(key=key, value=text)
            db.session.add(row)
        row.value = text
        row.updated_by_id = by.id
        row.updated_at = utcnow()
        audit.record(
            "setting.changed",
            actor=by,
            object_type="setting",
            object_id=key,
            summary=msg.coded("audit.setting_changed", key=key, old=current[key], new=value),
            details={"key": key, "old": current[key], "new": value},
        )
        changed.append(key)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SettingsError(
            {
                key: _("Another admin saved this at the same moment; check it and save again.")
                for key in changed
            }
        ) from None
    finally:
        _forget_cached()
    return changed
