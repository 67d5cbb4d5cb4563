"""Posters (admins) and the self-service bills customers issue through them. A self-service bill
is issued by the same rules as any bill (``issue_bill``), as the poster's counter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dashboard import audit, throttle
from dashboard import messages as msg
from dashboard.bills import services as bills
from dashboard.db import db, utcnow
from dashboard.models import Bill, Poster, Role, User
from dashboard.settings import setting

LABEL_MAX = 80
# A stranger must not send a flood of payment requests through this merchant, to anyone:
# so many bills per address, and fewer per payer, in a window (each one atomic in the database).
WINDOW = timedelta(minutes=10)
PER_ADDRESS = 10
PER_PAYER = 3


class PosterError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def _rule(free: int) -> throttle.Rule:
    seconds = WINDOW.total_seconds()
    return throttle.Rule(free=free, first_delay=seconds, max_delay=seconds, window=WINDOW)


def _checked(label: str, user_id: int | None) -> tuple[str, User]:
    label = " ".join(label.split())
    errors: dict[str, list[str]] = {}
    if not label:
        errors["label"] = [_("Name the shop or counter, as customers will see it.")]
    elif len(label) > LABEL_MAX:
        errors["label"] = [_("Keep the name under %(max)d characters.", max=LABEL_MAX)]
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.active or user.role not in (Role.CASHIER, Role.ACCOUNTANT):
        errors["user_id"] = [_("Choose the cashier whose counter shows these payments.")]
    if errors:
        raise PosterError(errors)
    assert user is not None
    return label, user


def create_poster(label: str, user_id: int | None, offers_items: bool, *, by: User) -> Poster:
    label, user = _checked(label, user_id)
    poster = Poster(
        label=label, user_id=user.id, offers_items=offers_items, active=True, created_by_id=by.id
    )
    db.session.add(poster)
    db.session.flush()
    audit.record(
        "poster.created",
        actor=by,
        object_type="poster",
        object_id=poster.id,
        summary=msg.coded("audit.poster_created", label=label, counter=user.name),
    )
    db.session.commit()
    return poster


def turn_off(poster: Poster, *, by: User) -> None:
    if not poster.active:
        return
    poster.active = False
    audit.record(
        "poster.turned_off",
        actor=by,
        object_type="poster",
        object_id=poster.id,
        summary=msg.coded("audit.poster_label", label=poster.label),
    )
    db.session.commit()


def replace(poster: Poster, *, by: User) -> Poster:
    """A new poster (new address, new QR) for the same counter; the old one says so."""
    new = Poster(
        label=poster.label,
        user_id=poster.user_id,
        offers_items=poster.offers_items,
        active=True,
        created_by_id=by.id,
    )
    db.session.add(new)
    db.session.flush()
    poster.active = False
    poster.replaced_by_id = new.id
    audit.record(
        "poster.replaced",
        actor=by,
        object_type="poster",
        object_id=poster.id,
        summary=msg.coded("audit.poster_replaced", label=poster.label, new=new.id),
    )
    db.session.commit()
    return new


def all_posters() -> list[Poster]:
    return list(db.session.scalars(select(Poster).order_by(Poster.active.desc(), Poster.id)))


def find(token: str) -> Poster | None:
    return db.session.scalar(select(Poster).where(Poster.token == token[:16]))


def payer_kind(payer: str) -> str:
    kind = bills.guess_payer_kind(payer)
    # The page asks for a phone or an e-mail: digits are a phone number.
    return "phone" if kind == "code" else kind


def issue_self_service(
    poster: Poster,
    amount: int,
    payer: str,
    lines: tuple[bills.BillLineRequest, ...],
    *,
    address: str | None,
    form_token: str,
    return_url: Callable[[str], str],
) -> Bill:
    """A customer's own bill through a poster: checked like any bill, limited per address and
    per payer before anything is sent, audited with the address it came from."""
    if not poster.active:
        raise bills.BillInputError({"__all__": [_("This poster no longer takes payments.")]})
    kind = payer_kind(payer)
    description = _("Payment at %(place)s", place=poster.label) if not lines else ""
    request = bills.check_bill_request(
        bills.BillRequest(amount, kind, payer, description, lines=lines),
        minimum=current_app.config["GATEWAY_MIN_AMOUNT"],
        maximum=_bill_maximum(),
    )
    for key, free, said in (
        (throttle.key("shop.address", address or "-"), PER_ADDRESS, "address"),
        (throttle.key("shop.payer", request.payer_kind, request.payer), PER_PAYER, "payer"),
    ):
        wait = throttle.claim(key, _rule(free))
        if wait:
            minutes = max(1, -(-wait // 60))
            text = (
                _(
                    "Too many payment requests from this connection. Try again in %(n)d min.",
                    n=minutes,
                )
                if said == "address"
                else _(
                    "Too many payment requests to this payer. Try again in %(n)d min.", n=minutes
                )
            )
            raise bills.BillInputError({"__all__" if said == "address" else "payer": [text]})
    user = db.session.get(User, poster.user_id)
    assert user is not None
    bill = bills.issue_bill(
        request, by=user, form_token=form_token, return_url=return_url, poster_id=poster.id
    )
    audit.record(
        "bill.self_service",
        actor_label="self-service",
        object_type="bill",
        object_id=bill.merchant_reference,
        summary=msg.coded(
            "audit.self_service",
            label=poster.label,
            amount=msg.money(bill.amount),
            payer=bill.payer,
        ),
    )
    db.session.commit()
    return bill


def _bill_maximum() -> int:
    return int(setting("BILL_MAX_AMOUNT"))


def arrivals(user: User, limit: int = 6) -> list[Bill]:
    """The latest self-service bills of this person's posters, today (the counter's panel)."""
    since = utcnow() - timedelta(hours=12)
    return list(
        db.session.scalars(
            select(Bill)
            .join(Poster, Bill.poster_id == Poster.id)
            .where(Poster.user_id == user.id, Bill.created_at >= since)
            .order_by(Bill.created_at.desc(), Bill.id.desc())
            .limit(limit)
        )
    )


def has_posters(user: User) -> bool:
    return (
        db.session.scalar(
            select(Poster.id).where(Poster.user_id == user.id, Poster.active.is_(True)).limit(1)
        )
        is not None
    )
