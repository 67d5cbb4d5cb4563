"""Sending money out: refunds and payouts, never twice, never to the wrong person.

Every state change that matters is a conditional UPDATE (``... WHERE status = <expected>``), so
double clicks, back-button resubmits, two tabs and two servers race harmlessly: exactly one
request wins each transition and the others see that it already happened.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from dashboard import audit
from dashboard import messages as msg
from dashboard.background.jobs import add_job
from dashboard.banks import BankList, BankOption
from dashboard.db import db, utcnow
from dashboard.gateway import gateway
from dashboard.ihela import AccountNotFound, GatewayRejected, IhelaError, OutcomeUnknown
from dashboard.labels import REASONS
from dashboard.models import (
    AccountLock,
    Bill,
    BillState,
    Cashin,
    CashinState,
    HolderCheck,
    Role,
    User,
)
from dashboard.money import format_amount

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 160
# The list filter for what a person must look at (see ``_needs_checking_condition``).
NEEDS_CHECKING = "needs_checking"
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Cash-ins whose money has left, may have left, or is about to: they count against limits.
COMMITTED_STATES = (
    CashinState.AWAITING_APPROVAL,
    CashinState.SUBMITTING,
    CashinState.SUCCEEDED,
    CashinState.UNKNOWN,
)


class CashinInputError(ValueError):
    """Input a cash-in cannot be made with; ``errors`` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


class CashinConflict(RuntimeError):
    """The cash-in is no longer in the state this request expected (someone acted first)."""


@dataclass(frozen=True)
class Limits:
    minimum: int
    maximum: int
    approval_threshold: int
    daily_max_per_account: int
    timezone: str


@dataclass(frozen=True)
class Lookup:
    status: str  # "confirmed", "not_found", "unavailable"
    name: str | None = None
    message: str = ""
    account_number: str | None = None  # the account as the bank writes it (when confirmed)


@dataclass(frozen=True)
class CashinRequest:
    bank_slug: str
    account: str
    amount: int
    description: str
    reason: str
    holder_name: str = ""
    holder_verified: bool = False
    bill_id: int | None = None


def new_merchant_reference() -> str:
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
    return f"C{utcnow():%y%m%d}-{suffix}"


def mask_pattern(mask: str) -> re.Pattern[str]:
    """``0`` is a digit, every other character stands for itself."""
    return re.compile("".join("[0-9]" if c == "0" else re.escape(c) for c in mask))


def apply_mask(mask: str | None, typed: str) -> str:
    """The account as the bank writes it; digits typed without the separators are accepted."""
    account = typed.strip()
    if not account:
        raise CashinInputError({"account": [_("Enter the account number.")]})
    if mask is None:
        # One spelling per account, so daily limits and approvals add up what belongs together.
        account = re.sub(r"\s+", "", account).upper()
        if len(account) > 64 or not re.fullmatch(r"[A-Z0-9.+@/_-]+", account):
            raise CashinInputError({"account": [_("Use letters, digits and - . / only.")]})
        return account
    if mask_pattern(mask).fullmatch(account):
        return account
    digits = re.sub(r"[^0-9]", "", account)
    if len(digits) == mask.count("0") and not re.search(r"[^0-9 ./-]", account):
        filled = iter(digits)
        return "".join(next(filled) if c == "0" else c for c in mask)
    raise CashinInputError(
        {"account": [_("This bank's accounts look like %(mask)s (0 = a digit).", mask=mask)]}
    )


def lookup_holder(bank: BankOption, account: str) -> Lookup:
    """Ask the gateway who holds the account; 'unavailable' when it cannot say."""
    if not bank.has_lookup:
        return Lookup(
            "unavailable", message=_("%(bank)s does not offer name checks.", bank=bank.name)
        )
    try:
        holder = gateway().customer_lookup(bank.slug, account)
    except AccountNotFound:
        return Lookup(
            "not_found",
            message=_("No account %(account)s at %(bank)s.", account=account, bank=bank.name),
        )
    except IhelaError as exc:
        return Lookup(
            "unavailable",
            message=_("The name check is unavailable: %(error)s", error=_said(exc)),
        )
    return Lookup("confirmed", name=holder.name, account_number=holder.account_number)


def _said(exc: IhelaError) -> str:
    return msg.render(msg.coded(msg.gateway_error(exc)))


@dataclass(frozen=True)
class PayerAccount:
    """Where a refund can go, as iHela knows the payer: a code, rendered by the form."""

    status: str  # "found", "not_found" (ask the customer), "unavailable" (iHela not reached)
    bank_slug: str = ""
    bank_name: str = ""
    account: str = ""
    name: str = ""


def find_payer_account(payer: str, banks: BankList) -> PayerAccount:
    """The payer's iHela Credit Union account (looked up by their e-mail, phone or client
    code), so a refund can go back where the money came from."""
    try:
        holder = gateway().find_customer_account(payer)
    except AccountNotFound:
        return PayerAccount("not_found")
    except IhelaError as exc:
        log.info("payer account lookup failed: %s", type(exc).__name__)
        return PayerAccount("unavailable")
    bank = banks.get(holder.bank_slug)
    if bank is None or not bank.is_active:
        return PayerAccount("not_found")  # nowhere we could send it: the customer must say
    return PayerAccount("found", bank.slug, bank.name, holder.account_number, holder.name)


def payer_account_warning(
    bill: Bill, bank_slug: str, account: str, banks: BankList
) -> msg.Message | None:
    """Why a refund needs a second person because of where it goes: it is not the payer's
    account iHela named, or iHela could not be asked for it. None when it goes back to the
    payer's account, or when iHela knows no account of the payer (the customer says where)."""
    payer = find_payer_account(bill.payer, banks)
    if payer.status == "found":
        if (payer.bank_slug, _one_spelling(payer.account)) == (bank_slug, _one_spelling(account)):
            return None
        return msg.message("approval.not_payer", account=payer.account, bank=payer.bank_name)
    if payer.status == "unavailable":
        return msg.message("approval.payer_unchecked")
    return None


def _one_spelling(account: str) -> str:
    return re.sub(r"\s+", "", account).upper()


def refund_left(bill: Bill) -> int:
    return max(bill.amount - bill.refund_reserved, 0)


def refunded_amount(bill: Bill) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(Cashin.amount), 0)).where(
            Cashin.bill_id == bill.id, Cashin.status == CashinState.SUCCEEDED
        )
    )
    return int(total or 0)


def _day_start(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0, microsecond=0)


def sent_today_to(
    bank_slug: str, account: str, timezone: str, exclude_id: int | None = None
) -> int:
    """Francs submitted today (local day) to one account: sent, being sent or awaiting approval."""
    query = select(func.coalesce(func.sum(Cashin.amount), 0)).where(
        Cashin.bank_slug == bank_slug,
        Cashin.account == account,
        Cashin.status.in_(COMMITTED_STATES),
        Cashin.submitted_at >= _day_start(timezone),
    )
    if exclude_id is not None:
        query = query.where(Cashin.id != exclude_id)
    return int(db.session.scalar(query) or 0)


def _check_daily_limit(cashin: Cashin, limits: Limits) -> None:
    """Checked again when the money is committed: a draft prepared earlier counts only then."""
    already = sent_today_to(cashin.bank_slug, cashin.account, limits.timezone, cashin.id)
    if already + cashin.amount > limits.daily_max_per_account:
        raise CashinInputError(
            {
                "amount": [
                    _(
                        "This account already received %(already)s today; the daily maximum per "
                        "account is %(maximum)s. Nothing was sent.",
                        already=_shown(already),
                        maximum=_shown(limits.daily_max_per_account),
                    )
                ]
            }
        )


def _fr(amount: int) -> str:
    return format_amount(amount, "en").replace("\u00a0", " ")


def _shown(amount: int) -> str:
    """An amount in a message, in the reader's language (the audit trail keeps ``_fr``)."""
    locale = get_locale()
    return format_amount(amount, str(locale) if locale else "en").replace("\u00a0", " ")


def amount_range(bank: BankOption, limits: Limits) -> tuple[int, int]:
    """The smallest and the largest amount of one cash-in to this bank: the gateway's and the
    merchant's limits, narrowed by the bank's own."""
    lowest = max(limits.minimum, bank.in_minimum or 0)
    highest = min(limits.maximum, bank.in_maximum or limits.maximum)
    return lowest, highest


def amount_limits(bank: BankOption, limits: Limits) -> str:
    """What one cash-in to this bank may carry, said before anyone types an amount (the form
    shows it as soon as the bank is chosen; ``check_amount`` holds to the same range)."""
    lowest, highest = amount_range(bank, limits)
    if lowest > limits.minimum:
        said = _(
            "From %(lowest)s to %(highest)s per cash-in to %(bank)s.",
            lowest=_shown(lowest),
            highest=_shown(highest),
            bank=bank.name,
        )
    else:
        said = _(
            "Up to %(highest)s per cash-in to %(bank)s.", highest=_shown(highest), bank=bank.name
        )
    return str(said)


def check_amount(
    amount: int, bank: BankOption, account: str, limits: Limits, bill: Bill | None
) -> list[str]:
    """Every limit the amount must respect: gateway, bank, merchant, per-account day, refund."""
    problems = []
    lowest, highest = amount_range(bank, limits)
    if amount < lowest:
        problems.append(
            _(
                "The smallest amount to %(bank)s is %(amount)s.",
                bank=bank.name,
                amount=_shown(lowest),
            )
        )
    elif amount > highest:
        if bank.in_maximum and bank.in_maximum < limits.maximum:
            problems.append(
                _(
                    "The largest amount for %(bank)s is %(amount)s.",
                    bank=bank.name,
                    amount=_shown(highest),
                )
            )
        else:
            problems.append(
                _("The largest amount for one cash-in is %(amount)s.", amount=_shown(highest))
            )
    if not problems:
        already = sent_today_to(bank.slug, account, limits.timezone)
        if already + amount > limits.daily_max_per_account:
            problems.append(
                _(
                    "This account already received %(already)s today; the daily maximum per "
                    "account is %(maximum)s.",
                    already=_shown(already),
                    maximum=_shown(limits.daily_max_per_account),
                )
            )
    if bill is not None and amount > refund_left(bill):
        problems.append(
            _(
                "Only %(amount)s of this bill is left to refund.",
                amount=_shown(refund_left(bill)),
            )
        )
    return problems


def prepare_cashin(
    request: CashinRequest,
    *,
    by: User,
    form_token: str,
    banks: BankList,
    limits: Limits,
) -> Cashin:
    """Check everything and save a draft for review. Creates nothing when anything is wrong."""
    existing = db.session.scalar(select(Cashin).where(Cashin.form_token == form_token))
    if existing is not None:
        return existing
    errors: dict[str, list[str]] = {}
    bank = banks.get(request.bank_slug)
    if bank is None or not bank.is_active:
        errors["bank_slug"] = [_("Choose the receiving bank from the list.")]
    bill = None
    if request.bill_id is not None:
        bill = db.session.get(Bill, request.bill_id)
        if bill is None or bill.status != BillState.PAID:
            errors["__all__"] = [_("Only a paid bill can be refunded.")]
    if request.reason not in REASONS:
        errors["reason"] = [_("Choose refund, payout or other.")]
    description = " ".join(request.description.split())
    if not description:
        errors["description"] = [_("Say what the money is for; the receiver sees it.")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            _("Keep the description under %(max)d characters.", max=DESCRIPTION_MAX)
        ]
    if bank is None or errors.get("bank_slug"):
        raise CashinInputError(errors)
    try:
        account = apply_mask(bank.account_mask, request.account)
    except CashinInputError as exc:
        errors.update(exc.errors)
        raise CashinInputError(errors) from None
    lookup = lookup_holder(bank, account)
    holder_name = lookup.name or ""
    if lookup.status == "confirmed" and lookup.account_number:
        # The bank's own spelling of the account (a customer id or a short form may have been
        # typed): money goes there, and limits count it under one name.
        account = lookup.account_number
    amount_problems = check_amount(request.amount, bank, account, limits, bill)
    if amount_problems:
        errors["amount"] = amount_problems
    if lookup.status == "not_found":
        errors.setdefault("account", []).append(lookup.message)
    elif lookup.status == "unavailable":
        holder_name = " ".join(request.holder_name.split())
        if len(holder_name) < 3:
            errors["holder_name"] = [
                _(
                    "The name cannot be checked with the bank: type the holder's name as it is "
                    "on their account."
                )
            ]
        if not request.holder_verified:
            errors["holder_verified"] = [
                _("Tick to confirm you checked the name with the customer (for example on an ID).")
            ]
    if errors:
        raise CashinInputError(errors)
    confirmed = lookup.status == "confirmed"
    # Stored as codes, shown in the reader's language.
    reasons: list[msg.Message] = []
    # Asked here, not taken from the form: whatever the page showed, the server decides.
    warning = payer_account_warning(bill, bank.slug, account, banks) if bill else None
    if warning is not None:
        reasons.append(warning)
    if request.amount >= limits.approval_threshold:
        reasons.append(msg.message("approval.amount", amount=msg.money(limits.approval_threshold)))
    elif split := _split_reason(bank.slug, account, request.amount, limits, None):
        reasons.append(msg.decode(split))  # type: ignore[arg-type]
    needs_approval = bool(reasons) or not confirmed
    if not confirmed:
        reasons.append(msg.message("approval.unconfirmed"))
    cashin = Cashin(
        merchant_reference=new_merchant_reference(),
        form_token=form_token,
        send_token=secrets.token_urlsafe(16),
        bank_slug=bank.slug,
        bank_name=bank.name,
        account=account,
        holder_name=holder_name,
        holder_check=HolderCheck.CONFIRMED if confirmed else HolderCheck.UNAVAILABLE,
        amount=request.amount,
        description=description,
        reason="refund" if bill is not None else request.reason,
        bill_id=bill.id if bill else None,
        status=CashinState.DRAFT,
        needs_approval=needs_approval,
        approval_reason=_approval_reason(reasons),
        account_warning=msg.coded(warning) if warning else None,
        created_by_id=by.id,
    )
    db.session.add(cashin)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(Cashin).where(Cashin.form_token == form_token))
        if existing is None:
            raise
        return existing
    drafted = {
        "amount": msg.money(request.amount),
        "holder": holder_name,
        "bank": bank.slug,
        "account": account,
    }
    _trail(
        "cashin.drafted",
        cashin,
        by,
        msg.coded("audit.cashin_drafted_warning", **drafted, warning=warning)
        if warning
        else msg.coded("audit.cashin_drafted", **drafted),
    )
    db.session.commit()
    return cashin


def _approval_reason(reasons: list[msg.Message]) -> str | None:
    if not reasons:
        return None
    if len(reasons) == 1:
        return msg.coded(reasons[0])
    if len(reasons) == 2:
        return msg.coded("approval.two", first=reasons[0], second=reasons[1])
    first, second, third = reasons
    return msg.coded("approval.three", first=first, second=second, third=third)


def _trail(action: str, cashin: Cashin, by: User, summary: str) -> None:
    """An audit event about this cash-in, written with the caller's commit."""
    audit.record(
        action,
        actor=by,
        object_type="cashin",
        object_id=cashin.merchant_reference,
        summary=summary,
    )


def _move(
    cashin: Cashin, expected: CashinState, new: CashinState, conflict: str, **values: Any
) -> None:
    """The one way a cash-in changes state: only if it is still in ``expected``; otherwise
    somebody acted first, and this request changes nothing and says ``conflict``."""
    conditions = values.pop("where", [])
    result = db.session.execute(
        update(Cashin)
        .where(Cashin.id == cashin.id, Cashin.status == expected, *conditions)
        .values(status=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        db.session.rollback()
        db.session.refresh(cashin)
        raise CashinConflict(conflict)


def _reserve_refund(cashin: Cashin) -> bool:
    if cashin.bill_id is None:
        return True
    result = db.session.execute(
        update(Bill)
        .where(
            Bill.id == cashin.bill_id,
            Bill.status == BillState.PAID,
            Bill.refund_reserved + cashin.amount <= Bill.amount,
        )
        .values(refund_reserved=Bill.refund_reserved + cashin.amount)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _release_refund(cashin: Cashin) -> None:
    if cashin.bill_id is None:
        return
    db.session.execute(
        update(Bill)
        .where(Bill.id == cashin.bill_id)
        .values(refund_reserved=Bill.refund_reserved - cashin.amount)
        .execution_options(synchronize_session=False)
    )


def _account_key(bank_slug: str, account: str) -> str:
    return f"{bank_slug}:{account}"[:100]


def _ensure_account_lock(bank_slug: str, account: str) -> None:
    """Create the account's lock row (its own small transaction) if it is not there yet."""
    key = _account_key(bank_slug, account)
    if db.session.get(AccountLock, key) is not None:
        return
    db.session.add(AccountLock(key=key))
    try:
        db.session.commit()
    except IntegrityError:  # created by someone else at the same moment: just as good
        db.session.rollback()


def _take_turn(cashin: Cashin) -> None:
    """Wait for any other confirmation or approval to this account to commit, and hold the
    account until this transaction ends. Must be the first write of the transaction."""
    _ensure_account_lock(cashin.bank_slug, cashin.account)
    db.session.execute(
        update(AccountLock)
        .where(AccountLock.key == _account_key(cashin.bank_slug, cashin.account))
        .values(touched_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _split_reason(
    bank_slug: str, account: str, amount: int, limits: Limits, exclude_id: int | None
) -> str | None:
    """Several cash-ins to one account in a day count together against the approval threshold,
    so splitting an amount never skips the second person."""
    already = sent_today_to(bank_slug, account, limits.timezone, exclude_id)
    if already and already + amount >= limits.approval_threshold:
        return msg.coded("approval.split", amount=msg.money(limits.approval_threshold))
    return None


def confirm_cashin(cashin: Cashin, send_token: str, *, by: User, limits: Limits) -> Cashin:
    """The review page's one click: sends now, or submits for approval. Counts once."""
    if cashin.created_by_id != by.id:
        raise CashinConflict(_("Only the person who prepared this cash-in can confirm it."))
    _refuse_while_gateway_down()
    extra: dict[str, Any] = {"send_token": None, "submitted_at": utcnow()}
    # A refund away from the payer's account never goes without a second person.
    needs_approval = cashin.needs_approval or cashin.account_warning is not None
    if needs_approval and not cashin.needs_approval:
        extra.update(needs_approval=True, approval_reason=cashin.account_warning)
    if cashin.state == CashinState.DRAFT:
        _take_turn(cashin)
        try:
            _check_daily_limit(cashin, limits)
        except CashinInputError:
            db.session.rollback()
            raise
        # Other cash-ins to the account may have been sent since this draft was prepared.
        split = (
            None
            if needs_approval
            else _split_reason(cashin.bank_slug, cashin.account, cashin.amount, limits, cashin.id)
        )
        if split:
            needs_approval = True
            extra.update(needs_approval=True, approval_reason=split)
    target = CashinState.AWAITING_APPROVAL if needs_approval else CashinState.SUBMITTING
    _move(
        cashin,
        CashinState.DRAFT,
        target,
        conflict=_("This cash-in was already confirmed; nothing was sent again."),
        where=[Cashin.send_token == send_token],
        **extra,
    )
    if not _reserve_refund(cashin):
        db.session.rollback()
        db.session.refresh(cashin)
        bill = db.session.get(Bill, cashin.bill_id)
        left = refund_left(bill) if bill else 0
        raise CashinInputError(
            {
                "amount": [
                    _(
                        "Only %(amount)s of this bill is left to refund; nothing was sent.",
                        amount=_shown(left),
                    )
                ]
            }
        )
    approval = target == CashinState.AWAITING_APPROVAL
    if approval:  # the people who may approve it are told (background/tasks.py), once
        add_job("notify.cashin_awaiting", f"cashin_awaiting:{cashin.id}", {"cashin_id": cashin.id})
    _trail(
        "cashin.submitted_for_approval" if approval else "cashin.confirmed",
        cashin,
        by,
        (extra.get("approval_reason") or cashin.approval_reason or "")
        if approval
        else msg.coded("audit.cashin_sent_without_approval"),
    )
    db.session.commit()
    db.session.refresh(cashin)
    if target == CashinState.SUBMITTING:
        _send(cashin, by=by)
    return cashin


def approve_cashin(cashin: Cashin, *, by: User, limits: Limits) -> Cashin:
    """A second person approves, which sends it. Nobody approves their own."""
    if cashin.created_by_id == by.id:
        raise CashinConflict(_("You prepared this cash-in: another accountant must approve it."))
    _refuse_while_gateway_down()
    if cashin.state == CashinState.AWAITING_APPROVAL:
        _take_turn(cashin)
        try:
            _check_daily_limit(cashin, limits)
        except CashinInputError:
            db.session.rollback()
            raise
    _move(
        cashin,
        CashinState.AWAITING_APPROVAL,
        CashinState.SUBMITTING,
        conflict=_("This cash-in is no longer waiting for approval."),
        where=[Cashin.created_by_id != by.id],
        decided_by_id=by.id,
        decided_at=utcnow(),
        submitted_at=utcnow(),
    )
    approved = {"amount": msg.money(cashin.amount), "holder": cashin.holder_name}
    warning = msg.decode(cashin.account_warning)
    _trail(
        "cashin.approved",
        cashin,
        by,
        msg.coded("audit.cashin_approved_warning", **approved, warning=warning)
        if warning
        else msg.coded("audit.cashin_to", **approved),
    )
    db.session.commit()
    db.session.refresh(cashin)
    _send(cashin, by=by)
    return cashin


def reject_cashin(cashin: Cashin, reason: str, *, by: User) -> Cashin:
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise CashinInputError({"rejection_reason": [_("Say why it is rejected.")]})
    if cashin.created_by_id == by.id:
        raise CashinConflict(_("You prepared this cash-in: another accountant must decide on it."))
    _move(
        cashin,
        CashinState.AWAITING_APPROVAL,
        CashinState.REJECTED,
        conflict=_("This cash-in is no longer waiting for approval."),
        where=[Cashin.created_by_id != by.id],
        decided_by_id=by.id,
        decided_at=utcnow(),
        rejection_reason=reason,
    )
    _release_refund(cashin)
    _trail(
        "cashin.rejected",
        cashin,
        by,
        msg.coded("audit.cashin_rejected", reason=reason),
    )
    db.session.commit()
    db.session.refresh(cashin)
    return cashin


def _refuse_while_gateway_down() -> None:
    """Nothing is sent while iHela is known to be unreachable: the cash-in stays as it is."""
    down = gateway().breaker.refuse("cash-in")
    if down is not None:
        raise CashinConflict(msg.render(msg.coded(msg.gateway_error(down))))


def _send(cashin: Cashin, *, by: User) -> None:
    """One gateway call for a cash-in already committed as submitting. Never retried."""
    reference: str | None = None
    try:
        result = gateway().cashin_client(
            cashin.bank_slug,
            cashin.account,
            cashin.amount,
            cashin.merchant_reference,
            cashin.description,
        )
    except GatewayRejected as exc:
        outcome, message, reply = CashinState.FAILED, msg.coded(msg.gateway_error(exc)), exc.raw
    except OutcomeUnknown as exc:
        outcome, message, reply = CashinState.UNKNOWN, msg.coded(msg.gateway_error(exc)), exc.raw
    except IhelaError as exc:
        outcome = CashinState.FAILED
        message = msg.coded([*msg.gateway_error(exc), msg.message("cashin.nothing_sent")])
        reply = exc.raw
    except Exception:
        # Whatever broke, the request may have left: only a person may say what happened.
        log.exception("cash-in %s: unexpected error while sending", cashin.merchant_reference)
        db.session.rollback()
        outcome, reply = CashinState.UNKNOWN, None
        message = msg.coded("cashin.dashboard_failed")
    else:
        reference = result.reference
        said = msg.coded("gw.said", text=msg.gateway_said(result.message or "Success"))
        outcome, message, reply = CashinState.SUCCEEDED, said, result.raw
    _record_outcome(cashin, outcome, message, reply, reference, by=by)


def _record_outcome(
    cashin: Cashin,
    outcome: CashinState,
    message: str,
    reply: dict[str, Any] | None,
    reference: str | None,
    *,
    by: User,
) -> None:
    """The send's own answer, written only over a row still ``submitting``: a person may have
    resolved it meanwhile, and their resolution (and the refund it freed or kept) stands."""
    values: dict[str, Any] = {
        "gateway_message": message,
        "gateway_reply": reply,
        "completed_at": utcnow() if outcome != CashinState.UNKNOWN else None,
    }
    if reference:
        values["gateway_reference"] = reference
    try:
        _move(cashin, CashinState.SUBMITTING, outcome, conflict="", **values)
    except CashinConflict:
        _record_late_reply(cashin, outcome, message, reply, reference, by=by)
        return
    if outcome == CashinState.FAILED:
        _release_refund(cashin)
    _trail(
        f"cashin.{outcome.value}",
        cashin,
        by,
        msg.coded(
            "audit.cashin_outcome",
            amount=msg.money(cashin.amount),
            holder=cashin.holder_name,
            message=msg.decode(message),
        ),
    )
    db.session.commit()
    db.session.refresh(cashin)


def _record_late_reply(
    cashin: Cashin,
    outcome: CashinState,
    message: str,
    reply: dict[str, Any] | None,
    reference: str | None,
    *,
    by: User,
) -> None:
    """The gateway answered after the row was resolved: keep the answer beside the resolution
    for a person to look at. The status and the bill's refund reservation are left alone."""
    log.warning(
        "cash-in %s: the gateway answered %s after the row was resolved as %s",
        cashin.merchant_reference,
        outcome.value,
        cashin.status,
    )
    disagrees = outcome != CashinState.UNKNOWN and outcome != cashin.state
    if disagrees:
        db.session.execute(
            update(Cashin)
            .where(Cashin.id == cashin.id, Cashin.late_outcome.is_(None))
            .values(
                late_outcome=outcome.value,
                late_reference=reference,
                late_message=message,
                late_reply=reply,
                late_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    _trail(
        "cashin.late_reply",
        cashin,
        by,
        msg.coded(
            "audit.cashin_late_conflict" if disagrees else "audit.cashin_late_reply",
            outcome={"cashin_state": outcome.value},
            state={"cashin_state": str(cashin.status)},
            message=msg.decode(message) or message,
        ),
    )
    db.session.commit()
    db.session.refresh(cashin)


def settle_conflict(cashin: Cashin, decision: str, note: str, *, by: User) -> Cashin:
    """A person looked at a late gateway answer that disagrees with the resolution: either the
    resolution stands, or the cash-in takes the gateway's outcome (the refund follows)."""
    note = " ".join(note.split())
    errors: dict[str, list[str]] = {}
    if decision not in ("keep", "adopt"):
        errors["decision"] = [_("Say which outcome is right.")]
    if len(note) < 5:
        errors["late_note"] = [_("Write what iHela told you (who, when, their reference).")]
    late = cashin.late_outcome
    if (
        decision == "adopt"
        and late == CashinState.FAILED
        and by.id in (cashin.created_by_id, cashin.resolved_by_id)
    ):
        errors["decision"] = [
            _(
                "Marking it failed frees the money to be sent again: another accountant or an "
                "admin must confirm it."
            )
        ]
    if errors:
        raise CashinInputError(errors)
    if not cashin.has_open_conflict or late is None:
        raise CashinConflict(_("Somebody already settled this."))
    checked = {
        "late_checked_by_id": by.id,
        "late_checked_at": utcnow(),
        "late_check_note": note,
    }
    conflict = _("Somebody already settled this.")
    now_open = [Cashin.late_outcome.is_not(None), Cashin.late_checked_at.is_(None)]
    current = CashinState(cashin.status)
    if decision == "keep":
        _move(cashin, current, current, conflict=conflict, where=now_open, **checked)
    else:
        new = CashinState(late)
        extra = {"gateway_reference": cashin.late_reference} if cashin.late_reference else {}
        _move(cashin, current, new, conflict=conflict, where=now_open, **checked, **extra)
        if new == CashinState.FAILED:
            _release_refund(cashin)
        elif current == CashinState.FAILED and not _reserve_refund(cashin):
            db.session.rollback()
            db.session.refresh(cashin)
            raise CashinInputError(
                {
                    "decision": [
                        _(
                            "The bill was refunded again since: counting this refund too would "
                            "exceed the bill. Keep the resolution and recover the money from the "
                            "customer."
                        )
                    ]
                }
            )
    _trail(
        "cashin.conflict_settled",
        cashin,
        by,
        msg.coded(
            "audit.cashin_conflict_kept" if decision == "keep" else "audit.cashin_conflict_changed",
            state={"cashin_state": current.value if decision == "keep" else str(late)},
            note=note,
        ),
    )
    db.session.commit()
    db.session.refresh(cashin)
    return cashin


def discard_draft(cashin: Cashin, *, by: User) -> Cashin:
    """A draft nobody will send (the bill was refunded meanwhile, limits changed...). Nothing
    was committed for it, so any accountant may discard it."""
    _move(
        cashin,
        CashinState.DRAFT,
        CashinState.DISCARDED,
        conflict=_("This cash-in is no longer a draft."),
        send_token=None,
    )
    _trail("cashin.discarded", cashin, by, msg.coded("audit.cashin_discarded"))
    db.session.commit()
    db.session.refresh(cashin)
    return cashin


def draft_blockers(cashin: Cashin, banks: BankList, limits: Limits) -> list[str]:
    """Why a draft can no longer be sent as it is (empty when it can)."""
    if cashin.state != CashinState.DRAFT:
        return []
    bill = db.session.get(Bill, cashin.bill_id) if cashin.bill_id is not None else None
    if cashin.bill_id is not None and (bill is None or bill.status != BillState.PAID):
        return [_("Only a paid bill can be refunded.")]
    if bill is not None and refund_left(bill) == 0:
        return [_("This bill has been fully refunded since this draft was prepared.")]
    bank = banks.get(cashin.bank_slug)
    if bank is None or not bank.is_active:
        if banks.error and not banks.banks:
            return []  # the bank list is unavailable: the send itself will check
        return [_("%(bank)s no longer receives cash-ins.", bank=cashin.bank_name)]
    return check_amount(cashin.amount, bank, cashin.account, limits, bill)


def refund_drafts_blocked(bill: Bill, refunds: list[Cashin]) -> dict[int, str]:
    """The bill's refund drafts that can no longer be sent as they are, each with why (the
    bill's page lists them; the draft's own page says more, see ``draft_blockers``)."""
    left = refund_left(bill)
    blocked = {}
    for cashin in refunds:
        if cashin.state != CashinState.DRAFT or cashin.amount <= left:
            continue
        blocked[cashin.id] = (
            _("cannot be sent: the bill is fully refunded")
            if left == 0
            else _("cannot be sent: only %(amount)s is left to refund", amount=_shown(left))
        )
    return blocked


def resolve_unknown(
    cashin: Cashin, outcome: str, note: str, *, by: User, reference: str = ""
) -> Cashin:
    """A person checked with iHela and says what really happened."""
    note = " ".join(note.split())
    reference = reference.strip()
    errors: dict[str, list[str]] = {}
    if outcome not in (CashinState.SUCCEEDED, CashinState.FAILED):
        errors["outcome"] = [_("Say whether the money arrived or not.")]
    if len(note) < 5:
        errors["note"] = [_("Write what iHela told you (who, when, their reference).")]
    if outcome == CashinState.FAILED and by.id == cashin.created_by_id:
        # "Failed" frees the money to be sent again: that takes a second person.
        errors["outcome"] = [
            _(
                "You prepared this cash-in: another accountant or an admin must confirm that the "
                "money did not leave."
            )
        ]
    if errors:
        raise CashinInputError(errors)
    if still_sending_until(cashin) is not None:
        raise CashinConflict(
            _(
                "This cash-in may still be on its way to iHela: its outcome can be recorded "
                "once the send has certainly ended."
            )
        )
    if not is_outcome_unknown(cashin):
        raise CashinConflict(_("Somebody already resolved this cash-in."))
    new = CashinState(outcome)
    current = CashinState(cashin.status)
    _move(
        cashin,
        current,
        new,
        conflict=_("Somebody already resolved this cash-in."),
        # A send in flight writes its own outcome: only one that outlived it may be resolved.
        where=[Cashin.submitted_at < _stuck_since()] if current == CashinState.SUBMITTING else [],
        resolved_by_id=by.id,
        resolved_at=utcnow(),
        resolution_note=note,
        completed_at=utcnow(),
        **(
            {"gateway_reference": reference}
            if reference and outcome == CashinState.SUCCEEDED
            else {}
        ),
    )
    if new == CashinState.FAILED:
        _release_refund(cashin)
    _trail(
        "cashin.resolved",
        cashin,
        by,
        msg.coded("audit.cashin_resolved", state={"cashin_state": new.value}, note=note),
    )
    db.session.commit()
    db.session.refresh(cashin)
    return cashin


def longest_send() -> timedelta:
    """How long a send can take at most, from the configured timeouts: waiting for another
    request's token fetch, the token fetch, the cash-in, and after a 401 a renewal and the one
    re-send — five calls, each bounded by connect + read — plus a margin (the read timeout bounds
    each wait for bytes, not a whole reply). After it, a row still ``submitting`` means the
    process died mid-call, and the outcome is unknown."""
    config = current_app.config
    one_call = float(config["IHELA_CONNECT_TIMEOUT"]) + float(config["IHELA_READ_TIMEOUT"])
    return timedelta(seconds=5 * one_call + float(config["CASHIN_STUCK_MARGIN_SECONDS"]))


def _stuck_since() -> datetime:
    return utcnow() - longest_send()


def _needs_checking_condition() -> Any:
    """Unknown outcomes, sends that outlived the longest possible send, and late gateway
    answers that disagree with a person's resolution."""
    return or_(*(and_(*part) for part in _needs_checking_parts()))


def is_outcome_unknown(cashin: Cashin) -> bool:
    if cashin.state == CashinState.UNKNOWN:
        return True
    return (
        cashin.state == CashinState.SUBMITTING
        and cashin.submitted_at is not None
        and cashin.submitted_at < _stuck_since()
    )


def still_sending_until(cashin: Cashin) -> datetime | None:
    """While a send may still be in flight: the moment after which it counts as stuck."""
    if cashin.state != CashinState.SUBMITTING or cashin.submitted_at is None:
        return None
    until = cashin.submitted_at + longest_send()
    return until if until > utcnow() else None


def outcome_unknown_cashins() -> list[Cashin]:
    """Cash-ins whose outcome nobody knows: unknown, or a send that outlived the longest send."""
    return list(
        db.session.scalars(
            select(Cashin)
            .where(
                or_(
                    Cashin.status == CashinState.UNKNOWN,
                    and_(
                        Cashin.status == CashinState.SUBMITTING,
                        Cashin.submitted_at < _stuck_since(),
                    ),
                )
            )
            .order_by(Cashin.id)
        )
    )


def still_stuck_condition(current: CashinState) -> list[Any]:
    """Extra condition for moving a ``submitting`` row: only once no send can be in flight."""
    return [Cashin.submitted_at < _stuck_since()] if current == CashinState.SUBMITTING else []


def _needs_checking_parts() -> list[list[Any]]:
    """The needs-checking condition as three disjoint parts, each served by an index: unknown,
    stuck sending, and open conflicts (a late answer comes only to a resolved row, so never to
    one of the first two)."""
    return [
        [Cashin.status == CashinState.UNKNOWN],
        [Cashin.status == CashinState.SUBMITTING, Cashin.submitted_at < _stuck_since()],
        [
            Cashin.late_outcome.is_not(None),
            Cashin.late_checked_at.is_(None),
            Cashin.status.not_in((CashinState.UNKNOWN, CashinState.SUBMITTING)),
        ],
    ]


def needs_checking_count() -> int:
    """The banner's count on every accountant page: each part of the needs-checking condition
    counted on its own index range (their OR would read the whole table on SQLite)."""
    return sum(
        int(db.session.scalar(select(func.count()).select_from(Cashin).where(*part)) or 0)
        for part in _needs_checking_parts()
    )


def approvals_waiting() -> int:
    """Cash-ins awaiting anyone's approval (the list's link to the approvals page)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Cashin)
            .where(Cashin.status == CashinState.AWAITING_APPROVAL)
        )
        or 0
    )


# The menu's badge counts no further: past it, it says "99+" (base.html).
APPROVALS_BADGE_BOUND = 100


def approvals_waiting_for(user: User) -> int:
    """Cash-ins this person may approve: waiting, and prepared by someone else (the only rule
    ``approve_cashin`` has about who approves; a refund away from the payer's account waits
    like any other). On every accountant page, so read through ix_cashins_status_created_at
    and counted no further than ``APPROVALS_BADGE_BOUND``."""
    waiting = (
        select(Cashin.id)
        .where(Cashin.status == CashinState.AWAITING_APPROVAL, Cashin.created_by_id != user.id)
        .limit(APPROVALS_BADGE_BOUND)
    )
    return int(db.session.scalar(select(func.count()).select_from(waiting.subquery())) or 0)


def cashins_needing_checking(limit: int = 200) -> list[Cashin]:
    """The cash-ins the needs-checking banner counts (oldest first)."""
    query = select(Cashin).where(_needs_checking_condition()).order_by(Cashin.id).limit(limit)
    return list(db.session.scalars(query))


def approvers_of(cashin: Cashin) -> list[User]:
    """Who may approve this cash-in (the rule of ``approve_cashin`` and its view: an active
    accountant or admin who did not prepare it), for the e-mail asking them to."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.role.in_((Role.ACCOUNTANT, Role.ADMIN)),
                User.id != cashin.created_by_id,
            )
            .order_by(User.id)
        )
    )


def approval_queue() -> list[Cashin]:
    return list(
        db.session.scalars(
            select(Cashin)
            .where(Cashin.status == CashinState.AWAITING_APPROVAL)
            .order_by(Cashin.created_at, Cashin.id)
        )
    )


def audit_trail_of(cashin: Cashin) -> list[Any]:
    from dashboard.models import AuditEvent

    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "cashin",
                AuditEvent.object_id == cashin.merchant_reference,
            )
            .order_by(AuditEvent.id)
        )
    )
