"""Counter mode: a cashier's screen built for speed, and the customer display paired to it.

The cashier types an amount and a payer, presses Enter, and the bill's QR fills the screen; the
status poll of the bill page (``bills.status`` with ``?shown=``) reloads the screen when it is
paid. The customer display is a public page: no login, no staff session. It is reached with the
short pairing code shown on the cashier's screen, then follows whichever bill that counter shows
by polling a small endpoint keyed by a random display token.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from datetime import timedelta
from typing import Any

import segno
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, user_logged_out
from sqlalchemy import select, update

from dashboard import audit, throttle
from dashboard import messages as msg
from dashboard.bills import lines, services
from dashboard.bills.forms import ActionForm, CounterForm
from dashboard.bills.services import guess_payer_kind
from dashboard.caching import FRAGMENT_CSP
from dashboard.db import db, utcnow
from dashboard.models import Bill, BillState, CounterDisplay, Role, User
from dashboard.pricelist.services import offered_items
from dashboard.security import id_arg, roles_required
from dashboard.settings import setting
from dashboard.shop.services import arrivals, has_posters

bp = Blueprint("counter", __name__)

STAFF = (Role.CASHIER, Role.ACCOUNTANT)
SESSION_KEY = "counter"
IDLE_LIMIT = timedelta(hours=12)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen, typed
CODE_LENGTH = 6
PAIRING_FAILED = "display.pairing_failed"
PAIRING_WINDOW = timedelta(minutes=10)
PAIRING_ATTEMPTS = 10  # wrong codes per address and window (DISPLAY_PAIRING_ATTEMPTS overrides)
DISPLAY_POLL_SECONDS = 3
COUNTER_FIELDS = ("amount", "payer", "payer_kind", "description")


# --- the cashier's counter ------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _my_counter() -> CounterDisplay:
    """This login session's counter (made on first use), touched as the cashier works."""
    key = session.get(SESSION_KEY)
    counter = None
    if isinstance(key, str):
        counter = db.session.scalar(
            select(CounterDisplay).where(
                CounterDisplay.session_key == key,
                CounterDisplay.user_id == current_user.id,
                CounterDisplay.ended_at.is_(None),
            )
        )
    if counter is None or not _is_live(counter):
        code = _new_code()
        while db.session.scalar(
            select(CounterDisplay.id).where(CounterDisplay.pairing_code == code)
        ):
            code = _new_code()  # one in a billion; a unique index would otherwise refuse it
        counter = CounterDisplay(
            user_id=current_user.id,
            session_key=secrets.token_urlsafe(32),
            pairing_code=code,
            display_token=secrets.token_urlsafe(32),
            login_nonce=current_user.login_nonce,
        )
        db.session.add(counter)
        session[SESSION_KEY] = counter.session_key
    counter.touched_at = utcnow()
    db.session.commit()
    return counter


def _is_live(counter: CounterDisplay) -> bool:
    """Ended with the cashier's session, a new password or deactivation, or after 12 h idle."""
    user: User = counter.user
    return (
        counter.ended_at is None
        and user.active
        and user.login_nonce == counter.login_nonce
        and utcnow() - counter.touched_at < IDLE_LIMIT
    )


def _return_url(public_token: str) -> str:
    base: str = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("bill_public.payer_return", token=public_token)


def _pairing_link(counter: CounterDisplay) -> str:
    base: str = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("counter.display_pair", code=counter.pairing_code)


def _counter_page(
    counter: CounterDisplay,
    form: CounterForm,
    status: int = 200,
    *,
    bill: Bill | None = None,
    refused: list[str] | None = None,
    rows: list[lines.LineRow] | None = None,
    line_errors: list[str] | None = None,
) -> Response:
    """The counter: the form, or ``bill`` (the one this counter shows) with its status.

    ``refused``: iHela refused the bill just sent; the form is shown again with what it said,
    the amount kept and the cursor on the payer (or on the field iHela named)."""
    focus = "amount"
    if form.payer.errors and not form.amount.errors:
        focus = "payer"
    if refused is not None and not form.amount.errors:
        focus = "payer"
    response = make_response(
        render_template(
            "counter/counter.html",
            counter=counter,
            form=form,
            bill=bill,
            rows=rows or [],
            line_errors=line_errors or [],
            offered=offered_items(limit=lines.OFFERED_IN_FORM) if bill is None else [],
            has_posters=has_posters(current_user),
            arrivals=arrivals(current_user),
            empty_rows=lines.EMPTY_ROWS,
            refused=refused,
            focus=focus,
            followed=services.is_followed(bill) if bill else False,
            failure_reason=services.failure_reason(bill) if bill else None,
            display_url=current_app.config["PUBLIC_URL"].rstrip("/")
            + url_for("counter.display_pair"),
        ),
        status,
    )
    return response


def _shown_bill(counter: CounterDisplay) -> Bill | None:
    """The bill the counter shows: the one just issued there (its address names it, so the
    status poll's reload keeps it on screen whatever its state), or one still waiting for
    payment. Coming back to the counter otherwise opens a fresh form: a bill that expired or
    was paid while the cashier was elsewhere is not the next customer's."""
    bill = counter.bill
    if bill is None:
        return None
    if request.args.get("bill") == str(bill.id) or services.is_followed(bill):
        return bill
    counter.bill_id = None  # the customer display goes back to waiting too
    db.session.commit()
    return None


def _copy_into(form: CounterForm, source: Bill) -> None:
    """Issue again: the form filled with an earlier bill's amount, payer and description."""
    form.amount.data = str(source.amount)
    form.payer.data = source.payer
    known = source.payer_kind in services.PAYER_KINDS
    form.payer_kind.data = source.payer_kind if known else "auto"
    form.description.data = source.description


@bp.route("/counter", methods=["GET", "POST"])
@roles_required(*STAFF)
def counter() -> ResponseReturnValue:
    """Amount, payer, Enter: the QR fills the screen, then Paid ✓."""
    counter = _my_counter()
    form = CounterForm()
    if request.method == "GET":
        form.form_token.data = secrets.token_urlsafe(16)
        shown = _shown_bill(counter)
        if shown is not None:
            return _counter_page(counter, form, bill=shown)
        copy = id_arg("copy")
        if copy and (source := services.get_bill(copy)) is not None:
            _copy_into(form, source)
        if not form.description.data:
            form.description.data = _("Purchase at %(merchant)s", merchant=_merchant())
        return _counter_page(counter, form)
    rows, priced, line_errors = lines.posted_lines(form)
    if not form.validate_on_submit() or line_errors:
        if form.is_submitted() and not form.payer.errors:
            payer = form.payer.data or ""
            kind = form.payer_kind.data
            for name, messages in services.payer_problems(
                guess_payer_kind(payer) if kind == "auto" else kind or "", payer
            ).items():
                field = getattr(form, name, None) or form.payer
                field.errors = [*field.errors, *messages]
        return _counter_page(counter, form, 422, rows=rows, line_errors=line_errors)
    assert form.amount.amount is not None
    config = current_app.config
    token = form.form_token.data or ""
    payer = form.payer.data or ""
    description = form.description.data or ""
    if priced and description == _("Purchase at %(merchant)s", merchant=_merchant()):
        description = ""  # the lines say what it is
    kind = form.payer_kind.data if form.payer_kind.data != "auto" else guess_payer_kind(payer)
    try:
        bill_request = services.check_bill_request(
            services.BillRequest(form.amount.amount, kind, payer, description, lines=priced),
            minimum=config["GATEWAY_MIN_AMOUNT"],
            maximum=config["BILL_MAX_AMOUNT"],
        )
        if len(token) < 16:
            raise services.BillInputError({"amount": [_("Reload the page and try again.")]})
    except services.BillInputError as exc:
        for name, messages in exc.errors.items():
            field = getattr(form, name, None) or form.amount
            field.errors = [*field.errors, *messages]
        return _counter_page(counter, form, 422, rows=rows)
    bill = services.issue_bill(
        bill_request, by=current_user, form_token=token, return_url=_return_url
    )
    if bill.state == BillState.REJECTED and bill.form_token == token:
        # Nothing is owed: the same form again, said in the reader's words, ready to correct.
        refused: list[str] = []
        for name, messages in services.refusal_by_field(bill).items():
            field = getattr(form, name, None) if name in COUNTER_FIELDS else None
            if field is None:
                refused.extend(messages)
            else:
                field.errors = [*field.errors, *messages]
        form.form_token.data = secrets.token_urlsafe(16)  # the next try is a new bill
        return _counter_page(counter, form, 422, refused=refused, rows=rows)
    counter.bill_id = bill.id
    db.session.commit()
    return redirect(url_for("counter.counter", bill=bill.id), 303)


@bp.post("/counter/next")
@roles_required(*STAFF)
def next_customer() -> ResponseReturnValue:
    """Clear the screen (and the customer display) for the next customer."""
    if not ActionForm().validate_on_submit():
        abort(400)
    counter = _my_counter()
    counter.bill_id = None
    db.session.commit()
    return redirect(url_for("counter.counter"), 303)


@bp.get("/counter/pair.svg")
@roles_required(*STAFF)
def pairing_qr() -> ResponseReturnValue:
    """The pairing link as a QR, for a phone used as the customer display."""
    return _qr_response(_pairing_link(_my_counter()), scale=4, cache="private, no-store")


def _end_counter_of_session(app: Flask, user: Any) -> None:
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return
    db.session.execute(
        update(CounterDisplay)
        .where(CounterDisplay.session_key == key, CounterDisplay.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    db.session.commit()


def init_app(app: Flask) -> None:
    # Logging out, or being logged out when idle, ends the displays paired to that session.
    user_logged_out.connect(_end_counter_of_session, app)


# --- the customer display (public) -----------------------------------------------------------


def _merchant() -> str:
    return str(setting("MERCHANT_NAME"))


def _pairing_key() -> str:
    return throttle.key("pairing", audit.client_address() or "")


def _pairing_rule() -> throttle.Rule:
    """So many wrong codes per address, then ten minutes' wait (checked and counted at once)."""
    limit = int(current_app.config.get("DISPLAY_PAIRING_ATTEMPTS", PAIRING_ATTEMPTS))
    seconds = PAIRING_WINDOW.total_seconds()
    return throttle.Rule(free=limit, first_delay=seconds, max_delay=seconds, window=PAIRING_WINDOW)


def _live_by(**where: str) -> CounterDisplay | None:
    column, value = next(iter(where.items()))
    counter = db.session.scalar(
        select(CounterDisplay).where(
            getattr(CounterDisplay, column) == value, CounterDisplay.ended_at.is_(None)
        )
    )
    return counter if counter is not None and _is_live(counter) else None


def _public(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


@bp.get("/display")
def display_pair() -> ResponseReturnValue:
    """Type the code the cashier's screen shows (or open the link/QR that carries it)."""
    code = re.sub(r"[\s-]", "", request.args.get("code", "")).upper()[:20]
    error = ""
    status = 200
    if code:
        if throttle.claim(_pairing_key(), _pairing_rule()):
            error = _("Too many wrong codes. Wait ten minutes, then try again.")
            status = 429
        else:
            counter = _live_by(pairing_code=code)
            if counter is not None:
                throttle.forgive(_pairing_key())  # only wrong codes count
                audit.record(
                    "display.paired",
                    actor_label="customer display",
                    object_type="user",
                    object_id=counter.user_id,
                    summary=msg.coded("audit.display_paired"),
                )
                db.session.commit()
                return redirect(url_for("counter.display", token=counter.display_token), 303)
            audit.record(
                PAIRING_FAILED,
                actor_label="customer display",
                summary=msg.coded("audit.display_wrong_code"),
            )
            db.session.commit()
            error = _("This code does not match any open counter. Check the cashier's screen.")
            status = 404
    response = make_response(render_template("counter/pair.html", error=error), status)
    return _public(response)


@bp.get("/display/<token>")
def display(token: str) -> ResponseReturnValue:
    """The customer's screen: the merchant, the current bill's amount and QR, then Paid ✓."""
    counter = _live_by(display_token=token)
    if counter is None:
        response = make_response(render_template("counter/display_ended.html"), 404)
        return _public(response)
    response = make_response(
        render_template(
            "counter/display.html",
            token=token,
            state=_display_state(counter),
            poll_seconds=DISPLAY_POLL_SECONDS,
        )
    )
    return _public(response)


def _display_state(counter: CounterDisplay) -> dict[str, Any]:
    bill = counter.bill
    if bill is not None and services.is_followed(bill):
        services.refresh_bill_status(
            bill,
            actor=None,
            actor_label="customer display",
            min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"],
        )
    shown = bill is not None and bill.state in (BillState.PENDING, BillState.PAID)
    return {
        "merchant": _merchant(),
        "bill": bill if shown else None,
        "qr": bool(shown and bill and bill.state == BillState.PENDING and bill.confirmation_uri),
    }


@bp.get("/display/<token>/state")
def display_state(token: str) -> ResponseReturnValue:
    """The display's poll: a fragment under 1 KB, 304 while nothing changed."""
    counter = _live_by(display_token=token)
    if counter is None:
        return _public(Response("", status=410))
    state = _display_state(counter)
    bill: Bill | None = state["bill"]
    version = "\x1f".join(
        [str(bill.id if bill else ""), str(bill.status if bill else ""), str(get_locale())]
    )
    response = make_response(render_template("counter/_display_state.html", token=token, **state))
    response.headers["Content-Security-Policy"] = FRAGMENT_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(hashlib.sha256(version.encode()).hexdigest()[:16], weak=True)
    return response.make_conditional(request)


@bp.get("/display/<token>/qr/<int:bill_id>.svg")
def display_qr(token: str, bill_id: int) -> ResponseReturnValue:
    counter = _live_by(display_token=token)
    bill = counter.bill if counter is not None else None
    if (
        bill is None
        or bill.id != bill_id
        or bill.state != BillState.PENDING
        or not bill.confirmation_uri
    ):
        abort(404)
    return _qr_response(bill.confirmation_uri, scale=8, cache="private, max-age=3600")


def _qr_response(text: str, *, scale: int, cache: str) -> Response:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgclass=None, lineclass=None
    )
    return Response(buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": cache})
