"""Exports for accountants."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from dashboard.models import Role
from dashboard.reports import services
from dashboard.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
KINDS = {"bills": services.bills_csv, "cashins": services.cashins_csv}


@bp.get("/")
@roles_required(Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    month = request.args.get("month") or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    return render_template("reports/index.html", month=month, error=None)


@bp.get("/<kind>.csv")
@roles_required(Role.ACCOUNTANT)
def export(kind: str) -> ResponseReturnValue:
    if kind not in KINDS:
        return render_template("reports/index.html", month="", error=_("Unknown export.")), 404
    month = request.args.get("month", "")
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        start, end = services.month_bounds(month, zone)
    except ValueError:
        return render_template(
            "reports/index.html", month=month, error=_("Choose a month, like 2026-11.")
        ), 400
    rows = KINDS[kind](start, end, zone)
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{month}.csv"'},
    )
