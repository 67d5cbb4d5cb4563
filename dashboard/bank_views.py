"""Bank logos, served from the dashboard's own origin."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue
from flask_login import login_required

from dashboard.banks import bank_logo

bp = Blueprint("banks", __name__, url_prefix="/banks")


@bp.get("/<slug>/logo")
@login_required
def logo(slug: str) -> ResponseReturnValue:
    content_type, body = bank_logo(slug[:20])
    response = Response(body, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    # A logo is an image, never a document: no script in an SVG may run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
