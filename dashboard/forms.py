"""Form fields shared by features."""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import ValidationError

from dashboard.money import AmountError, parse_typed_amount


class AmountField(StringField):
    """Whole francs typed by a person ("20 000"); ``.amount`` holds the int once valid."""

    amount: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.amount = None
        try:
            self.amount = parse_typed_amount(self.data or "")
        except AmountError as exc:
            raise ValidationError(str(exc)) from None
