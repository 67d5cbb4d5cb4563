"""Template helpers: the reader's language, and the filters templates use."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dashboard import messages
from dashboard.labels import (
    actor_label,
    audit_action_label,
    bill_badge,
    bill_state_label,
    cashin_badge,
    cashin_state_label,
    catalogue,
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


def _said(context: Context, text: str, variables: dict[str, Any]) -> str:
    """As Jinja's newstyle gettext: escaped when the template is, always a format string
    ("%%" is "%"), ``text % {}`` skipped where it changes nothing."""
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our catalogue's words, as Jinja does
    return text % variables if variables or "%" in text else text


@pass_context
def _gettext(context: Context, message: str, /, **variables: Any) -> str:
    return _said(context, catalogue().ugettext(message), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _said(context, catalogue().ungettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, message_context: str, message: str, /, **variables: Any) -> str:
    variables.setdefault("context", message_context)
    return _said(context, catalogue().upgettext(message_context, message), variables)


@pass_context
def _npgettext(
    context: Context,
    message_context: str,
    singular: str,
    plural: str,
    num: int,
    /,
    **variables: Any,
) -> str:
    variables.setdefault("context", message_context)
    variables.setdefault("num", num)
    text = catalogue().unpgettext(message_context, singular, plural, num)
    return _said(context, text, variables)


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
    # Flask-Babel's, through Jinja's i18n wrappers, took some 20 µs a word (the request context
    # walked and the locale named on every call, three calls deep): a list page says fifty.
    # The same catalogue, the same "newstyle" formatting, in one call each.
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        _=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "merchant_name": LazySetting("MERCHANT_NAME"),
            "current_locale": str(get_locale()),
            "unsent_form": unsent_form_for_this_page() if has_request_context() else None,
        }
