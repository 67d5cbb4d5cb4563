"""Issuing bills and following them until they are paid (or not). Shared by views and the CLI."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Table,
    and_,
    bindparam,
    insert,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from dashboard import audit
from dashboard import messages as msg
from dashboard.background.jobs import add_job
from dashboard.customers import services as customers
from dashboard.db import commit_keeping, db, utcnow
from dashboard.gateway import gateway
from dashboard.ihela import (
    BillStatus,
    GatewayRejected,
    IhelaError,
    OutcomeUnknown,
)
from dashboard.models import (
    STUCK_AFTER,
    Bill,
    BillEvent,
    BillLine,
    BillState,
    PriceItem,
    Role,
    User,
)

log = logging.getLogger(__name__)
# Statements of every bill issued or moved, built once (building one, and its cache key,
# costs more than running it): each run binds its values.
_BILLS: Table = Bill.__table__  # type: ignore[assignment]
_BILL_EVENTS: Table = BillEvent.__table__  # type: ignore[assignment]
_ADD_BILL_EVENT = insert(_BILL_EVENTS)
_ADD_BILL = insert(_BILLS).returning(_BILLS.c.id)
_BILL_COLUMNS = tuple(column.key for column in _BILLS.columns if column.key != "id")
_ADD_BILL_LINE = insert(BillLine.__table__)  # type: ignore[arg-type]
_WRITE_BILL = update(_BILLS).where(_BILLS.c.id == bindparam("bill_id_"))
# Only while the row still has the state this request saw (see _change_state).
_MOVE_BILL = _WRITE_BILL.where(_BILLS.c.status == bindparam("status_seen_"))

PAYER_KINDS = {
    "email": _l("iHela e-mail"),
    "phone": _l("Phone number"),
    "username": _l("iHela username"),
    "code": _l("iHela client code"),
}
DESCRIPTION_MAX = 160
# The gateway's names for the bill fields, mapped to the names on our form.
GATEWAY_FIELDS = {
    "amount": "amount",
    "user": "payer",
    "description": "description",
    "bank": "bank_slug",
    "bank_client_id": "bank_client_id",
}
STATE_BY_GATEWAY = {
    BillStatus.PENDING: BillState.PENDING,
    BillStatus.PAID: BillState.PAID,
    BillStatus.EXPIRED: BillState.EXPIRED,
    BillStatus.CANCELLED: BillState.CANCELLED,
    BillStatus.FAILED: BillState.FAILED,
}
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
_WHOLE_REFERENCE = re.compile(r"[Bb]\d{6}-[A-Za-z2-9]{6}")
_WHOLE_CODE = re.compile(r"(BILL|bill|CODE|code)-\d{8}-[A-Za-z0-9]{7,10}")
# States in which a bill that has an iHela code is still asked about: pending, and unknown
# (iHela's code came to be known, e.g. typed by staff, so what it says can be read).
FOLLOWED_STATES = (BillState.PENDING, BillState.UNKNOWN)
# Why a bill failed, stored as a code and rendered in the reader's language.
FAILURE_REASONS = {
    "unsafe_confirmation_uri": _l(
        "iHela sent a payment link that is not a secure (https) address; it is not shown to "
        "customers. Nothing is owed on this bill: issue it again or contact iHela."
    ),
}


class BillInputError(ValueError):
    """Input the bill cannot be issued with; ``errors`` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class BillLineRequest:
    """A line of a bill as priced when it is issued (an item's price now, or a free line)."""

    name: str
    unit_price: int
    quantity: int
    item_id: int | None = None

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class BillRequest:
    amount: int
    payer_kind: str
    payer: str
    description: str
    bank_slug: str | None = None
    bank_client_id: str | None = None
    lines: tuple[BillLineRequest, ...] = ()


def compose_description(lines: tuple[BillLineRequest, ...], limit: int = DESCRIPTION_MAX) -> str:
    """What a bill of lines is for, as iHela shows it to the payer: ``2 x Rice, Oil``, cut at a
    whole line and ending ``(+3)`` when the rest does not fit. Plain characters only: the text
    also goes out by SMS. The full lines stay with the bill."""
    parts = [f"{line.quantity} x {line.name}" if line.quantity > 1 else line.name for line in lines]
    text = ""
    for shown, part in enumerate(parts):
        candidate = f"{text}, {part}" if text else part
        left = len(parts) - shown - 1
        room = limit - (len(f" (+{left})") if left else 0)
        if len(candidate) > room:
            more = f" (+{len(parts) - shown})"
            return (text + more) if text else (part[: limit - len(more) - 3] + "..." + more)
        text = candidate
    return text


def new_merchant_reference() -> str:
    """Unique, short and readable over a phone: ``B261129-K7Q2XM``."""
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
    return f"B{utcnow():%y%m%d}-{suffix}"


def normalise_payer(kind: str, payer: str) -> str:
    """Check the payer is what it claims to be and put it in the gateway's form."""
    payer = payer.strip()
    if kind not in PAYER_KINDS:
        raise BillInputError({"payer_kind": [_("Choose how the payer is identified.")]})
    if not payer:
        raise BillInputError({"payer": [_("Enter the payer.")]})
    if kind == "email":
        try:
            return validate_email(payer, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise BillInputError({"payer": [_("Enter a valid e-mail address.")]}) from None
    if kind == "phone":
        digits = re.sub(r"[\s().-]", "", payer)
        digits = re.sub(r"^(\+|00)?257", "", digits)
        if not re.fullmatch(r"[2-9]\d{7}", digits):
            raise BillInputError(
                {"payer": [_("A Burundi phone number has 8 digits, e.g. 79 123 456.")]}
            )
        return digits
    if kind == "username":
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{2,39}", payer):
            raise BillInputError(
                {"payer": [_("A username starts with a letter: letters, digits, . _ - (3 to 40).")]}
            )
        return payer
    if payer.isdigit() and len(payer) > 12:
        too_long = _(
            "Too many digits: a Burundi phone number has 8, an iHela client code 12 at most."
        )
        raise BillInputError({"payer": [too_long]})
    if not re.fullmatch(r"\d{1,12}", payer):
        raise BillInputError({"payer": [_("An iHela client code is digits only.")]})
    return payer


def guess_payer_kind(payer: str) -> str:
    """What a cashier typed: an e-mail, a Burundi phone number, a client code or a username."""
    text = payer.strip()
    if "@" in text:
        return "email"
    digits = re.sub(r"[\s().+-]", "", text)
    if digits.isdigit():
        local = re.sub(r"^(00)?257", "", digits)
        return "phone" if re.fullmatch(r"[2-9]\d{7}", local) else "code"
    return "username"


def payer_problems(kind: str, payer: str) -> dict[str, list[str]]:
    """What is wrong with the payer alone (nothing when it is fine): said together with an
    amount's problem, so a person corrects both at once rather than one after the other."""
    try:
        normalise_payer(kind, payer)
    except BillInputError as exc:
        return exc.errors
    return {}


def check_bill_request(
    request: BillRequest, *, minimum: int, maximum: int, known_banks: set[str] | None = None
) -> BillRequest:
    """Every rule a bill must meet before it is sent; raises with all problems at once."""
    errors: dict[str, list[str]] = {}
    if request.lines:
        total = sum(line.amount for line in request.lines)
        if request.amount != total:
            total_text = f"{total:,} FBu".replace(",", " ")
            errors["amount"] = [
                _("The lines add up to %(amount)s: the amount must be that.", amount=total_text)
            ]
    if request.amount < minimum:
        smallest = f"{minimum:,} FBu".replace(",", " ")
        errors["amount"] = [_("The smallest amount is %(amount)s.", amount=smallest)]
    elif request.amount > maximum:
        largest = f"{maximum:,} FBu".replace(",", " ")
        errors["amount"] = [_("The largest bill is %(amount)s.", amount=largest)]
    payer = request.payer
    try:
        payer = normalise_payer(request.payer_kind, request.payer)
    except BillInputError as exc:
        errors.update(exc.errors)
    description = " ".join(request.description.split())
    if not description and request.lines:
        description = compose_description(request.lines)
    if not description:
        errors["description"] = [_("Say what the bill is for.")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            _("Keep the description under %(max)d characters.", max=DESCRIPTION_MAX)
        ]
    bank_slug = request.bank_slug or None
    if bank_slug and known_banks is not None and bank_slug not in known_banks:
        errors["bank_slug"] = [_("Choose a bank from the list.")]
    bank_client_id = (request.bank_client_id or "").strip() or None
    if bank_client_id and not bank_slug:
        errors["bank_client_id"] = [_("Choose the payer's bank too, or leave this empty.")]
    if errors:
        raise BillInputError(errors)
    return BillRequest(
        request.amount,
        request.payer_kind,
        payer,
        description,
        bank_slug,
        bank_client_id,
        request.lines,
    )


def find_by_form_token(token: str) -> Bill | None:
    return db.session.scalar(select(Bill).where(Bill.form_token == token))


def _form_token_and_payer(
    token: str, kind: str, payer: str
) -> tuple[int | None, customers.KnownPayer | None]:
    """In one round trip: the bill this form already issued (a second submission), and the
    payer's customer when billed before, with every identifier it is known by."""
    rows = db.session.execute(
        _FORM_TOKEN_AND_PAYER, {"form_token_": token, "kind_": kind, "value_": payer}
    ).all()
    existing = next((row.bill_id for row in rows if row.bill_id is not None), None)
    return existing, customers.known_payer_from([row[1:] for row in rows if row.bill_id is None])


def _form_token_and_payer_statement() -> CompoundSelect[Any]:
    submitted = select(
        _BILLS.c.id.label("bill_id"),
        null().label("customer_id"),
        null().label("kind"),
        null().label("value"),
    ).where(_BILLS.c.form_token == bindparam("form_token_"))
    payer_rows = customers.known_payer_rows(bindparam("kind_"), bindparam("value_"))
    payer_rows = payer_rows.with_only_columns(null().label("bill_id"), *payer_rows.selected_columns)
    return union_all(submitted, payer_rows)


_FORM_TOKEN_AND_PAYER = _form_token_and_payer_statement()


def _change_state(
    bill: Bill,
    new: BillState,
    *,
    actor: User | None,
    actor_label: str,
    note: str = "",
    values: dict[str, Any] | None = None,
) -> bool:
    """Move the bill from the state this request saw to ``new``, with one history row.

    A conditional UPDATE (only while the row still has that state): of requests that learnt the
    same news together (callbacks, polls, the display), one writes the change and its history
    row; the others find it done and write nothing. Returns whether this one changed it.

    ``values``: other columns of the bill (what iHela said), written in that same UPDATE; they
    are written whether or not the state moves."""
    old = bill.status
    values = values or {}
    if old == new:
        for name, value in values.items():
            setattr(bill, name, value)
        return False
    now = utcnow()
    db.session.flush()  # changes made through the object first (nothing, most often)
    row = {"bill_id_": bill.id, "updated_at": now, **values}
    moved = db.session.execute(_MOVE_BILL, {**row, "status_seen_": old, "status": new})
    if getattr(moved, "rowcount", 0) != 1:
        if values:  # what iHela said is kept all the same: only the state is the other's
            db.session.execute(_WRITE_BILL, row)
        db.session.refresh(bill)  # another request moved it first: show what it wrote
        return False
    # The object says what the row now holds (a commit may keep it: db.commit_keeping).
    set_committed_value(bill, "status", new)
    set_committed_value(bill, "updated_at", now)
    for name, value in values.items():
        set_committed_value(bill, name, value)
    if new == BillState.PAID:
        customers.record_paid(bill)
    # The history and audit rows go out now, each one INSERT (no objects for a flush): every
    # caller commits next.
    db.session.execute(
        _ADD_BILL_EVENT,
        {
            "bill_id": bill.id,
            "from_status": old,
            "to_status": new,
            "actor_id": actor.id if actor else None,
            "actor_label": actor_label,
            "note": note,
        },
    )
    if "events" in bill.__dict__:  # the history read before: read again when next shown
        db.session.expire(bill, ["events"])
    audit.record(
        "bill.status_changed",
        actor=actor,
        actor_label=actor_label,
        object_type="bill",
        object_id=bill.merchant_reference,
        summary=_status_summary(old, new, note),
        now=True,  # one INSERT now (every caller commits next): no object for a flush
    )
    if new == BillState.PAID:  # its issuer and payer may be told (background/tasks.py), once
        add_job("notify.bill_paid", f"bill_paid:{bill.id}", {"bill_id": bill.id})
    return True


def _status_summary(old: str, new: str, note: str) -> str:
    states = {"old": {"bill_state": old}, "new": {"bill_state": new}}
    if not note:
        return msg.coded("audit.bill_status", **states)
    shown = msg.decode(note) or note  # notes written before codes are kept as they are
    return msg.coded("audit.bill_status_note", **states, note=shown)


def issue_bill(
    request: BillRequest,
    *,
    by: User,
    form_token: str,
    return_url: Callable[[str], str],
    retry_of: Bill | None = None,
    poster_id: int | None = None,
) -> Bill:
    """Commit the bill, then ask iHela for it, and record whatever happened.

    The row exists before the call, so nothing is lost if the call or the process dies. A second
    submission of the same form (double click, two tabs, back button) returns the first bill.
    """
    # A payer billed before: the bill's row is written with its customer (no second UPDATE).
    existing_id, known = _form_token_and_payer(form_token, request.payer_kind, request.payer)
    if existing_id is not None and (existing := db.session.get(Bill, existing_id)) is not None:
        return existing
    public_token = secrets.token_urlsafe(16)
    reference = new_merchant_reference()
    now = utcnow()
    # Every column, so the object made from it below holds the whole row (nothing to read).
    row: dict[str, Any] = dict.fromkeys(_BILL_COLUMNS)
    row.update(
        merchant_reference=reference,
        form_token=form_token,
        public_token=public_token,
        amount=request.amount,
        payer=request.payer,
        payer_kind=request.payer_kind,
        description=request.description,
        bank_slug=request.bank_slug,
        bank_client_id=request.bank_client_id,
        status=BillState.CREATING,
        issued_by_id=by.id,
        retry_of_id=retry_of.id if retry_of else None,
        poster_id=poster_id,
        customer_id=known.customer_id if known is not None else None,
        created_at=now,
        updated_at=now,
        refund_reserved=0,
    )
    try:
        # One INSERT (no object for a flush to work out); a second submission of the form
        # meets the unique form token.
        bill_id = db.session.execute(_ADD_BILL, row).scalar_one()
    except IntegrityError:
        db.session.rollback()
        existing = find_by_form_token(form_token)
        if existing is None:
            raise
        return existing
    # The bill as a loaded object, from the row just written.
    bill = Bill(id=bill_id, **row)
    make_transient_to_detached(bill)
    db.session.add(bill)
    if request.lines:
        db.session.execute(
            _ADD_BILL_LINE,
            [
                {
                    "bill_id": bill_id,
                    "position": position,
                    "item_id": line.item_id,
                    "name": line.name,
                    "unit_price": line.unit_price,
                    "quantity": line.quantity,
                }
                for position, line in enumerate(request.lines)
            ],
        )
    # Its history and audit rows: one INSERT each (no objects for the flush).
    db.session.execute(
        _ADD_BILL_EVENT,
        {
            "bill_id": bill.id,
            "from_status": None,
            "to_status": BillState.CREATING,
            "actor_id": by.id,
            "actor_label": by.email,
            "note": msg.coded("note.retry_of", reference=retry_of.merchant_reference)
            if retry_of
            else "",
        },
    )
    audit.record(
        "bill.created",
        actor=by,
        object_type="bill",
        object_id=reference,
        summary=msg.coded(
            "audit.bill_created",
            amount=msg.money(request.amount),
            payer=request.payer,
            description=request.description,
        ),
        now=True,
    )
    customers.record_bill(bill, known)
    used = [line.item_id for line in request.lines if line.item_id is not None]
    if used:  # the most used items are offered first
        db.session.execute(
            update(PriceItem).where(PriceItem.id.in_(used)).values(uses=PriceItem.uses + 1)
        )
    # The bill and its issuer are used again below and by the page that follows: kept, not
    # read back (the bill was made from the values written; any later change went through it).
    commit_keeping(bill, by)

    try:
        result = gateway().init_bill(
            request.amount,
            request.payer,
            request.description,
            reference,
            bank=request.bank_slug,
            bank_client_id=request.bank_client_id,
            redirect_uri=return_url(public_token),
        )
    except GatewayRejected as exc:
        bill.field_errors = {
            GATEWAY_FIELDS.get(k, "__all__"): v for k, v in exc.field_errors.items()
        } or None
        bill.last_error = msg.coded(msg.gateway_error(exc))
        bill.gateway_reply = exc.raw
        _change_state(
            bill, BillState.REJECTED, actor=None, actor_label="iHela", note=bill.last_error
        )
    except OutcomeUnknown as exc:
        bill.last_error = msg.coded(msg.gateway_error(exc))
        _change_state(
            bill, BillState.UNKNOWN, actor=None, actor_label="iHela", note=bill.last_error
        )
    except IhelaError as exc:
        bill.last_error = msg.coded([*msg.gateway_error(exc), msg.message("bill.not_created")])
        _change_state(
            bill, BillState.FAILED, actor=None, actor_label="dashboard", note=bill.last_error
        )
    except Exception:
        # The request may have reached iHela: say so rather than leave the bill "creating".
        log.exception("bill %s: unexpected error during init", bill.merchant_reference)
        db.session.rollback()
        db.session.refresh(bill)
        bill.last_error = msg.coded("bill.dashboard_failed")
        _change_state(
            bill,
            BillState.UNKNOWN,
            actor=None,
            actor_label="dashboard",
            note=msg.coded("note.unexpected_error"),
        )
    else:
        said: dict[str, Any] = {
            "code": result.code,
            "raw_status": result.raw_status,
            "gateway_reply": result.raw,
            "payment_reference": result.payment_reference,
            "last_checked_at": utcnow(),
        }
        # v2 bills come without a link (the payer confirms in the iHela app): nothing to refuse.
        if not result.confirmation_uri or is_safe_payment_link(result.confirmation_uri):
            said["confirmation_uri"] = result.confirmation_uri
            new_state = STATE_BY_GATEWAY.get(result.status, BillState.PENDING)
            note = msg.coded("note.bill_code", code=result.code)
        else:
            # A link we would put in a QR code and send by WhatsApp must not be javascript:,
            # plain http to the internet, or anything a phone would open somewhere unexpected.
            log.warning("bill %s: unsafe confirmation_uri refused", bill.merchant_reference)
            said["failure_code"] = "unsafe_confirmation_uri"
            new_state = BillState.FAILED
            note = msg.coded("note.bill_unsafe_link", code=result.code)
        # The identifiers read with the form token: a payer billed before costs no read here.
        customers.learn_identity(bill, identifiers=result.payer_identity, known=known)
        # What iHela said and the new state: one UPDATE.
        _change_state(bill, new_state, actor=None, actor_label="iHela", note=note, values=said)
    commit_keeping(bill, by)
    return bill


def is_safe_payment_link(uri: str | None) -> bool:
    """https to any host, or http to a loopback host (the sandbox on this machine)."""
    if not uri or any(c.isspace() or ord(c) < 32 for c in uri):
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def failure_reason(bill: Bill) -> str | None:
    """The sentence for a stored failure code, in the reader's language."""
    reason = FAILURE_REASONS.get(bill.failure_code or "")
    return str(reason) if reason is not None else None


def refusal_by_field(bill: Bill) -> dict[str, list[str]]:
    """iHela's refusal of a bill, field by field (form field names), in the reader's language
    (words the dashboard does not know are quoted as iHela's); ``__all__`` for the rest."""
    if bill.field_errors:
        return {
            name: [msg.gateway_text(text, html=True) for text in texts]
            for name, texts in bill.field_errors.items()
        }
    return {"__all__": [msg.render_html(bill.last_error)]}


def link_bill_code(bill: Bill, code: str, *, by: User) -> Bill:
    """Follow an unknown bill after all: staff type the iHela bill code the customer received,
    and iHela must confirm that code belongs to this bill's reference."""
    code = code.strip().upper()
    if not bill.outcome_unknown:
        raise BillInputError({"code": [_("This bill is already followed.")]})
    if not _WHOLE_CODE.fullmatch(code):
        raise BillInputError(
            {"code": [_("An iHela bill code looks like BILL-20261129-AB12CD34EF.")]}
        )
    if db.session.scalar(select(Bill.id).where(Bill.code == code, Bill.id != bill.id)) is not None:
        raise BillInputError({"code": [_("Another bill already has this iHela code.")]})
    try:
        check = gateway().verify_bill(code, bill.merchant_reference)
    except GatewayRejected:
        raise BillInputError(
            {
                "code": [
                    _(
                        "iHela does not know this code with our reference %(reference)s.",
                        reference=bill.merchant_reference,
                    )
                ]
            }
        ) from None
    except IhelaError as exc:
        said = msg.coded([msg.message("bill.check_failed"), *msg.gateway_error(exc)])
        raise BillInputError({"code": [msg.render(said)]}) from None
    bill.code = code
    bill.last_error = None
    bill.raw_status = check.raw_status
    bill.last_checked_at = utcnow()
    if check.bank_reference:
        bill.payment_reference = check.bank_reference
    new_state = STATE_BY_GATEWAY.get(check.status, BillState.PENDING)
    _change_state(
        bill,
        new_state,
        actor=by,
        actor_label=by.email,
        note=msg.coded("note.code_confirmed", code=code),
    )
    db.session.commit()
    return bill


def retry_bill(bill: Bill, *, by: User, form_token: str, return_url: Callable[[str], str]) -> Bill:
    """Issue an unknown or failed bill again, under a new reference (never the old one)."""
    if not (bill.outcome_unknown or bill.state == BillState.FAILED):
        raise BillInputError(
            {"__all__": [_("Only a bill whose outcome is unknown or failed can be issued again.")]}
        )
    request = BillRequest(
        bill.amount,
        bill.payer_kind,
        bill.payer,
        bill.description,
        bill.bank_slug,
        bill.bank_client_id,
        tuple(
            BillLineRequest(line.name, line.unit_price, line.quantity, line.item_id)
            for line in bill.lines
        ),
    )
    return issue_bill(
        request,
        by=by,
        form_token=form_token,
        return_url=return_url,
        retry_of=bill,
        poster_id=bill.poster_id,
    )


def outcome_unknown_clause() -> ColumnElement[bool]:
    """Unknown, or still "creating" long after any gateway call would have ended."""
    return or_(
        Bill.status == BillState.UNKNOWN,
        and_(Bill.status == BillState.CREATING, Bill.created_at < utcnow() - STUCK_AFTER),
    )


# What a person found out about an unknown bill that cannot be followed (no iHela code).
SETTLED_OUTCOMES = {
    "paid": BillState.PAID,  # iHela (or the customer's receipt) shows this request was paid
    "not_paid": BillState.FAILED,  # iHela has no such bill, or it can no longer be paid
}


def first_request_may_be_paid(bill: Bill) -> bool:
    """An unknown bill the dashboard cannot follow: iHela may have created it and the customer
    may pay it, and nothing here would see it (neither dialect finds a bill by our reference
    alone: see tests/gateway/test_bill_lookup_by_reference.py)."""
    return bill.outcome_unknown and bill.code is None


def unsettled_original(bill: Bill) -> Bill | None:
    """For a bill issued again by *Try again*: the first one, while it may still be paid."""
    if bill.retry_of_id is None:
        return None
    original = db.session.get(Bill, bill.retry_of_id)
    return original if original is not None and first_request_may_be_paid(original) else None


def settle_unknown_bill(
    bill: Bill, outcome: str, note: str, *, by: User, reference: str = ""
) -> Bill:
    """A person checked with iHela (or the customer) what became of an unknown bill nobody
    can follow, and records it with a note: paid, or not paid (it will not be)."""
    note = " ".join(note.split())
    reference = " ".join(reference.split())
    errors: dict[str, list[str]] = {}
    new = SETTLED_OUTCOMES.get(outcome)
    if new is None:
        errors["outcome"] = [_("Say whether the customer paid this request.")]
    elif new == BillState.PAID and not by.has_role(Role.ACCOUNTANT):
        # Paid makes the bill refundable: money can leave on it.
        errors["outcome"] = [_("An accountant or an admin records that it was paid.")]
    if len(note) < 5:
        errors["note"] = [_("Write what you checked and what you found (who, when, reference).")]
    elif len(note) > 500:
        errors["note"] = [_("Keep the note under 500 characters.")]
    if len(reference) > 80:
        errors["reference"] = [_("Keep the reference under 80 characters.")]
    if errors:
        raise BillInputError(errors)
    assert new is not None
    if not first_request_may_be_paid(bill):
        raise BillInputError({"__all__": [_("Somebody already settled this bill.")]})
    old = bill.status
    said = msg.coded(
        "note.settled_paid" if new == BillState.PAID else "note.settled_not_paid",
        name=by.name,
        note=note,
    )
    # A failed bill's banner says its last error: now what the person found, not "unknown".
    values: dict[str, Any] = {
        "status": new,
        "last_error": said if new == BillState.FAILED else None,
        "updated_at": utcnow(),
    }
    if new == BillState.PAID and reference:
        values["payment_reference"] = reference
    # Only one person settles it, however many click at once: the others change nothing.
    settled = db.session.execute(
        update(Bill)
        .where(Bill.id == bill.id, Bill.code.is_(None), outcome_unknown_clause())
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(settled, "rowcount", 0):
        db.session.rollback()
        db.session.refresh(bill)
        raise BillInputError({"__all__": [_("Somebody already settled this bill.")]})
    if new == BillState.PAID:
        customers.record_paid(bill)
    db.session.add(
        BillEvent(
            bill_id=bill.id,
            from_status=old,
            to_status=new,
            actor_id=by.id,
            actor_label=by.email,
            note=said,
        )
    )
    audit.record(
        "bill.unknown_settled",
        actor=by,
        object_type="bill",
        object_id=bill.merchant_reference,
        summary=_status_summary(old, new, said),
    )
    db.session.commit()
    db.session.refresh(bill)
    return bill


def _claim_check(bill: Bill, min_interval: float, keep: User | None = None) -> bool:
    """Atomically take the right to verify this bill now; false if someone did it just now.

    When taken, ``bill`` holds the row as the claim left it (RETURNING: no read after the
    commit); ``keep`` (the person asking) is not read back either."""
    now = utcnow()
    cutoff = now - timedelta(seconds=min_interval)
    claimed = db.session.scalars(
        update(Bill)
        .where(
            Bill.id == bill.id,
            Bill.status.in_(FOLLOWED_STATES),
            Bill.code.is_not(None),
            or_(Bill.last_checked_at.is_(None), Bill.last_checked_at < cutoff),
        )
        .values(last_checked_at=now)
        .returning(Bill)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    commit_keeping(*claimed, keep)
    return bool(claimed)


def _checked_recently(bill: Bill, min_interval: float) -> bool:
    return bill.last_checked_at is not None and (
        utcnow() - bill.last_checked_at < timedelta(seconds=min_interval)
    )


def is_followed(bill: Bill) -> bool:
    """Whether iHela is still asked about this bill (pending, or unknown with a known code)."""
    return bill.code is not None and bill.state in FOLLOWED_STATES


def refresh_bill_status(
    bill: Bill, *, actor: User | None, actor_label: str, min_interval: float
) -> bool:
    """Ask iHela about a followed bill, at most once per ``min_interval`` whoever asks.

    Returns whether a verify call was made. A failed call leaves the bill as it was, with the error.
    """
    # Most polls come too soon: answer them from the row without writing to the database.
    if not is_followed(bill) or _checked_recently(bill, min_interval):
        return False
    if not _claim_check(bill, min_interval, keep=actor):
        db.session.refresh(bill)
        return False
    if actor is not None:  # a person asked (automatic checks would flood the trail)
        audit.record(
            "bill.refreshed",
            actor=actor,
            object_type="bill",
            object_id=bill.merchant_reference,
            summary=msg.coded("audit.bill_checked"),
        )
    assert bill.code is not None
    try:
        check = gateway().verify_bill(bill.code, bill.merchant_reference)
    except IhelaError as exc:
        bill.last_error = msg.coded([msg.message("bill.check_failed"), *msg.gateway_error(exc)])
        commit_keeping(bill, actor)
        return True
    bill.last_error = None
    bill.raw_status = check.raw_status
    if check.bank_reference:
        bill.payment_reference = check.bank_reference
    if check.payer_name:
        bill.payer_name = check.payer_name
        customers.learn_identity(bill, name=check.payer_name)
    new_state = STATE_BY_GATEWAY.get(check.status)
    if new_state is None:
        bill.last_error = msg.coded("bill.unknown_status", status=repr(check.raw_status))
    else:
        note = msg.coded("gw.said", text=msg.gateway_said(check.message)) if check.message else ""
        if new_state == BillState.PAID and check.bank_reference:
            note = msg.coded("note.bank_reference", reference=check.bank_reference)
        _change_state(bill, new_state, actor=actor, actor_label=actor_label, note=note)
    # The page shows this bill next: kept as written, not read back.
    commit_keeping(bill, actor)
    return True


def check_for_returning_payer(bill: Bill, *, min_interval: float) -> bool:
    """The payer is back from iHela's page, having just paid (or not): the page must say what
    happened. An answer from a moment ago (another tab, the counter's poll) predates the payment,
    so the first return asks iHela itself at once, whatever the coalescing window; later visits
    of that page (reloads, anyone with the link) share the window like every other poll."""
    if not is_followed(bill):
        return False
    first = db.session.execute(
        update(Bill)
        .where(Bill.id == bill.id, Bill.payer_returned_at.is_(None))
        .values(payer_returned_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    once = bool(getattr(first, "rowcount", 0))
    return refresh_bill_status(
        bill,
        actor=None,
        actor_label="payer returned",
        min_interval=0 if once else min_interval,
    )


def refresh_pending(*, min_age_seconds: float, limit: int = 500) -> tuple[int, int]:
    """Verify followed bills (pending, or unknown with a known iHela code) not checked for
    ``min_age_seconds``: for cron and the `make run` launcher. Returns (checked, changed)."""
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    bills = db.session.scalars(
        select(Bill)
        .where(
            Bill.status.in_(FOLLOWED_STATES),
            Bill.code.is_not(None),
            or_(Bill.last_checked_at.is_(None), Bill.last_checked_at < cutoff),
        )
        .order_by(Bill.last_checked_at.is_not(None), Bill.last_checked_at)
        .limit(limit)
    ).all()
    checked = changed = 0
    for bill in bills:
        before = bill.status
        if refresh_bill_status(bill, actor=None, actor_label="cron", min_interval=min_age_seconds):
            checked += 1
            changed += bill.status != before
    return checked, changed


# iHela's usual lifetimes (no reply states one): a week, minutes when pushed to mobile money.
BILL_LIFETIME = timedelta(days=7)
MOBILE_MONEY_BILL_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class BillExpiry:
    at: datetime
    expected: bool  # True: iHela's usual lifetime from issue; False: when it was seen expired


def bill_expiry(bill: Bill) -> BillExpiry | None:
    """When a bill stops being payable: when it expired, or when iHela usually expires it."""
    if bill.state == BillState.EXPIRED:
        seen = next((e.created_at for e in bill.events if e.to_status == BillState.EXPIRED), None)
        return BillExpiry(seen, expected=False) if seen else None
    if bill.code is None or bill.state not in FOLLOWED_STATES:
        return None
    mobile = (bill.bank_slug or "").upper().startswith("MOB")
    lifetime = MOBILE_MONEY_BILL_LIFETIME if mobile else BILL_LIFETIME
    return BillExpiry(bill.created_at + lifetime, expected=True)


def get_bill(bill_id: int) -> Bill | None:
    return db.session.get(Bill, bill_id)


def get_bill_by_public_token(token: str) -> Bill | None:
    return db.session.scalar(select(Bill).where(Bill.public_token == token))
