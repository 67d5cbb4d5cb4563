"""The customer directory: every staff member finds a payer; figures and notes for the office."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from dashboard.customers import queries, services
from dashboard.customers.forms import NoteForm
from dashboard.labels import payer_kind_label
from dashboard.models import Role
from dashboard.security import id_arg, roles_required

bp = Blueprint("customers", __name__, url_prefix="/customers")
STAFF = (Role.CASHIER, Role.ACCOUNTANT)
OFFICE = (Role.ACCOUNTANT,)  # admins pass every role check
SEARCH_MAX = 100


def _office() -> bool:
    return bool(current_user.has_role(*OFFICE))


@bp.get("/")
@roles_required(*STAFF)
def index() -> ResponseReturnValue:
    search = " ".join(request.args.get("q", "").split())[:SEARCH_MAX]
    page, bounded = queries.list_customers(search, older=id_arg("older"), newer=id_arg("newer"))
    refunded = queries.refunded([c.id for c in page.rows]) if _office() else {}
    return render_template(
        "customers/index.html",
        page=page,
        search=search,
        bounded=bounded,
        search_bound=queries.SEARCH_BOUND,
        refunded=refunded,
        office=_office(),
        params={"q": search} if search else {},
    )


@bp.get("/suggest")
@roles_required(*STAFF)
def suggest() -> ResponseReturnValue:
    """Up to eight payers for what is typed in a payer field (JSON, for the page's script)."""
    typed = " ".join(request.args.get("q", "").split())[:SEARCH_MAX]
    found = queries.suggest(typed)
    response: Response = jsonify(
        [
            {
                "name": s.name or "",
                "kind": s.kind,
                "kind_label": payer_kind_label(s.kind),
                "value": s.value,
                "also": [v for _, v in s.others][:2],
            }
            for s in found
        ]
    )
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.route("/<id:customer_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def detail(customer_id: int) -> ResponseReturnValue:
    customer = queries.get_customer(customer_id)
    if customer is None:
        abort(404)
    form = NoteForm()
    if request.method == "POST":
        if not _office():
            abort(403)
        if form.validate_on_submit():
            services.set_note(customer, form.note.data or "", by=current_user)
            flash(_("Note saved."), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id), 303)
    elif customer.note:
        form.note.data = customer.note
    bills = queries.customer_bills(customer, older=id_arg("older"), newer=id_arg("newer"))
    office = _office()
    status = 422 if form.errors else 200
    return render_template(
        "customers/detail.html",
        customer=customer,
        bills=bills,
        refunds=queries.customer_refunds(customer) if office else [],
        refunded=queries.refunded([customer.id]).get(customer.id, 0) if office else 0,
        form=form,
        office=office,
    ), status
