"""Exports for accountants."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from dashboard.models import Role
from dashboard.reports import services
from dashboard.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
KINDS = {"bills": services.bills_csv, "cashins": services.cashins_csv}


def _french() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "fr"


def _separator_name() -> str:
    """As asked; else semicolons in French (spreadsheets there use the comma for decimals)."""
    asked = request.args.get("sep", "")
    if asked in services.SEPARATORS:
        return asked
    return "semicolon" if _french() else "comma"


def _page(month: str, error: str | None) -> str:
    return render_template("reports/index.html", month=month, error=error, sep=_separator_name())


@bp.get("/")
@roles_required(Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    month = request.args.get("month") or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    return _page(month, None)


@bp.get("/<kind>.csv")
@roles_required(Role.ACCOUNTANT)
def export(kind: str) -> ResponseReturnValue:
    if kind not in KINDS:
        return _page("", _("Unknown export.")), 404
    month = request.args.get("month", "")
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        start, end = services.month_bounds(month, zone)
    except ValueError:
        return _page(month, _("Choose a month, like 2026-11.")), 400
    separator = services.SEPARATORS[_separator_name()]
    rows = KINDS[kind](start, end, zone, separator, _french())
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{month}.csv"'},
    )
