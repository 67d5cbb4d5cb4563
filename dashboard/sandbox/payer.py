"""What a payer's browser sees: the bill confirmation page, and the generated images."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.money import format_amount
from dashboard.sandbox import get_state
from dashboard.sandbox.callbacks import notify_settled
from dashboard.sandbox.fixtures import MERCHANT, PAYERS, find_bank
from dashboard.sandbox.logos import icon_svg, logo_svg
from dashboard.sandbox.state import CANCELLED, PAID, Bill, BillNotPending
from dashboard.sandbox.wire import payer_of

payer = Blueprint("sandbox_payer", __name__)

# No script at all, inline styles only, images from this origin. No form-action: after a
# POST the browser must be free to follow the redirect to the merchant's redirect_uri.
_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_OUTCOME_TEXT = {
    "Initiated": "Waiting for your confirmation.",
    "Paid": "Paid. Thank you.",
    "Expired": "This bill has expired and can no longer be paid.",
    "Cancelled": "You declined this bill. Nothing was paid.",
    "Error": "The payment failed. Nothing was paid.",
}


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _bill_page(bill: Bill, status: int = 200, notice: str | None = None) -> Response:
    bank = find_bank(bill.bank) if bill.bank else None
    return _page(
        "sandbox/confirm.html",
        status,
        bill=bill,
        merchant=MERCHANT,
        payer=payer_of(bill),
        bank=bank,
        amount=format_amount(bill.amount, "fr"),
        outcome=_OUTCOME_TEXT.get(bill.status, bill.status),
        notice=notice,
    )


def _not_found() -> Response:
    return _page(
        "sandbox/message.html",
        404,
        title="Bill not found",
        message="No bill has this code. Check the link you were sent.",
    )


def confirm_bill(code: str) -> ResponseReturnValue:
    state = get_state()
    if request.method == "GET":
        bill = state.get_bill(code)
        return _not_found() if bill is None else _bill_page(bill)

    action = request.form.get("action")
    if action not in ("pay", "decline"):
        bill = state.get_bill(code)
        if bill is None:
            return _not_found()
        return _bill_page(bill, 400, notice="Choose Pay or Decline.")
    try:
        bill = state.settle_bill(code, PAID if action == "pay" else CANCELLED)
    except KeyError:
        return _not_found()
    except BillNotPending as exc:
        # A second click, the back button or an expired bill: say so, do not redirect.
        return _bill_page(exc.bill, 409, notice=f"Nothing done: this bill is {exc.bill.status}.")
    notify_settled(bill)
    if bill.redirect_uri:
        return redirect(bill.redirect_uri, code=303)
    return redirect(url_for("sandbox_payer.confirm_bill", code=bill.code), code=303)


payer.add_url_rule(
    "/u/operations/bill/confirm/<code>", view_func=confirm_bill, methods=["GET", "POST"]
)
payer.add_url_rule(
    "/u/operations/bill/confirm/<code>/",
    "confirm_bill_slash",
    view_func=confirm_bill,
    methods=["GET", "POST"],
)


def _svg(body: str) -> Response:
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@payer.get("/media/banks/<slug>.svg")
def bank_logo(slug: str) -> ResponseReturnValue:
    bank = find_bank(slug)
    if bank is None:
        return {"detail": "Not found."}, 404
    return _svg(logo_svg(bank.name, bank.colour))


@payer.get("/media/banks/icon/<slug>.svg")
def bank_icon(slug: str) -> ResponseReturnValue:
    bank = find_bank(slug)
    if bank is None:
        return {"detail": "Not found."}, 404
    return _svg(icon_svg(bank.name, bank.colour))


@payer.get("/media/users/<username>.svg")
def user_image(username: str) -> ResponseReturnValue:
    for person in (MERCHANT.user, *PAYERS):
        if person.username == username:
            return _svg(icon_svg(person.full_name, "#5c6bc0"))
    return {"detail": "Not found."}, 404
