from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Length

from dashboard.forms import AmountField
from dashboard.labels import role_label
from dashboard.models import Role
from dashboard.settings import SETTINGS

ROLE_CHOICES = [(r.value, LazyString(role_label, r.value)) for r in Role]


class NewUserForm(FlaskForm):
    """Field checks live in the account service, which reports every problem at once."""

    email = EmailField(_l("E-mail"), validators=[Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("First password"), validators=[Length(max=200)])


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


class SettingsForm(FlaskForm):
    """One field per setting, named like the setting in lower case; the settings service
    checks bounds and how the values fit together."""

    merchant_name = StringField(SETTINGS["MERCHANT_NAME"].label)
    bill_max_amount = AmountField(SETTINGS["BILL_MAX_AMOUNT"].label)
    cashin_max_amount = AmountField(SETTINGS["CASHIN_MAX_AMOUNT"].label)
    cashin_daily_max_per_account = AmountField(SETTINGS["CASHIN_DAILY_MAX_PER_ACCOUNT"].label)
    cashin_approval_threshold = AmountField(SETTINGS["CASHIN_APPROVAL_THRESHOLD"].label)
    payer_receipts = BooleanField(SETTINGS["PAYER_RECEIPTS"].label)
