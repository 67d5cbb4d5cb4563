from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from dashboard.cashins.services import DESCRIPTION_MAX
from dashboard.forms import AmountField
from dashboard.labels import REASONS


class CashinForm(FlaskForm):
    bank_slug = SelectField(_l("Receiving bank"), choices=[], validate_choice=False)
    account = StringField(_l("Account number"), validators=[Length(max=64)])
    holder_name = StringField(_l("Account holder's name"), validators=[Length(max=160)])
    holder_verified = BooleanField(
        _l("I checked this name with the customer (for example on an ID)")
    )
    amount = AmountField(_l("Amount (FBu)"))
    description = TextAreaField(
        _l("Description (the receiver sees it)"),
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                # Length fills in %(max)d itself.
                message=_l("Keep the description under %(max)d characters."),
            )
        ],
    )
    reason = SelectField(_l("Reason"), choices=list(REASONS.items()), default="payout")
    bill_id = HiddenField()
    form_token = HiddenField()


class ConfirmForm(FlaskForm):
    send_token = HiddenField()


class RejectForm(FlaskForm):
    rejection_reason = TextAreaField(_l("Why is it rejected?"), validators=[Length(max=500)])


class ResolveForm(FlaskForm):
    outcome = SelectField(
        _l("What happened, according to iHela?"),
        choices=[
            ("", _l("Choose…")),
            ("succeeded", _l("The money arrived: mark succeeded")),
            ("failed", _l("The money did not leave: mark failed")),
        ],
    )
    note = TextAreaField(
        _l("Note (who you spoke to, when, their reference)"), validators=[Length(max=1000)]
    )
    reference = StringField(
        _l("iHela's reference for the transfer (if it arrived)"), validators=[Length(max=80)]
    )


class SettleForm(FlaskForm):
    decision = SelectField(
        _l("Which outcome is right, according to iHela?"),
        choices=[
            ("", _l("Choose…")),
            ("keep", _l("The recorded resolution: keep it")),
            ("adopt", _l("iHela's late answer: change the cash-in to it")),
        ],
    )
    late_note = TextAreaField(
        _l("Note (who you spoke to, when, their reference)"), validators=[Length(max=1000)]
    )
