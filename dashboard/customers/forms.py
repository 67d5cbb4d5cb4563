from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from dashboard.customers.services import NOTE_MAX


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=NOTE_MAX, message=_l("Keep the note under %(max)d characters."))],
    )
