"""Bills: what a customer pays the merchant."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from dashboard.models import Role
from dashboard.security import roles_required

bp = Blueprint("bills", __name__, url_prefix="/bills")


@bp.get("/")
@roles_required(Role.CASHIER, Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    return render_template("bills/index.html")
