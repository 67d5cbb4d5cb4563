from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from dashboard.bills.services import DESCRIPTION_MAX, PAYER_KINDS
from dashboard.forms import AmountField


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
