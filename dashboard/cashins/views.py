"""Cash-ins: money the merchant sends to a customer's account."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from dashboard.models import Role
from dashboard.security import roles_required

bp = Blueprint("cashins", __name__, url_prefix="/cashins")


@bp.get("/")
@roles_required(Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    return render_template("cashins/index.html")
