"""Template helpers: money, local times, language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import format_datetime, get_locale

from dashboard.money import format_amount


def select_locale() -> str:
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
        return "never"
    return str(format_datetime(value, "HH:mm:ss"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"merchant_name": app.config["MERCHANT_NAME"], "current_locale": str(get_locale())}
