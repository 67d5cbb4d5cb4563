"""Whole-franc amounts: BIF has no minor units, so money is an ``int`` everywhere."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal

CURRENCY = "BIF"


class AmountError(ValueError):
    """An amount that is not a whole, positive number of francs."""


def _(text: str) -> str:
    """The message in the person's language; imported late, as the gateway client uses this
    module without Flask (outside an app, the text stays as written)."""
    from flask_babel import gettext

    return str(gettext(text))


_TYPED_AMOUNT = re.compile(r"^\d{1,15}$")


def parse_typed_amount(text: str) -> int:
    """Read what a person typed ("20 000", "20,000", "20000") as whole francs.

    Spaces (also the narrow no-break space of French formatting), commas and dots used as
    thousands separators are accepted; a decimal part is refused, even ",00", because it would
    suggest the currency has cents.
    """
    cleaned = text.strip().replace("\u202f", " ").replace("\u00a0", " ")
    cleaned = re.sub(r"\s*(FBu|BIF|Fbu|fbu)\s*$", "", cleaned, flags=re.IGNORECASE).strip()
    cleaned = re.sub(r"^(FBu|BIF)\s*", "", cleaned, flags=re.IGNORECASE).strip()
    if not cleaned:
        raise AmountError(_("Enter an amount."))
    if cleaned.startswith("-"):
        raise AmountError(_("The amount must be more than zero."))
    if re.fullmatch(r"\d{1,3}([ ,.]\d{3})+", cleaned):
        cleaned = re.sub(r"[ ,.]", "", cleaned)
    if re.search(r"[.,]\d{1,2}$", cleaned):
        raise AmountError(_("Francs have no cents: enter a whole number."))
    if cleaned.isdigit() and not _TYPED_AMOUNT.match(cleaned):
        raise AmountError(_("That amount is far too large."))
    if not _TYPED_AMOUNT.match(cleaned):
        raise AmountError(_("Enter the amount in digits, whole francs only."))
    value = int(cleaned)
    if value <= 0:
        raise AmountError(_("The amount must be more than zero."))
    return value


def amount_from_wire(value: object) -> int:
    """Parse the gateway's amount ("2000.00", "2000" or 2000) into whole francs.

    A fraction is refused rather than rounded: silently dropping money is worse than failing.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError(f"Not an amount: {value!r}")
    if isinstance(value, int):
        number = Decimal(value)
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise AmountError(f"Not an amount: {value!r}") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise AmountError(f"Not a whole number of francs: {value!r}")
    return int(number)


def amount_to_wire(amount: int) -> str:
    """The form value the gateway expects for an amount."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError(f"Amounts are whole francs, not {type(amount).__name__}")
    return str(amount)


def format_amount(amount: int, locale: str = "fr") -> str:
    """Show whole francs the way people read them: ``2 000 FBu`` (fr) or ``BIF 2,000`` (en)."""
    digits = format_decimal(amount, format="#,##0", locale=locale)
    if locale.startswith("en"):
        return f"BIF\u00a0{digits}"
    return f"{digits}\u00a0FBu"
