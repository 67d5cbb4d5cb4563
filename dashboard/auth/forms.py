from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(_l("Enter your e-mail.")), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    next = HiddenField()
