"""Cash-ins: money the merchant sends to a customer's account (refunds and payouts)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from dashboard.auth.twofactor_views import two_factor_to_send_money
from dashboard.banks import BankList, bank_list
from dashboard.caching import on_first_read
from dashboard.cashins import queries, services
from dashboard.cashins.forms import CashinForm, ConfirmForm, RejectForm, ResolveForm, SettleForm
from dashboard.customers import services as customers
from dashboard.db import db
from dashboard.labels import REASONS, cashin_state_label
from dashboard.messages import render as render_message
from dashboard.models import Bill, BillState, Cashin, CashinState, Role, User
from dashboard.security import id_arg, id_from_text, roles_required
from dashboard.settings import setting

bp = Blueprint("cashins", __name__, url_prefix="/cashins")


@bp.app_context_processor
def unknown_outcomes_banner() -> dict[str, Any]:
    """On every accountant page: how many cash-ins need checking (a banner, until resolved)
    and how many wait for this person's approval (a badge in the menu)."""
    if not current_user.is_authenticated or not current_user.has_role(Role.ACCOUNTANT):
        return {"cashins_to_check": 0, "approvals_waiting": 0}
    user = current_user._get_current_object()
    return {  # counted only if the page reads them (base.html does; fragments do not)
        "cashins_to_check": on_first_read(services.needs_checking_count),
        "approvals_waiting": on_first_read(lambda: services.approvals_waiting_for(user)),
    }


def _cashin_or_404(cashin_id: int) -> Cashin:
    cashin = db.session.get(Cashin, cashin_id)
    if cashin is None:
        abort(404)
    return cashin


def _limits() -> services.Limits:
    config = current_app.config
    return services.Limits(
        minimum=config["GATEWAY_MIN_AMOUNT"],
        maximum=setting("CASHIN_MAX_AMOUNT"),
        approval_threshold=setting("CASHIN_APPROVAL_THRESHOLD"),
        daily_max_per_account=setting("CASHIN_DAILY_MAX_PER_ACCOUNT"),
        timezone=config["BABEL_DEFAULT_TIMEZONE"],
    )


def _show_errors(form: Any, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is None or name in {"form_token", "bill_id"}:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


@bp.get("/")
@roles_required(Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    filters, date_errors = queries.parse_list_filters(
        request.args, current_app.config["BABEL_DEFAULT_TIMEZONE"]
    )
    totals = queries.cashin_totals(filters)
    listed = queries.list_cashins(
        filters,
        size=current_app.config["PAGE_SIZE"],
        older=id_arg("older"),
        newer=id_arg("newer"),
        many=not totals.known,
        found=totals.found,
    )
    query = {k: request.args[k] for k in queries.LIST_FILTERS if request.args.get(k)}
    return render_template(
        "cashins/index.html",
        cashins=listed.rows,
        listed=listed,
        status=filters.status,
        filters=filters,
        args=request.args,
        query=query,
        date_errors=date_errors,
        totals=totals,
        banks=queries.cashin_banks(),
        staff=db.session.execute(select(User.id, User.name).order_by(User.name)).all(),
        reasons=REASONS,
        states=list(CashinState),
        needs_checking=services.NEEDS_CHECKING,
        waiting=services.approvals_waiting(),
    )


def _lookup_for(
    banks: BankList, bank_slug: str, account: str
) -> tuple[services.Lookup | None, str]:
    """A name check for the form: (result, account as the bank writes it)."""
    bank = banks.get(bank_slug)
    if bank is None or not account.strip():
        return None, account
    try:
        account = services.apply_mask(bank.account_mask, account)
    except services.CashinInputError as exc:
        return services.Lookup("invalid", message=exc.errors["account"][0]), account
    return services.lookup_holder(bank, account), account


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ACCOUNTANT)
def new() -> ResponseReturnValue:
    form = CashinForm()
    banks = bank_list()
    form.bank_slug.choices = [("", _("Choose a bank…"))] + [
        (b.slug, b.name) for b in banks.money_in
    ]
    bill: Bill | None = None
    bill_id = id_arg("bill") or id_from_text(form.bill_id.data)
    if bill_id:
        bill = db.session.get(Bill, bill_id)
        if bill is None or bill.status != BillState.PAID:
            flash(_("Only a paid bill can be refunded."), "warning")
            return redirect(
                url_for("bills.detail", bill_id=bill_id) if bill else url_for("cashins.index")
            )
    limits = _limits()
    # Each bank's amount range, in the reader's language: shown as soon as the bank is chosen.
    amount_limits = {bank.slug: services.amount_limits(bank, limits) for bank in banks.banks}
    payer_account = None
    lookup = None
    if request.method == "GET":
        form.form_token.data = secrets.token_urlsafe(16)
        if bill is not None:
            payer_account = services.find_payer_account(bill.payer, banks)
            if payer_account.status == "found":
                customers.name_from_lookup(bill, payer_account.name)
                form.bank_slug.data = payer_account.bank_slug
                form.account.data = payer_account.account
                lookup = services.Lookup(
                    "confirmed", name=payer_account.name, account_number=payer_account.account
                )
            form.bill_id.data = str(bill.id)
            form.amount.data = str(services.refund_left(bill))
            form.reason.data = "refund"
            form.description.data = _(
                "Refund of bill %(reference)s: %(description)s",
                reference=bill.merchant_reference,
                description=bill.description,
            )[: services.DESCRIPTION_MAX]
    if request.method == "POST" and request.form.get("action") == "lookup":
        form.validate_on_submit()  # CSRF and lengths; nothing is created
        lookup, account = _lookup_for(banks, form.bank_slug.data or "", form.account.data or "")
        form.account.data = account
        return render_template(
            "cashins/new.html",
            form=form,
            banks=banks,
            bill=bill,
            lookup=lookup,
            amount_limits=amount_limits,
        )
    if form.validate_on_submit():
        assert form.amount.amount is not None
        token = form.form_token.data or ""
        try:
            if len(token) < 16:
                raise services.CashinInputError({"__all__": [_("Reload the page and try again.")]})
            cashin = services.prepare_cashin(
                services.CashinRequest(
                    bank_slug=form.bank_slug.data or "",
                    account=form.account.data or "",
                    amount=form.amount.amount,
                    description=form.description.data or "",
                    reason=form.reason.data or "",
                    holder_name=form.holder_name.data or "",
                    holder_verified=bool(form.holder_verified.data),
                    bill_id=bill.id if bill else None,
                ),
                by=current_user,
                form_token=token,
                banks=banks,
                limits=limits,
            )
        except services.CashinInputError as exc:
            _show_errors(form, exc.errors)
        else:
            return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)
    if request.method == "POST":
        lookup, _account = _lookup_for(banks, form.bank_slug.data or "", form.account.data or "")
        if lookup is not None and lookup.message in form.account.errors:
            lookup = None  # already said once, under the account field
        return render_template(
            "cashins/new.html",
            form=form,
            banks=banks,
            bill=bill,
            lookup=lookup,
            amount_limits=amount_limits,
        ), 422
    return render_template(
        "cashins/new.html",
        form=form,
        banks=banks,
        bill=bill,
        lookup=lookup,
        payer_account=payer_account,
        amount_limits=amount_limits,
    )


@bp.get("/lookup")
@roles_required(Role.ACCOUNTANT)
def lookup() -> ResponseReturnValue:
    """The name check as a page fragment (htmx), on leaving the account field or on "Check"."""
    banks = bank_list()
    result, account = _lookup_for(
        banks, request.args.get("bank_slug", ""), request.args.get("account", "")
    )
    form = CashinForm(formdata=None)
    form.holder_name.data = request.args.get("holder_name", "")
    return render_template("cashins/_lookup.html", lookup=result, form=form, account=account)


def _detail_page(cashin: Cashin, **forms: Any) -> str:
    confirm = forms.pop("confirm", None) or ConfirmForm()
    if cashin.state == CashinState.DRAFT:
        confirm.send_token.data = cashin.send_token or ""
    return render_template(
        "cashins/detail.html",
        cashin=cashin,
        confirm=confirm,
        reject=forms.pop("reject", None) or RejectForm(),
        resolve=forms.pop("resolve", None) or ResolveForm(),
        settle=forms.pop("settle", None) or SettleForm(),
        trail=services.audit_trail_of(cashin),
        outcome_unknown=services.is_outcome_unknown(cashin),
        sending_until=services.still_sending_until(cashin),
        blockers=(
            services.draft_blockers(cashin, bank_list(), _limits())
            if cashin.state == CashinState.DRAFT
            else []
        ),
    )


@bp.get("/<id:cashin_id>")
@roles_required(Role.ACCOUNTANT)
def detail(cashin_id: int) -> ResponseReturnValue:
    return _detail_page(_cashin_or_404(cashin_id))


@bp.post("/<id:cashin_id>/confirm")
@roles_required(Role.ACCOUNTANT)
@two_factor_to_send_money
def confirm(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    blockers = services.draft_blockers(cashin, bank_list(), _limits())
    if blockers:
        flash(" ".join([*blockers, _("Nothing was sent.")]), "danger")
        return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)
    try:
        services.confirm_cashin(
            cashin, form.send_token.data or "", by=current_user, limits=_limits()
        )
    except services.CashinConflict as exc:
        flash(str(exc), "info")
    except services.CashinInputError as exc:
        flash(str(exc), "danger")
    else:
        _flash_outcome(cashin)
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


def _flash_outcome(cashin: Cashin) -> None:
    if cashin.has_open_conflict:
        flash(_("iHela answered after this cash-in was resolved, and disagrees."), "danger")
        return
    messages = {
        CashinState.AWAITING_APPROVAL: (
            _("Submitted: another accountant must approve it."),
            "info",
        ),
        CashinState.SUCCEEDED: (
            _("Sent. iHela reference %(reference)s.", reference=cashin.gateway_reference),
            "success",
        ),
        CashinState.FAILED: (
            _("Not sent: %(message)s", message=render_message(cashin.gateway_message)),
            "danger",
        ),
        CashinState.UNKNOWN: (
            # What happened and what to do are on the page, said once.
            _("No clear answer from iHela: read below what to do."),
            "danger",
        ),
    }
    message = messages.get(cashin.state)
    if message:
        flash(*message)


@bp.get("/approvals")
@roles_required(Role.ACCOUNTANT)
def approvals() -> ResponseReturnValue:
    return render_template("cashins/approvals.html", queue=services.approval_queue())


@bp.post("/<id:cashin_id>/approve")
@roles_required(Role.ACCOUNTANT)
@two_factor_to_send_money
def approve(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.approve_cashin(cashin, by=current_user, limits=_limits())
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
    except services.CashinInputError as exc:
        flash(str(exc), "danger")
    else:
        _flash_outcome(cashin)
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.post("/<id:cashin_id>/reject")
@roles_required(Role.ACCOUNTANT)
def reject(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    form = RejectForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.reject_cashin(cashin, form.rejection_reason.data or "", by=current_user)
    except services.CashinInputError as exc:
        _show_errors(form, exc.errors)
        return _detail_page(cashin, reject=form), 422
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
    else:
        flash(_("Rejected; nothing was sent."), "info")
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.post("/<id:cashin_id>/resolve")
@roles_required(Role.ACCOUNTANT)
def resolve(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.resolve_unknown(
            cashin,
            form.outcome.data or "",
            form.note.data or "",
            by=current_user,
            reference=form.reference.data or "",
        )
    except services.CashinInputError as exc:
        _show_errors(form, exc.errors)
        return _detail_page(cashin, resolve=form), 422
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
    else:
        flash(
            _("Marked %(status)s.", status=cashin_state_label(cashin.status).lower()),
            "success",
        )
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.post("/<id:cashin_id>/settle")
@roles_required(Role.ACCOUNTANT)
def settle(cashin_id: int) -> ResponseReturnValue:
    """A person settles a late gateway answer that disagrees with the resolution."""
    cashin = _cashin_or_404(cashin_id)
    form = SettleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.settle_conflict(
            cashin, form.decision.data or "", form.late_note.data or "", by=current_user
        )
    except services.CashinInputError as exc:
        _show_errors(form, exc.errors)
        return _detail_page(cashin, settle=form), 422
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
    else:
        flash(
            _(
                "Checked: the cash-in is %(status)s.",
                status=cashin_state_label(cashin.status).lower(),
            ),
            "success",
        )
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.post("/<id:cashin_id>/discard")
@roles_required(Role.ACCOUNTANT)
def discard(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.discard_draft(cashin, by=current_user)
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
    else:
        flash(_("Draft discarded; nothing was sent."), "info")
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.get("/<id:cashin_id>/receipt")
@roles_required(Role.ACCOUNTANT)
def receipt(cashin_id: int) -> ResponseReturnValue:
    cashin = _cashin_or_404(cashin_id)
    if cashin.status not in (CashinState.SUCCEEDED, CashinState.FAILED, CashinState.REJECTED):
        flash(_("A receipt is made once the outcome is known."), "info")
        return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)
    return render_template("cashins/receipt.html", cashin=cashin)
