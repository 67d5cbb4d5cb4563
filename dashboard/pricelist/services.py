"""Managing the price list (admins) and offering its items while billing. Changing a price never
changes a bill already issued: its lines keep the price they had."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dashboard import audit
from dashboard import messages as msg
from dashboard.db import db
from dashboard.models import PriceItem, User

NAME_MAX = 80
OFFERED = 8


class ItemError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def name_problems(name: str) -> list[str]:
    """What is wrong with an item's name alone: said with a refused price's problem too."""
    name = " ".join(name.split())
    if not name:
        return [_("Name the item.")]
    if len(name) > NAME_MAX:
        return [_("Keep the name under %(max)d characters.", max=NAME_MAX)]
    return []


def _checked(name: str, price: int | None, maximum: int) -> tuple[str, int]:
    errors: dict[str, list[str]] = {}
    if problems := name_problems(name):
        errors["name"] = problems
    name = " ".join(name.split())
    if price is None:
        errors["price"] = [_("Enter a price.")]
    elif price > maximum:
        largest = f"{maximum:,} FBu".replace(",", " ")
        errors["price"] = [_("The largest bill is %(amount)s.", amount=largest)]
    if errors:
        raise ItemError(errors)
    assert price is not None
    return name, price


def _taken(name: str, but: int | None = None) -> bool:
    query = select(PriceItem.id).where(func.lower(PriceItem.name) == name.lower())
    if but is not None:
        query = query.where(PriceItem.id != but)
    return db.session.scalar(query) is not None


def create_item(name: str, price: int | None, *, maximum: int, by: User) -> PriceItem:
    name, price = _checked(name, price, maximum)
    if _taken(name):
        raise ItemError({"name": [_("An item of this name is already on the list.")]})
    item = PriceItem(name=name, price=price, active=True, uses=0)
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ItemError({"name": [_("An item of this name is already on the list.")]}) from None
    audit.record(
        "item.created",
        actor=by,
        object_type="item",
        object_id=item.id,
        summary=msg.coded("audit.item_created", name=name, price=msg.money(price)),
    )
    db.session.commit()
    return item


def update_item(
    item: PriceItem, name: str, price: int | None, active: bool, *, maximum: int, by: User
) -> PriceItem:
    name, price = _checked(name, price, maximum)
    if _taken(name, but=item.id):
        raise ItemError({"name": [_("An item of this name is already on the list.")]})
    old_price = item.price
    if (item.name, item.price, item.active) == (name, price, active):
        return item
    item.name, item.price, item.active = name, price, active
    audit.record(
        "item.changed",
        actor=by,
        object_type="item",
        object_id=item.id,
        summary=msg.coded(
            "audit.item_changed",
            name=name,
            old=msg.money(old_price),
            new=msg.money(price),
            state=msg.message("item.active" if active else "item.inactive"),
        ),
    )
    db.session.commit()
    return item


def offered_items(typed: str = "", limit: int = OFFERED) -> list[PriceItem]:
    """Active items for a bill: the most used first; those whose name holds what is typed."""
    query = select(PriceItem).where(PriceItem.active.is_(True))
    typed = " ".join(typed.split()).lower()[:NAME_MAX]
    if typed:
        escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(PriceItem.name).like(f"%{escaped}%", escape="\\"))
    return list(
        db.session.scalars(query.order_by(PriceItem.uses.desc(), PriceItem.name).limit(limit))
    )


def all_items() -> list[PriceItem]:
    return list(
        db.session.scalars(select(PriceItem).order_by(PriceItem.active.desc(), PriceItem.name))
    )
