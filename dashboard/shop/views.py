"""Shop QR posters: admins make and print them; customers pay through them with no login; the
counter they belong to sees each payment arrive."""

from __future__ import annotations

import hashlib
import io
import secrets

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from dashboard import audit
from dashboard.bills import lines
from dashboard.bills import services as bills
from dashboard.caching import FRAGMENT_CSP
from dashboard.db import db
from dashboard.extensions import csrf
from dashboard.models import BillState, Poster, Role, User
from dashboard.money import AmountError, parse_typed_amount
from dashboard.pricelist.services import offered_items
from dashboard.security import roles_required
from dashboard.settings import setting
from dashboard.shop import services

bp = Blueprint("shop", __name__)
public = Blueprint("shop_public", __name__)
csrf.exempt(public)  # no session to hold a token: limits and checks guard it instead
STAFF = (Role.CASHIER, Role.ACCOUNTANT)
POSTER_ITEMS = 20


def public_link(poster: Poster) -> str:
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return base + url_for("shop_public.pay", token=poster.token)


# --- admins: posters ------------------------------------------------------------------------


def _counters() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_([Role.CASHIER, Role.ACCOUNTANT]))
            .order_by(User.name)
        )
    )


def _posters_page(
    errors: dict[str, list[str]] | None = None, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "shop/posters.html",
            posters=services.all_posters(),
            counters=_counters(),
            errors=errors or {},
            typed=request.form if errors else {},
            link=public_link,
        ),
        status,
    )


@bp.get("/posters")
@roles_required(Role.ADMIN)
def posters() -> ResponseReturnValue:
    return _posters_page()


@bp.post("/posters")
@roles_required(Role.ADMIN)
def create_poster() -> ResponseReturnValue:
    user_id = request.form.get("user_id", "")
    try:
        poster = services.create_poster(
            request.form.get("label", ""),
            int(user_id) if user_id.isdigit() else None,
            request.form.get("offers_items") == "y",
            by=current_user,
        )
    except services.PosterError as exc:
        return _posters_page(exc.errors, 422)
    flash(_("Poster made: print it and put it where customers pay."), "success")
    return redirect(url_for("shop.posters", _anchor=f"poster-{poster.id}"), 303)


def _poster_or_404(poster_id: int) -> Poster:
    poster = db.session.get(Poster, poster_id)
    if poster is None:
        abort(404)
    return poster


@bp.post("/posters/<id:poster_id>/off")
@roles_required(Role.ADMIN)
def turn_off(poster_id: int) -> ResponseReturnValue:
    services.turn_off(_poster_or_404(poster_id), by=current_user)
    flash(_("Poster turned off: its QR now says it takes no payment."), "success")
    return redirect(url_for("shop.posters"), 303)


@bp.post("/posters/<id:poster_id>/replace")
@roles_required(Role.ADMIN)
def replace(poster_id: int) -> ResponseReturnValue:
    poster = _poster_or_404(poster_id)
    if not poster.active:
        abort(409)
    new = services.replace(poster, by=current_user)
    flash(_("New poster made; the old QR now says it was replaced."), "success")
    return redirect(url_for("shop.posters", _anchor=f"poster-{new.id}"), 303)


@bp.get("/posters/<id:poster_id>/print")
@roles_required(Role.ADMIN)
def print_poster(poster_id: int) -> ResponseReturnValue:
    poster = _poster_or_404(poster_id)
    size = "a6" if request.args.get("size") == "a6" else "a5"
    instructions = []
    for language in ("fr", "en"):
        with force_locale(language):
            instructions.append(
                (
                    language,
                    _("Scan to pay %(merchant)s with iHela.", merchant=_merchant()),
                    _("Type the amount and your iHela phone or e-mail, then Pay."),
                )
            )
    return render_template(
        "shop/poster_print.html",
        poster=poster,
        size=size,
        link=public_link(poster),
        instructions=instructions,
    )


@bp.get("/posters/<id:poster_id>/qr.svg")
@roles_required(Role.ADMIN)
def poster_qr(poster_id: int) -> ResponseReturnValue:
    poster = _poster_or_404(poster_id)
    return _svg(public_link(poster), scale=10)


def _svg(text: str, *, scale: int) -> Response:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgclass=None, lineclass=None
    )
    return Response(
        buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"}
    )


def _merchant() -> str:
    return str(setting("MERCHANT_NAME"))


# --- the counter: self-service payments as they arrive ----------------------------------------


@bp.get("/counter/self-service")
@roles_required(*STAFF)
def arrivals() -> ResponseReturnValue:
    """The counter's panel (polled): this person's posters' bills, followed until paid."""
    found = services.arrivals(current_user)
    for bill in found:
        if bills.is_followed(bill):
            bills.refresh_bill_status(
                bill,
                actor=None,
                actor_label="self-service",
                min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"],
            )
    version = "|".join(f"{b.id}:{b.status}" for b in found) + str(get_locale())
    response = make_response(render_template("shop/_arrivals.html", arrivals=found))
    response.headers["Content-Security-Policy"] = FRAGMENT_CSP
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(hashlib.sha256(version.encode()).hexdigest()[:16], weak=True)
    return response.make_conditional(request)


# --- customers (public: no login, no session) -------------------------------------------------


def _public(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


def _pay_page(
    poster: Poster, status: int = 200, errors: dict[str, list[str]] | None = None
) -> Response:
    offered = offered_items(limit=POSTER_ITEMS) if poster.offers_items else []
    return _public(
        make_response(
            render_template(
                "shop/pay.html",
                poster=poster,
                offered=offered,
                typed=request.form,
                errors=errors or {},
                merchant=_merchant(),
            ),
            status,
        )
    )


@public.route("/s/<token>", methods=["GET", "POST"])
def pay(token: str) -> ResponseReturnValue:
    poster = services.find(token)
    if poster is None:
        abort(404)
    if not poster.active:
        return _public(
            make_response(
                render_template(
                    "shop/closed.html",
                    poster=poster,
                    merchant=_merchant(),
                    replaced=bool(poster.replaced_by_id),
                ),
                410,
            )
        )
    if request.method == "GET":
        return _pay_page(poster)
    errors: dict[str, list[str]] = {}
    chosen = [
        lines.LineRow(item=item, qty=qty)
        for item, qty in zip(
            request.form.getlist("line_item"), request.form.getlist("line_qty"), strict=False
        )
        if qty.strip() not in ("", "0")
    ]
    priced: tuple[bills.BillLineRequest, ...] = ()
    amount = None
    if chosen and poster.offers_items:
        try:
            priced = lines.priced_lines(chosen)
            amount = sum(line.amount for line in priced)
        except bills.BillInputError as exc:
            errors.update(exc.errors)
    else:
        try:
            amount = parse_typed_amount(request.form.get("amount", ""))
        except AmountError as exc:
            errors["amount"] = [str(exc)]
    payer = request.form.get("payer", "").strip()[:120]
    if not payer:
        errors["payer"] = [_("Enter your iHela phone number or e-mail.")]
    elif errors:  # the payer's problems said with the amount's, not on the next try
        errors.update(bills.payer_problems(services.payer_kind(payer), payer))
    if errors or amount is None:
        return _pay_page(poster, 422, errors=errors)
    try:
        bill = services.issue_self_service(
            poster,
            amount,
            payer,
            priced,
            address=audit.client_address(),
            form_token=secrets.token_urlsafe(16),
            return_url=lambda public_token: _status_link(poster, public_token),
        )
    except bills.BillInputError as exc:
        return _pay_page(poster, 422, errors=exc.errors)
    return redirect(url_for("shop_public.status", token=poster.token, bill=bill.public_token), 303)


def _status_link(poster: Poster, public_token: str) -> str:
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return base + url_for("shop_public.status", token=poster.token, bill=public_token)


@public.get("/s/<token>/b/<bill>")
def status(token: str, bill: str) -> ResponseReturnValue:
    """The customer's bill: pay it (v1 link) or approve it in the app (v2), then Paid by itself."""
    poster = services.find(token)
    found = bills.get_bill_by_public_token(bill)
    if poster is None or found is None or found.poster_id != poster.id:
        abort(404)
    if bills.is_followed(found):
        bills.refresh_bill_status(
            found,
            actor=None,
            actor_label="self-service",
            min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"],
        )
    waiting = found.state in (BillState.CREATING, BillState.PENDING, BillState.UNKNOWN)
    return _public(
        make_response(
            render_template(
                "shop/status.html",
                poster=poster,
                bill=found,
                waiting=waiting,
                merchant=_merchant(),
            )
        )
    )
