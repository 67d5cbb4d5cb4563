from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from dashboard.bills.services import DESCRIPTION_MAX, PAYER_KINDS
from dashboard.forms import AmountField, Form


class BillForm(Form):
    amount = AmountField(_l("Amount (FBu)"))
    payer_kind = SelectField(
        _l("Payer is identified by"), choices=list(PAYER_KINDS.items()), default="email"
    )
    payer = StringField(_l("Payer"), validators=[Length(max=120)])
    description = TextAreaField(
        _l("What is it for?"),
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                # Length fills in %(max)d itself.
                message=_l("Keep the description under %(max)d characters."),
            )
        ],
    )
    bank_slug = SelectField(
        _l("Payer's bank (optional)"),
        choices=[("", _l("iHela Credit Union account"))],
        validate_choice=False,
    )
    bank_client_id = StringField(
        _l("Payer's id at that bank (optional)"), validators=[Length(max=64)]
    )
    form_token = HiddenField()


class ActionForm(Form):
    """Only the CSRF token (and a one-time token where a click must count once)."""

    form_token = HiddenField()


class CounterForm(Form):
    """The cashier's quick bill: amount and payer; the rest has defaults."""

    amount = AmountField(_l("Amount (FBu)"))
    payer = StringField(_l("Payer"), validators=[Length(max=120)])
    payer_kind = SelectField(
        _l("Payer is identified by"),
        choices=[("auto", _l("Guess from what is typed")), *PAYER_KINDS.items()],
        default="auto",
    )
    description = StringField(
        _l("What is it for?"),
        validators=[
            Length(
                max=DESCRIPTION_MAX, message=_l("Keep the description under %(max)d characters.")
            )
        ],
    )
    form_token = HiddenField()


class SettleUnknownForm(Form):
    """What a person found out about an unknown bill nobody can follow."""

    outcome = SelectField(
        _l("What became of this request?"),
        choices=[
            ("", _l("Choose…")),
            ("paid", _l("The customer paid it: mark it paid")),
            (
                "not_paid",
                _l(
                    "It was not paid and will not be (no such bill at iHela, or it expired or "
                    "was cancelled)"
                ),
            ),
        ],
    )
    note = TextAreaField(
        _l("Note (whom you asked, when, what they said)"), validators=[Length(max=500)]
    )
    reference = StringField(_l("Payment reference (if it was paid)"), validators=[Length(max=80)])
