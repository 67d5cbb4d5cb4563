from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from dashboard.forms import AmountField


class ItemForm(FlaskForm):
    name = StringField(_l("Item"), validators=[Length(max=200)])
    price = AmountField(_l("Price (FBu)"))
    active = BooleanField(_l("On sale"), default=True)
