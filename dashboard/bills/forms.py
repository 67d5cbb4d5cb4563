from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from dashboard.bills.services import DESCRIPTION_MAX, PAYER_KINDS
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


class BillForm(FlaskForm):
    amount = AmountField("Amount (FBu)")
    payer_kind = SelectField(
        "Payer is identified by", choices=list(PAYER_KINDS.items()), default="email"
    )
    payer = StringField("Payer", validators=[Length(max=120)])
    description = TextAreaField(
        "What is it for?",
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                message=f"Keep the description under {DESCRIPTION_MAX} characters.",
            )
        ],
    )
    bank_slug = SelectField(
        "Payer's bank (optional)",
        choices=[("", "iHela Credit Union account")],
        validate_choice=False,
    )
    bank_client_id = StringField("Payer's id at that bank (optional)", validators=[Length(max=64)])
    form_token = HiddenField()


class ActionForm(FlaskForm):
    """Only the CSRF token (and a one-time token where a click must count once)."""

    form_token = HiddenField()
