from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(_l("Enter your e-mail.")), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Type the code.")), Length(max=40)])


class EnrolPasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    code = StringField(
        _l("Code from the app, or a recovery code"),
        validators=[DataRequired(_l("Type the code.")), Length(max=40)],
    )


class TwoFactorPolicyForm(FlaskForm):
    cashier = BooleanField(_l("Cashiers"))
    accountant = BooleanField(_l("Accountants"))
    admin = BooleanField(_l("Admins"))
