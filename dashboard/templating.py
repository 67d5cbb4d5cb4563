"""Template helpers: money, local times, language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_datetime, get_locale, pgettext
from flask_babel import gettext as _

from dashboard.money import format_amount
from dashboard.settings import LazySetting


def select_locale() -> str:
    if not has_request_context():  # the CLI and background work: the configured default
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = session.get("lang")
    languages = current_app.config["LANGUAGES"]
    if chosen in languages:
        return str(chosen)
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def money(amount: int | None) -> str:
    if amount is None:
        return "—"
    return format_amount(amount, str(get_locale() or "fr"))


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    return str(format_datetime(value, fmt))


def clock(value: datetime | None) -> str:
    """hh:mm:ss in the merchant's zone."""
    if value is None:
        return str(_("never"))
    return str(format_datetime(value, "HH:mm:ss"))


def bill_state_label(state: str | None) -> str:
    """A bill's status in the reader's language (the stored value stays the English code)."""
    labels = {
        "creating": pgettext("bill status", "Creating"),
        "pending": pgettext("bill status", "Pending"),
        "paid": pgettext("bill status", "Paid"),
        "expired": pgettext("bill status", "Expired"),
        "cancelled": pgettext("bill status", "Cancelled"),
        "failed": pgettext("bill status", "Failed"),
        "rejected": pgettext("bill status", "Rejected"),
        "unknown": pgettext("bill status", "Unknown"),
    }
    state = state or ""
    return str(labels.get(state, state.capitalize()))


def cashin_state_label(state: str | None) -> str:
    """A cash-in's status in the reader's language."""
    labels = {
        "draft": pgettext("cash-in status", "Draft"),
        "awaiting_approval": pgettext("cash-in status", "Awaiting approval"),
        "submitting": pgettext("cash-in status", "Submitting"),
        "succeeded": pgettext("cash-in status", "Succeeded"),
        "failed": pgettext("cash-in status", "Failed"),
        "unknown": pgettext("cash-in status", "Unknown"),
        "rejected": pgettext("cash-in status", "Rejected"),
        "discarded": pgettext("cash-in status", "Discarded"),
    }
    state = state or ""
    return str(labels.get(state, state.replace("_", " ").capitalize()))


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
    from dashboard.cashins.services import REASONS  # the views' module, imported late

    reason = reason or ""
    return str(REASONS.get(reason, reason.capitalize()))


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


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["bill_state"] = bill_state_label
    app.jinja_env.filters["cashin_state"] = cashin_state_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["reason_label"] = reason_label
    app.jinja_env.filters["payer_kind"] = payer_kind_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"merchant_name": LazySetting("MERCHANT_NAME"), "current_locale": str(get_locale())}
