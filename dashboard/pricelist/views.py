"""The price list: admins keep it; everyone who bills picks from it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from dashboard.db import db
from dashboard.labels import money
from dashboard.models import PriceItem, Role
from dashboard.pricelist import services
from dashboard.pricelist.forms import ItemForm
from dashboard.security import roles_required
from dashboard.settings import setting

bp = Blueprint("pricelist", __name__, url_prefix="/prices")
STAFF = (Role.CASHIER, Role.ACCOUNTANT)


def _page(
    new: ItemForm, editing: dict[int, ItemForm] | None = None, status: int = 200
) -> ResponseReturnValue:
    items = services.all_items()
    forms = editing or {}
    for item in items:
        if item.id not in forms:
            forms[item.id] = ItemForm(
                formdata=None, obj=item, prefix=f"item{item.id}", price=f"{item.price}"
            )
    return render_template("pricelist/index.html", items=items, new=new, forms=forms), status


@bp.get("/")
@roles_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    return _page(ItemForm(formdata=None))


@bp.post("/")
@roles_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    form = ItemForm()
    if form.validate_on_submit():
        try:
            item = services.create_item(
                form.name.data or "",
                form.price.amount,
                maximum=setting("BILL_MAX_AMOUNT"),
                by=current_user,
            )
        except services.ItemError as exc:
            for name, messages in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, *messages]
        else:
            flash(_("%(name)s added to the price list.", name=item.name), "success")
            return redirect(url_for("pricelist.index"), 303)
    else:
        _also_name_problems(form)
    return _page(form, status=422)


def _also_name_problems(form: ItemForm) -> None:
    """A refused price does not hide a missing name: both are said at once."""
    if form.is_submitted() and not form.name.errors:
        form.name.errors = services.name_problems(form.name.data or "")


@bp.post("/<id:item_id>")
@roles_required(Role.ADMIN)
def update(item_id: int) -> ResponseReturnValue:
    item = db.session.get(PriceItem, item_id)
    if item is None:
        abort(404)
    form = ItemForm(prefix=f"item{item.id}")
    if form.validate_on_submit():
        try:
            services.update_item(
                item,
                form.name.data or "",
                form.price.amount,
                bool(form.active.data),
                maximum=setting("BILL_MAX_AMOUNT"),
                by=current_user,
            )
        except services.ItemError as exc:
            for name, messages in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, *messages]
        else:
            flash(_("%(name)s saved.", name=item.name), "success")
            return redirect(url_for("pricelist.index"), 303)
    else:
        _also_name_problems(form)
    db.session.rollback()
    return _page(ItemForm(formdata=None), {item_id: form}, 422)


@bp.get("/offered")
@roles_required(*STAFF)
def offered() -> ResponseReturnValue:
    """Items to add to a bill, most used first, or those matching what is typed (JSON)."""
    typed = request.args.get("q", "")[:100]
    response = jsonify(
        [
            {"id": i.id, "name": i.name, "price": i.price, "price_text": money(i.price)}
            for i in services.offered_items(typed)
        ]
    )
    response.headers["Cache-Control"] = "private, max-age=30"
    return response
