"""Settling a cash-in whose outcome is unknown by asking iHela (v2 ``operations/status``).

With the v1 API there is no such call, and a person still records what iHela said on the phone
(``services.resolve_unknown``). Both paths end in the same state change (``services._move``)
and leave an audit event naming who or what asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import click
from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from dashboard import audit
from dashboard import messages as msg
from dashboard.cashins import services
from dashboard.db import db, utcnow
from dashboard.gateway import gateway
from dashboard.ihela import IhelaError, OperationOutcome
from dashboard.labels import money
from dashboard.models import Cashin, CashinState, Role, User
from dashboard.security import roles_required

log = logging.getLogger("dashboard.cashins")

# Its commands appear as ``flask cashins ...``.
bp = Blueprint("cashin_settle", __name__, url_prefix="/cashins", cli_group="cashins")

# iHela answering "no such operation" right after sending could mean "not yet": only after
# this long is it read as "the money never left".
NOT_FOUND_MEANS_FAILED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Settled:
    outcome: CashinState | None  # None: still unknown, for the reason below
    # Why it stays unknown, as a code the page turns into a sentence in the reader's language:
    # "no_answer" (iHela could not be asked), "amount_differs", "not_found" (not yet), "pending",
    # "unrecognised" (a status word the dashboard does not know).
    why: str = ""
    status: str = ""  # iHela's own status word, when it gave one
    ihela_amount: int | None = None  # what iHela reports, when it differs from ours


def can_check_with_ihela() -> bool:
    return bool(gateway().can_check_operations)


def settle_with_ihela(cashin: Cashin, *, by: User | None, asked_by: str) -> Settled:
    """Ask iHela what became of ``cashin`` and record its answer; ``asked_by`` names the asker.

    Raises ``services.CashinConflict`` when the cash-in is no longer unknown.
    """
    conflict = _("Somebody already resolved this cash-in.")
    if not services.is_outcome_unknown(cashin):
        raise services.CashinConflict(conflict)
    try:
        status = gateway().operation_status(cashin.merchant_reference)
    except IhelaError as exc:
        log.info("cash-in %s: status check failed: %s", cashin.merchant_reference, exc)
        return Settled(None, "no_answer")
    outcome: CashinState | None = None
    if status.outcome is OperationOutcome.SUCCEEDED:
        if status.amount is not None and status.amount != cashin.amount:
            return Settled(None, "amount_differs", status.raw_status, status.amount)
        outcome = CashinState.SUCCEEDED
    elif status.outcome is OperationOutcome.FAILED:
        outcome = CashinState.FAILED
    elif status.outcome is OperationOutcome.NOT_FOUND:
        sent_at = cashin.submitted_at
        if sent_at is not None and utcnow() - sent_at >= NOT_FOUND_MEANS_FAILED_AFTER:
            outcome = CashinState.FAILED
    if outcome is None:
        why = {
            OperationOutcome.NOT_FOUND: "not_found",
            OperationOutcome.PENDING: "pending",
        }.get(status.outcome, "unrecognised")  # a status word the dashboard does not know
        return Settled(None, why, status.raw_status)
    note = msg.coded(
        "note.settled_by_ihela",
        status=status.raw_status or status.outcome.value,
        reference=status.reference or "—",
        asked_by=asked_by,
    )
    current = CashinState(cashin.status)
    services._move(
        cashin,
        current,
        outcome,
        conflict=conflict,
        where=services.still_stuck_condition(current),
        resolved_by_id=by.id if by is not None else None,
        resolved_at=utcnow(),
        resolution_note=note,
        completed_at=utcnow(),
        **(
            {"gateway_reference": status.reference}
            if status.reference and outcome == CashinState.SUCCEEDED
            else {}
        ),
    )
    if outcome == CashinState.FAILED:
        services._release_refund(cashin)
    audit.record(
        "cashin.settled",
        actor=by,
        actor_label=None if by is not None else asked_by,
        object_type="cashin",
        object_id=cashin.merchant_reference,
        summary=msg.coded(
            "audit.cashin_resolved", state={"cashin_state": outcome.value}, note=msg.decode(note)
        ),
        details={"asked_by": asked_by, "ihela_status": status.raw_status},
    )
    db.session.commit()
    db.session.refresh(cashin)
    return Settled(outcome, status=status.raw_status)


def settle_unknown(*, asked_by: str = "cron") -> tuple[int, int]:
    """Ask iHela about every unknown cash-in (for cron). Returns (asked, settled)."""
    asked = settled = 0
    for cashin in services.outcome_unknown_cashins():
        asked += 1
        try:
            result = settle_with_ihela(cashin, by=None, asked_by=asked_by)
        except services.CashinConflict:
            continue
        settled += result.outcome is not None
    return asked, settled


class _CheckForm(FlaskForm):
    pass


@bp.post("/<id:cashin_id>/check-with-ihela")
@roles_required(Role.ACCOUNTANT)
def check_with_ihela(cashin_id: int) -> ResponseReturnValue:
    if not _CheckForm().validate_on_submit():
        return redirect(url_for("cashins.detail", cashin_id=cashin_id), 303)
    cashin = db.session.scalar(select(Cashin).where(Cashin.id == cashin_id))
    if cashin is None:
        abort(404)
    if not can_check_with_ihela():
        return _back(cashin)
    try:
        result = settle_with_ihela(cashin, by=current_user, asked_by=current_user.email)
    except services.CashinConflict as exc:
        flash(str(exc), "warning")
        return _back(cashin)
    if result.outcome == CashinState.SUCCEEDED:
        flash(_("iHela says the money arrived: marked succeeded."), "success")
    elif result.outcome == CashinState.FAILED:
        flash(_("iHela says the money did not leave: marked failed."), "info")
    else:
        flash(_still_unknown(result, cashin), "warning")
    return _back(cashin)


def _still_unknown(result: Settled, cashin: Cashin) -> str:
    """Why iHela's answer settled nothing, in the reader's language."""
    if result.why == "amount_differs":
        said = _(
            "iHela reports this operation with %(theirs)s, not %(ours)s: it stays unknown. "
            "Check with iHela before resolving it.",
            theirs=money(result.ihela_amount),
            ours=money(cashin.amount),
        )
    elif result.why == "not_found":
        said = _(
            "iHela has no operation with this reference yet. Try again in a few minutes: "
            "two minutes after the send, it counts as not sent."
        )
    elif result.why == "pending":
        said = _(
            "iHela says the operation is still in progress (%(status)s). Try again later.",
            status=msg.gateway_text(result.status or "Pending"),
        )
    elif result.why == "unrecognised":
        said = _(
            "iHela answered with a status the dashboard does not know (%(status)s): it stays "
            "unknown. Check with iHela before resolving it.",
            status=msg.gateway_text(result.status),
        )
    else:
        said = _("iHela could not be asked just now. Try again later.")
    return str(said)


def _back(cashin: Cashin) -> ResponseReturnValue:
    return redirect(url_for("cashins.detail", cashin_id=cashin.id), 303)


@bp.app_template_global("ihela_can_check_operations")
def _template_can_check() -> bool:
    return can_check_with_ihela()


@bp.app_template_global("check_with_ihela_form")
def _template_check_form() -> FlaskForm:
    return _CheckForm()


@bp.cli.command("settle-unknown")
def settle_unknown_command() -> None:
    """Ask iHela about every cash-in with an unknown outcome (v2 API only; for cron)."""
    if not can_check_with_ihela():
        click.echo(
            f"iHela's {current_app.config['IHELA_API']} API cannot tell what became of a "
            "cash-in: a person must settle unknown cash-ins."
        )
        raise SystemExit(1)
    asked, settled = settle_unknown(asked_by="cron")
    click.echo(f"Asked iHela about {asked} unknown cash-in(s); {settled} settled.")
