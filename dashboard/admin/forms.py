from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from dashboard.models import Role

ROLE_CHOICES = [(r.value, r.label) for r in Role]


class NewUserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter an e-mail."), Length(max=254)])
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=120)]
    )
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField("First password", validators=[DataRequired("Enter a first password.")])


class UserRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""
