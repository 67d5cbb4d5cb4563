"""Bills: what a customer pays the merchant."""

from __future__ import annotations

import io
import math
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from dashboard.banks import bank_list
from dashboard.bills import lines, queries, services
from dashboard.bills.forms import ActionForm, BillForm, SettleUnknownForm
from dashboard.caching import FRAGMENT_CSP, etag_from_bill, on_first_read
from dashboard.db import db, utcnow
from dashboard.labels import bill_state_label, clock, localtime, money
from dashboard.models import Bill, BillState, Cashin, Role, User
from dashboard.pricelist.services import offered_items
from dashboard.security import id_arg, roles_required
from dashboard.settings import setting
from dashboard.sms import sms_text

bp = Blueprint("bills", __name__, url_prefix="/bills")
public = Blueprint("bill_public", __name__)

STAFF = (Role.CASHIER, Role.ACCOUNTANT)
LIST_FILTERS = ("q", "status", "issued_by", "from", "to")


@bp.app_context_processor
def unknown_bills_banner() -> dict[str, Any]:
    """On every staff page: how many bills have an unknown outcome nobody settled yet."""
    if not current_user.is_authenticated or not current_user.has_role(*STAFF):
        return {"unknown_bills": 0}
    return {
        # Counted only if the page shows the banner (base.html does; fragments do not).
        "unknown_bills": on_first_read(queries.unknown_bills_waiting),
        "unknown_bills_max": queries.UNKNOWN_BANNER_MAX,
    }


def _bill_or_404(bill_id: int) -> Bill:
    bill = services.get_bill(bill_id)
    if bill is None:
        abort(404)
    return bill


def _return_url(public_token: str) -> str:
    # From configuration, never from the request's Host header (which anyone can set).
    base: str = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("bill_public.payer_return", token=public_token)


def _local_day(text: str) -> datetime | None:
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None
    if not 2000 <= day.year <= 2100:  # also keeps date arithmetic away from year 1 and 9999
        return None
    return day.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def _date_range(
    text_from: str, text_to: str
) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """The days to filter on, and what is wrong with them (said, never silently ignored)."""
    errors: dict[str, str] = {}
    date_from, date_to = _local_day(text_from.strip()), _local_day(text_to.strip())
    for name, text, day in (("from", text_from, date_from), ("to", text_to, date_to)):
        if text.strip() and day is None:
            errors[name] = _("Enter a date like 2026-11-29.")
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The end date is before the start date, so the dates are not applied.")
        return None, None, errors
    return date_from, date_to, errors


def _list_filters() -> tuple[queries.BillFilters, dict[str, str]]:
    """The list's filters from the address (the page's, and its poll's), and what is wrong
    with its dates."""
    args = request.args
    filters = queries.BillFilters(
        status=args.get("status", "") if args.get("status", "") in set(BillState) else "",
        search=args.get("q", "").strip()[:100],
        issued_by=id_arg("issued_by"),
    )
    date_from, date_to, date_errors = _date_range(args.get("from", ""), args.get("to", ""))
    filters.date_from = date_from
    filters.date_to = date_to + timedelta(days=1) if date_to else None
    return filters, date_errors


@bp.get("/")
@roles_required(*STAFF)
def index() -> ResponseReturnValue:
    args = request.args
    filters, date_errors = _list_filters()
    result = queries.list_bills(
        filters,
        size=current_app.config["PAGE_SIZE"],
        older=id_arg("older"),
        newer=id_arg("newer"),
    )
    staff = db.session.execute(select(User.id, User.name).order_by(User.name)).all()
    checked_since, stamp = queries.list_freshness()
    query = {k: args[k] for k in LIST_FILTERS if args.get(k)}  # kept by the pager links
    return render_template(
        "bills/index.html",
        result=result,
        staff=staff,
        states=list(BillState),
        args=args,
        query=query,
        checked_since=checked_since,
        date_errors=date_errors,
        stamp=stamp,
        list_poll_seconds=current_app.config.get("BILL_LIST_POLL_SECONDS", 20),
    )


@bp.get("/changes")
@roles_required(*STAFF)
def changes() -> ResponseReturnValue:
    """The open list's light poll: 304 while no bill changed since the stamp the page holds,
    else each changed bill's new badge, the list's totals (under the page's filters, which
    the poll's address carries) and a notice for the ones paid."""
    current = queries.latest_change()
    since = id_arg("since") or 0
    if since == current:  # the page is up to date: an empty answer
        response = Response(status=304)
    else:
        badge = get_template_attribute("_macros/bills.html", "status_badge")
        changed = queries.changed_since(since) if since < current else []
        paid = [bill for bill, was_paid in changed if was_paid and bill.state == BillState.PAID]
        notice = ""
        if paid:
            notice = ngettext(
                "%(num)d bill paid: %(references)s",
                "%(num)d bills paid: %(references)s",
                len(paid),
                references=", ".join(
                    f"{b.merchant_reference} ({money(b.amount)})" for b in paid[:5]
                ),
            )
        filters, _errors = _list_filters()
        totals = render_template("bills/_totals.html", result=queries.list_totals(filters))
        response = jsonify(
            stamp=current,
            rows={str(bill.id): str(badge(bill.status)).strip() for bill, _ in changed},
            totals=totals.strip(),
            notice=notice,
        )
    response.set_etag(str(current))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = FRAGMENT_CSP
    return response


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new() -> ResponseReturnValue:
    form = BillForm()
    banks = bank_list()
    rows, priced, line_errors = lines.posted_lines(form)
    form.bank_slug.choices = [("", _("iHela Credit Union account (no partner bank)"))] + [
        (bank.slug, bank.name) for bank in banks.active
    ]
    if request.method == "GET":
        form.form_token.data = secrets.token_urlsafe(16)
        retry = id_arg("copy")
        payer = request.args.get("payer", "").strip()[:120]
        if payer and request.args.get("payer_kind") in services.PAYER_KINDS:
            # From a customer's page: "New bill for this customer".
            form.payer_kind.data, form.payer.data = request.args["payer_kind"], payer
        if retry and (source := services.get_bill(retry)) is not None:
            form.amount.data = str(source.amount)
            form.payer_kind.data, form.payer.data = source.payer_kind, source.payer
            form.description.data = source.description
            form.bank_slug.data, form.bank_client_id.data = (
                source.bank_slug or "",
                (source.bank_client_id or ""),
            )
    if form.validate_on_submit():
        assert form.amount.amount is not None
        config = current_app.config
        token = form.form_token.data or ""
        try:
            bill_request = services.check_bill_request(
                services.BillRequest(
                    form.amount.amount,
                    form.payer_kind.data or "",
                    form.payer.data or "",
                    form.description.data or "",
                    form.bank_slug.data or None,
                    form.bank_client_id.data,
                    priced,
                ),
                minimum=config["GATEWAY_MIN_AMOUNT"],
                maximum=setting("BILL_MAX_AMOUNT"),
                known_banks={b.slug for b in banks.active} if banks.banks else None,
            )
            if len(token) < 16:
                raise services.BillInputError({"__all__": [_("Reload the page and try again.")]})
            if line_errors:
                raise services.BillInputError({"lines": line_errors})
        except services.BillInputError as exc:
            line_errors = exc.errors.pop("lines", line_errors)
            _show_errors(form, exc.errors)
        else:
            bill = services.issue_bill(
                bill_request, by=current_user, form_token=token, return_url=_return_url
            )
            if bill.state == BillState.REJECTED and bill.form_token == token:
                _show_errors(form, services.refusal_by_field(bill))
                form.form_token.data = secrets.token_urlsafe(16)  # the next try is a new bill
                flash(
                    _("iHela refused this bill; nothing is owed. Correct it and send again."),
                    "danger",
                )
                return _new_page(form, banks, rows, line_errors), 422
            return redirect(url_for("bills.detail", bill_id=bill.id), 303)
    elif form.is_submitted() and not form.payer.errors:
        _show_errors(
            form, services.payer_problems(form.payer_kind.data or "", form.payer.data or "")
        )
    status = 422 if form.errors or request.method == "POST" else 200
    return _new_page(form, banks, rows, line_errors), status


def _new_page(form: BillForm, banks: Any, rows: list[lines.LineRow], line_errors: list[str]) -> str:
    # Read only for a page that shows the form (a bill issued is a redirect).
    return render_template(
        "bills/new.html",
        form=form,
        banks=banks,
        rows=rows,
        offered=offered_items(limit=lines.OFFERED_IN_FORM),
        line_errors=line_errors,
        empty_rows=lines.EMPTY_ROWS,
    )


def _show_errors(form: BillForm, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is None or name == "form_token":
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def _share_message(bill: Bill) -> str:
    merchant = setting("MERCHANT_NAME")
    return str(
        _(
            "%(merchant)s: %(amount)s — %(description)s. "
            "Pay with iHela: %(link)s (ref. %(reference)s)",
            merchant=merchant,
            amount=money(bill.amount),
            description=bill.description,
            link=bill.confirmation_uri,
            reference=bill.merchant_reference,
        )
    )


@bp.get("/<id:bill_id>")
@roles_required(*STAFF)
def detail(bill_id: int) -> ResponseReturnValue:
    return _detail_page(_bill_or_404(bill_id))


def _receipt_message(bill: Bill, paid_at: datetime | None) -> str:
    message = _(
        "%(merchant)s: payment received, %(amount)s — %(description)s. Ref. %(reference)s.",
        merchant=setting("MERCHANT_NAME"),
        amount=money(bill.amount),
        description=bill.description,
        reference=bill.merchant_reference,
    )
    if bill.payment_reference:
        message += " " + _("Bank reference: %(reference)s.", reference=bill.payment_reference)
    if paid_at is not None:
        message += " " + _("Paid on %(time)s.", time=localtime(paid_at, "short"))
    return str(message + " " + _("Thank you!"))


def _share_links(message: str, subject: str) -> dict[str, str]:
    return {
        "whatsapp": "https://wa.me/?text=" + quote(message),
        "sms": "sms:?&body=" + quote(sms_text(message)),  # GSM-7 only: one part, not three
        "email": "mailto:?subject=" + quote(subject) + "&body=" + quote(message),
        "text": message,
    }


def _paid_at(bill: Bill) -> datetime | None:
    return next((e.created_at for e in bill.events if e.to_status == BillState.PAID), None)


def _detail_page(
    bill: Bill, link_errors: list[str] | None = None, settle: SettleUnknownForm | None = None
) -> str:
    merchant = setting("MERCHANT_NAME")
    message = _share_message(bill) if bill.confirmation_uri else ""
    share = _share_links(
        message,
        _("%(merchant)s: bill %(reference)s", merchant=merchant, reference=bill.merchant_reference),
    )
    receipt = None
    if bill.state == BillState.PAID:
        receipt = _share_links(
            _receipt_message(bill, _paid_at(bill)),
            _(
                "%(merchant)s: receipt %(reference)s",
                merchant=merchant,
                reference=bill.merchant_reference,
            ),
        )
    retries = db.session.scalars(select(Bill).where(Bill.retry_of_id == bill.id)).all()
    refunds = None
    if bill.state == BillState.PAID:
        from dashboard.cashins import services as cashins

        listed = list(
            db.session.scalars(select(Cashin).where(Cashin.bill_id == bill.id).order_by(Cashin.id))
        )
        refunds = {
            "refunded": cashins.refunded_amount(bill),
            "left": cashins.refund_left(bill),
            "cashins": listed,
            "blocked": cashins.refund_drafts_blocked(bill, listed),
        }
    return render_template(
        "bills/detail.html",
        bill=bill,
        followed=services.is_followed(bill),
        failure_reason=services.failure_reason(bill),
        share=share,
        receipt=receipt,
        expiry=services.bill_expiry(bill),
        action=ActionForm(),
        retry_token=secrets.token_urlsafe(16),
        retries=retries,
        refunds=refunds,
        link_errors=link_errors or [],
        may_be_paid=services.first_request_may_be_paid(bill),
        unsettled_original=services.unsettled_original(bill),
        settle=settle or SettleUnknownForm(formdata=None),
    )


def _shown_state(value: str | None, bill: Bill) -> str:
    """The state the page on screen shows (sent by its poll and its reload button)."""
    return value if value in set(BillState) else bill.status


def _status_fragment(bill: Bill, shown: str, recent_check: str = "") -> Response:
    response = Response(
        render_template(
            "bills/_status.html",
            bill=bill,
            followed=services.is_followed(bill),
            recent_check=recent_check,
        )
    )
    if bill.status != shown:
        # Paid (or over) since the page was drawn, whoever recorded it (this poll, the payer's
        # return page, cron, another tab): reload the whole page, so the history shows it and
        # the payment link, QR and share buttons go away.
        response.headers["HX-Refresh"] = "true"
    return response


def _recent_check_note(bill: Bill) -> str:
    """Within the coalescing window: when iHela was last asked, and when to ask again."""
    interval = current_app.config["BILL_REFRESH_MIN_SECONDS"]
    if bill.last_checked_at is None:
        return ""
    elapsed = (utcnow() - bill.last_checked_at).total_seconds()
    wait = max(1, math.ceil(interval - elapsed))
    return str(
        _(
            "iHela was last asked at %(time)s; you can ask again in %(seconds)d s.",
            time=clock(bill.last_checked_at),
            seconds=wait,
        )
    )


@bp.get("/<id:bill_id>/status")
@roles_required(*STAFF)
@etag_from_bill
def status(bill_id: int) -> ResponseReturnValue:
    """The status block; asks iHela first when the bill is followed and was not checked lately.

    ``shown`` is the state the page on screen shows: when the bill is in another state now, the
    whole page is reloaded (HX-Refresh)."""
    bill = _bill_or_404(bill_id)
    shown = _shown_state(request.args.get("shown"), bill)
    if services.is_followed(bill):
        services.refresh_bill_status(
            bill,
            actor=None,
            actor_label="auto-refresh",
            min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"],
        )
    return _status_fragment(bill, shown)


@bp.post("/<id:bill_id>/refresh")
@roles_required(*STAFF)
def refresh(bill_id: int) -> ResponseReturnValue:
    bill = _bill_or_404(bill_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    shown = _shown_state(request.form.get("shown"), bill)
    recent_check = ""
    if services.is_followed(bill):
        checked = services.refresh_bill_status(
            bill,
            actor=current_user,
            actor_label=current_user.email,
            min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"],
        )
        if not checked and services.is_followed(bill):
            recent_check = _recent_check_note(bill)
    if request.headers.get("HX-Request") == "true":
        return _status_fragment(bill, shown, recent_check)
    if recent_check:
        flash(recent_check, "info")
    return redirect(url_for("bills.detail", bill_id=bill.id), 303)


@bp.post("/<id:bill_id>/link")
@roles_required(*STAFF)
def link(bill_id: int) -> ResponseReturnValue:
    """Follow an unknown bill by the iHela code the customer received."""
    bill = _bill_or_404(bill_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.link_bill_code(bill, request.form.get("code", ""), by=current_user)
    except services.BillInputError as exc:
        return _detail_page(bill, link_errors=exc.errors.get("code", [])), 422
    flash(_("This bill is followed again: %(code)s.", code=bill.code), "success")
    return redirect(url_for("bills.detail", bill_id=bill.id), 303)


@bp.post("/<id:bill_id>/settle")
@roles_required(*STAFF)
def settle_unknown(bill_id: int) -> ResponseReturnValue:
    """A person records what became of an unknown bill nobody can follow."""
    bill = _bill_or_404(bill_id)
    form = SettleUnknownForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail_page(bill, settle=form), 422
    try:
        services.settle_unknown_bill(
            bill,
            form.outcome.data or "",
            form.note.data or "",
            by=current_user,
            reference=form.reference.data or "",
        )
    except services.BillInputError as exc:
        if "__all__" in exc.errors:
            flash(" ".join(exc.errors["__all__"]), "warning")
            return redirect(url_for("bills.detail", bill_id=bill.id), 303)
        for name, messages in exc.errors.items():
            field = getattr(form, name)
            field.errors = [*field.errors, *messages]
        return _detail_page(bill, settle=form), 422
    flash(
        _("Recorded: the bill is %(status)s.", status=bill_state_label(bill.status).lower()),
        "success",
    )
    return redirect(url_for("bills.detail", bill_id=bill.id), 303)


@bp.post("/<id:bill_id>/retry")
@roles_required(*STAFF)
def retry(bill_id: int) -> ResponseReturnValue:
    bill = _bill_or_404(bill_id)
    form = ActionForm()
    if not form.validate_on_submit() or len(form.form_token.data or "") < 16:
        abort(400)
    try:
        new_bill = services.retry_bill(
            bill, by=current_user, form_token=form.form_token.data, return_url=_return_url
        )
    except services.BillInputError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("bills.detail", bill_id=bill.id), 303)
    flash(_("Issued again as %(reference)s.", reference=new_bill.merchant_reference), "info")
    return redirect(url_for("bills.detail", bill_id=new_bill.id), 303)


@bp.get("/<id:bill_id>/qr.svg")
@roles_required(*STAFF)
def qr(bill_id: int) -> ResponseReturnValue:
    bill = _bill_or_404(bill_id)
    if not bill.confirmation_uri or bill.state != BillState.PENDING:
        abort(404)  # nothing asks for payment once the bill is paid (or over)
    buffer = io.BytesIO()
    segno.make(bill.confirmation_uri, error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False, svgclass=None, lineclass=None
    )
    return Response(
        buffer.getvalue(),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@bp.get("/<id:bill_id>/slip")
@roles_required(*STAFF)
def slip(bill_id: int) -> ResponseReturnValue:
    bill = _bill_or_404(bill_id)
    # v2 bills have a code but no payment link: their slip says to confirm in the iHela app.
    if bill.state == BillState.PENDING and not (bill.confirmation_uri or bill.code):
        abort(404)
    # A paid bill prints as a receipt; only a pending one asks for payment.
    paid_at = _paid_at(bill) if bill.state == BillState.PAID else None
    return render_template("bills/slip.html", bill=bill, paid_at=paid_at)


@public.get("/pay/return/<token>")
def payer_return(token: str) -> ResponseReturnValue:
    """Where iHela sends the payer back: a plain status page, no staff data."""
    bill = services.get_bill_by_public_token(token)
    if bill is None:
        abort(404)
    services.check_for_returning_payer(
        bill, min_interval=current_app.config["BILL_REFRESH_MIN_SECONDS"]
    )
    return render_template("bills/payer_return.html", bill=bill)
