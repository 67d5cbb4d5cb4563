"""Template helpers: the reader's language, and the filters templates use."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from dashboard import messages
from dashboard.labels import (
    actor_label,
    audit_action_label,
    bill_badge,
    bill_state_label,
    cashin_badge,
    cashin_state_label,
    clock,
    localtime,
    money,
    number,
    payer_kind_label,
    reason_label,
    role_label,
)
from dashboard.row_links import row_url
from dashboard.security import unsent_form_for_this_page
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


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["numberformat"] = number  # Flask-Babel's, said once per number
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["bill_state"] = bill_state_label
    app.jinja_env.filters["bill_badge"] = bill_badge
    app.jinja_env.filters["cashin_state"] = cashin_state_label
    app.jinja_env.filters["cashin_badge"] = cashin_badge
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["reason_label"] = reason_label
    app.jinja_env.filters["payer_kind"] = payer_kind_label
    app.jinja_env.filters["actor"] = actor_label
    app.jinja_env.filters["audit_action"] = audit_action_label
    # Stored notes, errors and summaries ({code, params}, or old free text) in the reader's
    # language; the gateway's own words translated when known, quoted otherwise.
    app.jinja_env.filters["message"] = messages.render_html
    app.jinja_env.filters["said"] = lambda value: messages.say(value, html=True)  # not stored
    app.jinja_env.filters["gateway_text"] = lambda text: messages.gateway_text(text, html=True)
    app.jinja_env.globals["row_url"] = row_url
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "merchant_name": LazySetting("MERCHANT_NAME"),
            "current_locale": str(get_locale()),
            "unsent_form": unsent_form_for_this_page() if has_request_context() else None,
        }
