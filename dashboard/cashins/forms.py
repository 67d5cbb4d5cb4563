from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from dashboard.cashins.services import DESCRIPTION_MAX, REASONS
from dashboard.forms import AmountField


class CashinForm(FlaskForm):
    bank_slug = SelectField("Receiving bank", choices=[], validate_choice=False)
    account = StringField("Account number", validators=[Length(max=64)])
    holder_name = StringField("Account holder's name", validators=[Length(max=160)])
    holder_verified = BooleanField("I checked this name with the customer (for example on an ID)")
    amount = AmountField("Amount (FBu)")
    description = TextAreaField(
        "Description (the receiver sees it)",
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                message=f"Keep the description under {DESCRIPTION_MAX} characters.",
            )
        ],
    )
    reason = SelectField("Reason", choices=list(REASONS.items()), default="payout")
    bill_id = HiddenField()
    form_token = HiddenField()


class ConfirmForm(FlaskForm):
    send_token = HiddenField()


class RejectForm(FlaskForm):
    rejection_reason = TextAreaField("Why is it rejected?", validators=[Length(max=500)])


class ResolveForm(FlaskForm):
    outcome = SelectField(
        "What happened, according to iHela?",
        choices=[
            ("", "Choose…"),
            ("succeeded", "The money arrived: mark succeeded"),
            ("failed", "The money did not leave: mark failed"),
        ],
    )
    note = TextAreaField(
        "Note (who you spoke to, when, their reference)", validators=[Length(max=1000)]
    )
