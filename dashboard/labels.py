"""Words and formats a reader sees: amounts, local times, statuses, roles, reasons, who acted.

Shared by templates, messages and services, so it imports nothing of the dashboard but money.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, Literal

from babel import Locale
from babel import dates as babel_dates
from flask import current_app, g
from flask_babel import get_locale, get_timezone, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from dashboard.money import format_amount

# Why a cash-in is made (stored as the key).
REASONS = {"refund": _l("Refund"), "payout": _l("Payout"), "other": _l("Other")}


# What happened, for every action code the audit trail stores (the code stays in the database,
# in CSV exports and in the audit filter's values). A test checks every code the dashboard
# records is here.
AUDIT_ACTIONS: dict[str, Any] = {
    "auth.login": _l("Signed in"),
    "auth.logout": _l("Signed out"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.login_throttled": _l("Sign-in refused: too many attempts"),
    "auth.password_ok": _l("Password accepted, two-factor code awaited"),
    "auth.code_failed": _l("Two-factor code refused"),
    "auth.code_throttled": _l("Two-factor code refused: too many attempts"),
    "auth.recovery_code_used": _l("Recovery code used"),
    "bill.created": _l("Bill issued"),
    "bill.refreshed": _l("Bill checked with iHela"),
    "bill.status_changed": _l("Bill status changed"),
    "bill.callback": _l("Payment callback received"),
    "bill.callback_refused": _l("Payment callback refused"),
    "bill.unknown_settled": _l("Unknown bill settled by a person"),
    "cashin.drafted": _l("Cash-in prepared"),
    "cashin.submitted_for_approval": _l("Cash-in submitted for approval"),
    "cashin.confirmed": _l("Cash-in sent"),
    "cashin.approved": _l("Cash-in approved and sent"),
    "cashin.succeeded": _l("Cash-in succeeded"),
    "cashin.failed": _l("Cash-in failed"),
    "cashin.unknown": _l("Cash-in outcome unknown"),
    "cashin.rejected": _l("Cash-in rejected"),
    "cashin.discarded": _l("Cash-in draft discarded"),
    "cashin.settled": _l("Cash-in outcome learnt from iHela"),
    "cashin.resolved": _l("Cash-in outcome recorded by hand"),
    "cashin.late_reply": _l("Late answer from iHela about a cash-in"),
    "cashin.conflict_settled": _l("Cash-in conflict settled"),
    "display.paired": _l("Customer display paired"),
    "display.pairing_failed": _l("Customer display: wrong pairing code"),
    "setting.changed": _l("Setting changed"),
    "settings.two_factor_policy": _l("Two-factor rule changed"),
    "settings.gateway_checked": _l("iHela gateway checked (nothing sent)"),
    "user.created": _l("Staff member added"),
    "user.activated": _l("Staff member activated"),
    "user.deactivated": _l("Staff member deactivated"),
    "user.password_changed": _l("Password changed"),
    "user.role_changed": _l("Role changed"),
    "user.two_factor_enabled": _l("Two-factor sign-in turned on"),
    "user.two_factor_disabled": _l("Two-factor sign-in turned off"),
    "user.two_factor_reset": _l("Two-factor sign-in reset"),
    "bill.self_service": _l("Bill issued by a customer through a shop QR"),
    "customer.merged": _l("Customers merged (one iHela account)"),
    "customer.note_changed": _l("Customer note changed"),
    "item.created": _l("Item added to the price list"),
    "item.changed": _l("Price list item changed"),
    "poster.created": _l("Shop QR poster made"),
    "poster.turned_off": _l("Shop QR poster turned off"),
    "poster.replaced": _l("Shop QR poster replaced"),
}
# The audit filter also offers each family of actions ("bill." matches every bill action).
AUDIT_ACTION_GROUPS: dict[str, Any] = {
    "auth.": _l("Signing in (all)"),
    "bill.": _l("Bills (all)"),
    "cashin.": _l("Cash-ins (all)"),
    "customer.": _l("Customers (all)"),
    "item.": _l("Price list (all)"),
    "poster.": _l("Shop QR posters (all)"),
    "display.": _l("Customer display (all)"),
    "setting": _l("Settings (all)"),
    "user.": _l("Staff (all)"),
}


class _Formats:
    """The reader's locale and zone, and the labels already translated, looked up once per
    request: a list page formats hundreds of cells, and every Flask-Babel call walks the request
    context again (about 1 650 walks for 50 bills before this)."""

    def __init__(self, locale: Locale | None) -> None:
        self.locale = locale or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
        self.name = str(self.locale)
        self.date_locale = _date_locale(self.locale)
        self.zone: tzinfo = get_timezone()
        self.labels: dict[Callable[[], dict[str, str]], dict[str, str]] = {}
        self.datetime_formats: dict[str, Callable[[datetime], str]] = {}

    def label(self, of: Callable[[], dict[str, str]], code: str) -> str | None:
        labels = self.labels.get(of)
        if labels is None:
            labels = self.labels[of] = {k: str(v) for k, v in of().items()}
        return labels.get(code)

    def datetime_text(self, value: datetime, fmt: str) -> str:
        """As ``babel.dates.format_datetime(value, fmt, tzinfo=zone, locale=locale)``, with the
        patterns parsed once."""
        apply = self.datetime_formats.get(fmt)
        if apply is None:
            apply = self.datetime_formats[fmt] = _datetime_format(fmt, self.date_locale)
        local = value.astimezone(self.zone)
        normalize = getattr(self.zone, "normalize", None)  # pytz zones
        return apply(normalize(local) if normalize else local)


# Whose conventions dates and times follow, by language. In Bujumbura 12/7 is the 12th of July
# and the clock has 24 hours: English pages write dates as British English does (07/12/2026,
# 15:28), as the French ones do. en_BI would keep the month first (12/7/26, 15:28).
_DATE_LOCALES = {"en": "en_GB"}


@lru_cache(maxsize=8)
def _date_locale(locale: Locale) -> Locale:
    borrowed = _DATE_LOCALES.get(locale.language)
    return Locale.parse(borrowed) if borrowed else locale


_NAMED_FORMATS: dict[str, Literal["full", "long", "medium", "short"]] = {
    "full": "full",
    "long": "long",
    "medium": "medium",
    "short": "short",
}


def _datetime_format(fmt: str, locale: Locale) -> Callable[[datetime], str]:
    named = _NAMED_FORMATS.get(fmt)
    if named is None:
        pattern = babel_dates.parse_pattern(fmt)
        return lambda local: str(pattern.apply(local, locale))
    # What babel.dates.format_datetime does for a named format, minus the per-call look-ups.
    layout = str(babel_dates.get_datetime_format(named, locale=locale)).replace("'", "")
    date_pattern = babel_dates.parse_pattern(babel_dates.get_date_format(named, locale=locale))
    time_pattern = babel_dates.parse_pattern(babel_dates.get_time_format(named, locale=locale))

    def apply(local: datetime) -> str:
        day = local.date()
        time_text = time_pattern.apply(local.timetz(), locale, reference_date=day)
        return layout.replace("{0}", time_text).replace("{1}", date_pattern.apply(day, locale))

    return apply


def _formats() -> _Formats:
    locale = get_locale()
    found: _Formats | None = g.get("_formats")
    if found is None or found.locale is not locale:  # force_locale() swaps the object
        found = g._formats = _Formats(locale)
    return found


@lru_cache(maxsize=4096)
def _amount_text(amount: int, locale: str) -> str:
    return format_amount(amount, locale)


def money(amount: int | None) -> str:
    if amount is None:
        return "—"
    return _amount_text(amount, _formats().name)


def money_texts() -> Callable[[int | None], str]:
    """``money`` for a page that says many amounts: the reader's locale looked up once."""
    name = _formats().name

    def say(amount: int | None) -> str:
        return "—" if amount is None else _amount_text(amount, name)

    return say


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    return _formats().datetime_text(value, fmt)


def clock(value: datetime | None) -> str:
    """hh:mm:ss in the merchant's zone."""
    if value is None:
        return str(_("never"))
    return _formats().datetime_text(value, "HH:mm:ss")


def _bill_state_labels() -> dict[str, str]:
    return {
        "creating": pgettext("bill status", "Creating"),
        "pending": pgettext("bill status", "Pending"),
        "paid": pgettext("bill status", "Paid"),
        "expired": pgettext("bill status", "Expired"),
        "cancelled": pgettext("bill status", "Cancelled"),
        "failed": pgettext("bill status", "Failed"),
        "rejected": pgettext("bill status", "Rejected"),
        "unknown": pgettext("bill status", "Unknown"),
    }


def bill_state_label(state: str | None) -> str:
    """A bill's status in the reader's language (the stored value stays the English code)."""
    state = state or ""
    return _formats().label(_bill_state_labels, state) or state.capitalize()


_BADGE_COLOURS = {
    "creating": "secondary",
    "pending": "warning",
    "paid": "success",
    "expired": "dark",
    "cancelled": "secondary",
    "failed": "danger",
    "rejected": "danger",
    "unknown": "danger",
}


def bill_badge(state: str | None) -> Markup:
    """A bill's status as a coloured badge (a filter: a list of 50 bills renders 50 of them)."""
    colour = _BADGE_COLOURS.get(state or "", "secondary")
    return Markup('<span class="badge text-bg-{}" data-testid="status-badge">{}</span>').format(
        colour, bill_state_label(state)
    )


def _cashin_state_labels() -> dict[str, str]:
    return {
        "draft": pgettext("cash-in status", "Draft"),
        "awaiting_approval": pgettext("cash-in status", "Awaiting approval"),
        "submitting": pgettext("cash-in status", "Submitting"),
        "succeeded": pgettext("cash-in status", "Succeeded"),
        "failed": pgettext("cash-in status", "Failed"),
        "unknown": pgettext("cash-in status", "Unknown"),
        "rejected": pgettext("cash-in status", "Rejected"),
        "discarded": pgettext("cash-in status", "Discarded"),
    }


def cashin_state_label(state: str | None) -> str:
    """A cash-in's status in the reader's language."""
    state = state or ""
    return _formats().label(_cashin_state_labels, state) or state.replace("_", " ").capitalize()


def role_label(role: str | None) -> str:
    labels = {
        "cashier": pgettext("role", "Cashier"),
        "accountant": pgettext("role", "Accountant"),
        "admin": pgettext("role", "Admin"),
    }
    role = role or ""
    return str(labels.get(role, role.capitalize()))


def reason_label(reason: str | None) -> str:
    """Why a cash-in is made: refund, payout or other."""
    reason = reason or ""
    return str(REASONS.get(reason, reason.capitalize()))


def holder_check_label(check: str | None) -> str:
    """How the account holder's name was known: from the bank, or typed and vouched for."""
    labels = {
        "confirmed": _("confirmed by the bank"),
        "unavailable": _("typed and vouched for"),
    }
    check = check or ""
    return str(labels.get(check, check))


def actor_label(label: str | None) -> str:
    """Who did something: a person's e-mail as stored, or the part of the system that acted
    (stored as a fixed English word) in the reader's language."""
    systems = {
        "cli": pgettext("actor", "command line"),
        "setup": pgettext("actor", "set-up"),
        "cron": pgettext("actor", "scheduled check"),
        "auto-refresh": pgettext("actor", "page's own check"),
        "payer returned": pgettext("actor", "payer's return from iHela"),
        "customer display": pgettext("actor", "customer display"),
        "dashboard": pgettext("actor", "dashboard"),
        "iHela": pgettext("actor", "iHela"),
        "iHela callback": pgettext("actor", "iHela callback"),
        "self-service": pgettext("actor", "customer through a shop QR"),
    }
    label = label or ""
    return str(systems.get(label, label))


def audit_action_label(action: str | None) -> str:
    """What an audit entry records, in words; a code this version does not know, as stored."""
    action = action or ""
    label = AUDIT_ACTIONS.get(action) or AUDIT_ACTION_GROUPS.get(action)
    return str(label) if label is not None else action


def payer_kind_label(kind: str | None) -> str:
    """How the payer of a bill was identified, as a short lower-case word."""
    labels = {
        "email": pgettext("payer kind", "email"),
        "phone": pgettext("payer kind", "phone"),
        "username": pgettext("payer kind", "username"),
        "code": pgettext("payer kind", "code"),
    }
    kind = kind or ""
    return str(labels.get(kind, kind))
