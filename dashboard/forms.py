"""Form fields shared by features."""

from __future__ import annotations

from typing import Any

from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from dashboard.money import AmountError, parse_typed_amount


class _WTFormsMessages:
    """WTForms' own messages ("Not a valid choice.") in the reader's language, as Flask-WTF
    gives them, with each language's catalogue read once per process: Flask-WTF reads and
    parses it again on every request that builds a form."""

    def __init__(self) -> None:
        self._catalogues: dict[str, support.NullTranslations] = {}

    def _catalogue(self) -> support.NullTranslations | None:
        locale = get_locale() if has_request_context() else None
        if locale is None:
            return None
        key = str(locale)
        catalogue = self._catalogues.get(key)
        if catalogue is None:
            catalogue = support.Translations.load(messages_path(), [locale], domain="wtforms")
            self._catalogues[key] = catalogue
        return catalogue

    def gettext(self, string: str) -> str:
        catalogue = self._catalogue()
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalogue = self._catalogue()
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


_WTFORMS_MESSAGES = _WTFormsMessages()


class Form(FlaskForm):
    """A FlaskForm whose WTForms messages come from a catalogue read once per process."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_MESSAGES


class AmountField(StringField):
    """Whole francs typed by a person ("20 000"); ``.amount`` holds the int once valid."""

    amount: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.amount = None
        try:
            self.amount = parse_typed_amount(self.data or "")
        except AmountError as exc:
            raise ValidationError(str(exc)) from None
