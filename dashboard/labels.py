"""Words and formats a reader sees: amounts, local times, statuses, roles, reasons, who acted.

Shared by templates, messages and services, so it imports nothing of the dashboard but money.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from operator import attrgetter
from typing import Any, Literal, cast

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import current_app, g
from flask_babel import get_locale, get_timezone, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from dashboard.money import format_amount

# Why a cash-in is made (stored as the key).
REASONS = {"refund": _l("Refund"), "payout": _l("Payout"), "other": _l("Other")}


def N_(message: str) -> str:
    """Marks ``message`` for translation (pybabel extracts it) and leaves it as it is: the
    words are translated where they are shown, once per request (see _Formats)."""
    return message


# What happened, for every action code the audit trail stores (the code stays in the database,
# in CSV exports and in the audit filter's values). A test checks every code the dashboard
# records is here. English: audit_action_label says them in the reader's language.
AUDIT_ACTIONS: dict[str, str] = {
    "auth.login": N_("Signed in"),
    "auth.logout": N_("Signed out"),
    "auth.login_failed": N_("Sign-in failed"),
    "auth.login_throttled": N_("Sign-in refused: too many attempts"),
    "auth.password_ok": N_("Password accepted, two-factor code awaited"),
    "auth.code_failed": N_("Two-factor code refused"),
    "auth.code_throttled": N_("Two-factor code refused: too many attempts"),
    "auth.recovery_code_used": N_("Recovery code used"),
    "bill.created": N_("Bill issued"),
    "bill.refreshed": N_("Bill checked with iHela"),
    "bill.status_changed": N_("Bill status changed"),
    "bill.callback": N_("Payment callback received"),
    "bill.callback_refused": N_("Payment callback refused"),
    "bill.unknown_settled": N_("Unknown bill settled by a person"),
    "cashin.drafted": N_("Cash-in prepared"),
    "cashin.submitted_for_approval": N_("Cash-in submitted for approval"),
    "cashin.confirmed": N_("Cash-in sent"),
    "cashin.approved": N_("Cash-in approved and sent"),
    "cashin.succeeded": N_("Cash-in succeeded"),
    "cashin.failed": N_("Cash-in failed"),
    "cashin.unknown": N_("Cash-in outcome unknown"),
    "cashin.rejected": N_("Cash-in rejected"),
    "cashin.discarded": N_("Cash-in draft discarded"),
    "cashin.settled": N_("Cash-in outcome learnt from iHela"),
    "cashin.resolved": N_("Cash-in outcome recorded by hand"),
    "cashin.late_reply": N_("Late answer from iHela about a cash-in"),
    "cashin.conflict_settled": N_("Cash-in conflict settled"),
    "display.paired": N_("Customer display paired"),
    "display.pairing_failed": N_("Customer display: wrong pairing code"),
    "setting.changed": N_("Setting changed"),
    "settings.two_factor_policy": N_("Two-factor rule changed"),
    "settings.gateway_checked": N_("iHela gateway checked (nothing sent)"),
    "user.created": N_("Staff member added"),
    "user.activated": N_("Staff member activated"),
    "user.deactivated": N_("Staff member deactivated"),
    "user.password_changed": N_("Password changed"),
    "user.role_changed": N_("Role changed"),
    "user.two_factor_enabled": N_("Two-factor sign-in turned on"),
    "user.two_factor_disabled": N_("Two-factor sign-in turned off"),
    "user.two_factor_reset": N_("Two-factor sign-in reset"),
    "bill.self_service": N_("Bill issued by a customer through a shop QR"),
    "customer.merged": N_("Customers merged (one iHela account)"),
    "customer.note_changed": N_("Customer note changed"),
    "item.created": N_("Item added to the price list"),
    "item.changed": N_("Price list item changed"),
    "poster.created": N_("Shop QR poster made"),
    "poster.turned_off": N_("Shop QR poster turned off"),
    "poster.replaced": N_("Shop QR poster replaced"),
}
# The audit filter also offers each family of actions ("bill." matches every bill action).
AUDIT_ACTION_GROUPS: dict[str, str] = {
    "auth.": N_("Signing in (all)"),
    "bill.": N_("Bills (all)"),
    "cashin.": N_("Cash-ins (all)"),
    "customer.": N_("Customers (all)"),
    "item.": N_("Price list (all)"),
    "poster.": N_("Shop QR posters (all)"),
    "display.": N_("Customer display (all)"),
    "setting": N_("Settings (all)"),
    "user.": N_("Staff (all)"),
}


class _Formats:
    """The reader's locale, zone and catalogue, and the labels already translated, looked up
    once per request: a list page formats hundreds of cells, and every Flask-Babel call walks
    the request context again (about 1 650 walks for 50 bills before this). Each label table is
    translated whole the first time a page needs it, straight from the catalogue."""

    def __init__(self, locale: Locale | None) -> None:
        self.source = locale  # what get_locale() said (force_locale() swaps it)
        self.locale = locale or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
        self.name = str(self.locale)
        self.date_locale = _date_locale(self.locale)
        self.zone: tzinfo = get_timezone()
        self.catalogue: Any = None
        self.labels: dict[Callable[[_Formats], dict[str, str]], dict[str, str]] = {}
        self.datetime_formats: dict[str, Callable[[datetime], str]] = {}
        self.badges: dict[tuple[str, str], Markup] = {}
        self.last_datetime: tuple[datetime | None, str, str] = (None, "", "")
        self.memos: dict[str, dict[Any, Any]] = {}

    def translations(self) -> Any:
        """The reader's catalogue (Flask-Babel's get_translations, asked once)."""
        if self.catalogue is None:
            self.catalogue = get_translations()
        return self.catalogue

    def gettext(self, message: str) -> str:
        """As Flask-Babel's gettext (no variables), without walking the request context."""
        return str(self.translations().ugettext(message))

    def pgettext(self, context: str, message: str) -> str:
        return str(self.translations().upgettext(context, message))

    def label(self, of: Callable[[_Formats], dict[str, str]], code: str) -> str | None:
        labels = self.labels.get(of)
        if labels is None:
            labels = self.labels[of] = of(self)
        return labels.get(code)

    def datetime_text(self, value: datetime, fmt: str) -> str:
        """As ``babel.dates.format_datetime(value, fmt, tzinfo=zone, locale=locale)``, with the
        patterns parsed once (and the last moment remembered: a row may show it twice)."""
        last = self.last_datetime
        if last[0] is value and last[1] == fmt:
            return last[2]
        apply = self.datetime_formats.get(fmt)
        if apply is None:
            apply = self.datetime_formats[fmt] = _datetime_format(fmt, self.date_locale)
        # A pytz zone needs no normalize() after astimezone (its fromutc picks the offset).
        text = apply(value.astimezone(self.zone))
        self.last_datetime = (value, fmt, text)
        return text


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

# Pattern fields that are only a number (zero-padded to the field's length): what they read.
_NUMBERS = {"y": "year", "M": "month", "d": "day", "H": "hour", "m": "minute", "s": "second"}


def _numbers(pattern: str) -> tuple[str, tuple[str, ...]] | None:
    """A Babel pattern of numbers only (dd/MM/y, HH:mm) as one printf format and the fields it
    reads, filled in as Babel's DateTimeFormat fills them ('%0*d'); None for any other pattern
    (names of months or days, zones, a two-letter year...)."""
    parts: list[str] = []
    fields: list[str] = []
    for kind, token in babel_dates.tokenize_pattern(pattern):
        if kind != "field":
            parts.append(str(token).replace("%", "%%"))
            continue
        char, length = cast(tuple[str, int], token)
        if char not in _NUMBERS or (length > 2 and char != "y") or (char, length) == ("y", 2):
            return None
        parts.append(f"%0{length}d")
        fields.append(_NUMBERS[char])
    return "".join(parts), tuple(fields)


def _filler(numbers: tuple[str, tuple[str, ...]]) -> Callable[[Any], str]:
    layout, fields = numbers
    if not fields:
        return lambda value: layout % ()
    read = attrgetter(*fields)  # one field: the value itself, which % takes as well
    return lambda value: layout % read(value)


def _pattern(pattern: str) -> Callable[[Any, Locale, Any], str]:
    """A Babel date/time pattern as a function of (value, locale, reference date)."""
    numbers = _numbers(pattern)
    if numbers is not None:
        fill = _filler(numbers)
        return lambda value, locale, reference: fill(value)
    parsed = babel_dates.parse_pattern(pattern)
    return lambda value, locale, reference: str(
        parsed.apply(value, locale, reference_date=reference)
    )


def _datetime_format(fmt: str, locale: Locale) -> Callable[[datetime], str]:
    named = _NAMED_FORMATS.get(fmt)
    if named is None:
        pattern = _pattern(fmt)
        return lambda local: pattern(local, locale, None)
    # What babel.dates.format_datetime does for a named format, minus the per-call look-ups.
    layout = str(babel_dates.get_datetime_format(named, locale=locale)).replace("'", "")
    date_text = babel_dates.get_date_format(named, locale=locale).pattern
    time_text = babel_dates.get_time_format(named, locale=locale).pattern
    date_numbers, time_numbers = _numbers(date_text), _numbers(time_text)
    if date_numbers and time_numbers and layout.count("{0}") == layout.count("{1}") == 1:
        # Numbers only (the short format): the whole layout filled in at once.
        first, second = (
            (date_numbers, time_numbers)
            if layout.index("{1}") < layout.index("{0}")
            else (time_numbers, date_numbers)
        )
        whole = (
            layout.replace("%", "%%")
            .replace("{1}", date_numbers[0])
            .replace("{0}", time_numbers[0])
        )
        return _filler((whole, first[1] + second[1]))
    date_pattern, time_pattern = _pattern(date_text), _pattern(time_text)

    def apply(local: datetime) -> str:
        day = local.date()
        time_part = time_pattern(local.timetz(), locale, day)
        return layout.replace("{0}", time_part).replace("{1}", date_pattern(day, locale, None))

    return apply


def _formats() -> _Formats:
    # Read straight off the app context's g (one context look-up, not one per attribute): a
    # list page asks for this a few hundred times.
    real = g._get_current_object()
    found: _Formats | None = getattr(real, "_formats", None)
    babel = getattr(real, "_flask_babel", None)
    if found is not None and getattr(babel, "babel_locale", None) is found.source:
        return found
    locale = get_locale()
    if found is None or found.source is not locale:  # force_locale() swaps the object
        found = real._formats = _Formats(locale)
    return found


def catalogue() -> Any:
    """The reader's catalogue for templates' ``_()``, ``ngettext`` and ``pgettext``: Flask-Babel's
    own callables walk the request context and name the locale again on every call (some 20 µs:
    a list page says fifty words, about 1 ms)."""
    return _formats().translations()


@lru_cache(maxsize=4096)
def _amount_text(amount: int, locale: str) -> str:
    return format_amount(amount, locale)


@lru_cache(maxsize=4096, typed=True)
def _number_text(number: Any, locale: str) -> str:
    return str(babel_numbers.format_decimal(number, locale=locale))


def number(value: Any) -> str:
    """As Flask-Babel's numberformat filter (format_decimal in the reader's locale), said once
    per number and language: a directory shows a count on every row."""
    return _number_text(value, _formats().name)


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


def _bill_state_labels(t: _Formats) -> dict[str, str]:
    return {
        "creating": t.pgettext("bill status", "Creating"),
        "pending": t.pgettext("bill status", "Pending"),
        "paid": t.pgettext("bill status", "Paid"),
        "expired": t.pgettext("bill status", "Expired"),
        "cancelled": t.pgettext("bill status", "Cancelled"),
        "failed": t.pgettext("bill status", "Failed"),
        "rejected": t.pgettext("bill status", "Rejected"),
        "unknown": t.pgettext("bill status", "Unknown"),
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


def _badge(
    testid: str, state: str | None, colours: dict[str, str], label: Callable[[str | None], str]
) -> Markup:
    """A status as a coloured badge, made once per kind, status and request (a list of 50 rows
    shows one or two per row)."""
    formats = _formats()
    key = (testid, state or "")
    badge = formats.badges.get(key)
    if badge is None:
        badge = formats.badges[key] = Markup(
            '<span class="badge text-bg-{}" data-testid="{}">{}</span>'
        ).format(colours.get(state or "", "secondary"), testid, label(state))
    return badge


def bill_badge(state: str | None) -> Markup:
    """A bill's status as a coloured badge (a filter)."""
    return _badge("status-badge", state, _BADGE_COLOURS, bill_state_label)


def _cashin_state_labels(t: _Formats) -> dict[str, str]:
    return {
        "draft": t.pgettext("cash-in status", "Draft"),
        "awaiting_approval": t.pgettext("cash-in status", "Awaiting approval"),
        "submitting": t.pgettext("cash-in status", "Submitting"),
        "succeeded": t.pgettext("cash-in status", "Succeeded"),
        "failed": t.pgettext("cash-in status", "Failed"),
        "unknown": t.pgettext("cash-in status", "Unknown"),
        "rejected": t.pgettext("cash-in status", "Rejected"),
        "discarded": t.pgettext("cash-in status", "Discarded"),
    }


def cashin_state_label(state: str | None) -> str:
    """A cash-in's status in the reader's language."""
    state = state or ""
    return _formats().label(_cashin_state_labels, state) or state.replace("_", " ").capitalize()


_CASHIN_BADGE_COLOURS = {
    "draft": "secondary",
    "awaiting_approval": "warning",
    "submitting": "info",
    "succeeded": "success",
    "failed": "danger",
    "unknown": "danger",
    "rejected": "dark",
    "discarded": "light",
}


def cashin_badge(state: str | None) -> Markup:
    """A cash-in's status as a coloured badge (a filter)."""
    return _badge("cashin-status", state, _CASHIN_BADGE_COLOURS, cashin_state_label)


def _role_labels(t: _Formats) -> dict[str, str]:
    return {
        "cashier": t.pgettext("role", "Cashier"),
        "accountant": t.pgettext("role", "Accountant"),
        "admin": t.pgettext("role", "Admin"),
    }


def role_label(role: str | None) -> str:
    role = role or ""
    return _formats().label(_role_labels, role) or role.capitalize()


def _reason_labels(t: _Formats) -> dict[str, str]:
    return {code: str(label) for code, label in REASONS.items()}


def reason_label(reason: str | None) -> str:
    """Why a cash-in is made: refund, payout or other."""
    reason = reason or ""
    return _formats().label(_reason_labels, reason) or reason.capitalize()


def _holder_check_labels(t: _Formats) -> dict[str, str]:
    return {
        "confirmed": t.gettext("confirmed by the bank"),
        "unavailable": t.gettext("typed and vouched for"),
    }


def holder_check_label(check: str | None) -> str:
    """How the account holder's name was known: from the bank, or typed and vouched for."""
    check = check or ""
    return _formats().label(_holder_check_labels, check) or check


def _actor_labels(t: _Formats) -> dict[str, str]:
    return {
        "cli": t.pgettext("actor", "command line"),
        "setup": t.pgettext("actor", "set-up"),
        "cron": t.pgettext("actor", "scheduled check"),
        "auto-refresh": t.pgettext("actor", "page's own check"),
        "payer returned": t.pgettext("actor", "payer's return from iHela"),
        "customer display": t.pgettext("actor", "customer display"),
        "dashboard": t.pgettext("actor", "dashboard"),
        "iHela": t.pgettext("actor", "iHela"),
        "iHela callback": t.pgettext("actor", "iHela callback"),
        "self-service": t.pgettext("actor", "customer through a shop QR"),
    }


def actor_label(label: str | None) -> str:
    """Who did something: a person's e-mail as stored, or the part of the system that acted
    (stored as a fixed English word) in the reader's language."""
    label = label or ""
    if "@" in label:  # an e-mail, as typed or stored: shown as it is
        return label
    return _formats().label(_actor_labels, label) or label


def _audit_action_labels(t: _Formats) -> dict[str, str]:
    return {code: t.gettext(words) for code, words in (AUDIT_ACTIONS | AUDIT_ACTION_GROUPS).items()}


def audit_action_label(action: str | None) -> str:
    """What an audit entry records, in words; a code this version does not know, as stored."""
    action = action or ""
    return _formats().label(_audit_action_labels, action) or action


def _payer_kind_labels(t: _Formats) -> dict[str, str]:
    return {
        "email": t.pgettext("payer kind", "email"),
        "phone": t.pgettext("payer kind", "phone"),
        "username": t.pgettext("payer kind", "username"),
        "code": t.pgettext("payer kind", "code"),
    }


def payer_kind_label(kind: str | None) -> str:
    """How the payer of a bill was identified, as a short lower-case word."""
    kind = kind or ""
    return _formats().label(_payer_kind_labels, kind) or kind


def request_memo(kind: str) -> dict[Any, Any]:
    """A dict that lasts as long as this request in this language: for words made from stored
    values (a list shows the same ones row after row)."""
    memos = _formats().memos
    memo = memos.get(kind)
    if memo is None:
        memo = memos[kind] = {}
    return memo


def translated(of: Callable[[_Formats], dict[str, str]], code: str) -> str | None:
    """``code``'s words from a table of labels ``of`` builds (given the request's formats: its
    ``gettext`` and ``pgettext``), translated once per request; None when not in it."""
    return _formats().label(of, code)
