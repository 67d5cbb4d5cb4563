"""The per-request formatters say exactly what Babel says, in both languages."""

from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask_babel import force_locale

from dashboard import labels
from dashboard.money import format_amount


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_dates_times_and_money_match_babel(app: Flask, lang: str) -> None:
    moments = [datetime(2026, 1, 1, 0, 0, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(60)]
    dates = "en_GB" if lang == "en" else lang  # English dates as read in Bujumbura
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for fmt in ("short", "medium", "long", "full", "HH:mm:ss", "d MMM y"):
            for moment in moments:
                expected = format_datetime(moment, fmt, tzinfo=labels.get_timezone(), locale=dates)
                assert labels.localtime(moment, fmt) == expected, (fmt, moment)
        assert labels.clock(moments[3]) == format_datetime(
            moments[3], "HH:mm:ss", tzinfo=labels.get_timezone(), locale=dates
        )
        for amount in (0, 7, 1500, 2_000_000, -300):
            assert labels.money(amount) == format_amount(amount, lang)
        assert labels.bill_state_label("paid") == ("Paid" if lang == "en" else "Payée")


def test_a_forced_language_is_not_served_from_the_cache(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert labels.money(2000) == format_amount(2000, "en")
        assert labels.bill_state_label("paid") == "Paid"
        with force_locale("fr"):
            assert labels.money(2000) == format_amount(2000, "fr")
            assert labels.bill_state_label("paid") != "Paid"
        assert labels.money(2000) == format_amount(2000, "en")


# 13:28 UTC on 7 December 2026 is 15:28 in Bujumbura.
SEVENTH_OF_DECEMBER = datetime(2026, 12, 7, 13, 28, 5, tzinfo=UTC)
DAY_FIRST_24_HOURS = {
    "en": {
        "short": "07/12/2026, 15:28",
        "medium": "7 Dec 2026, 15:28:05",
        "d MMMM y": "7 December 2026",
        "HH:mm:ss": "15:28:05",
    },
    "fr": {
        "short": "07/12/2026 15:28",
        "medium": "7 déc. 2026, 15:28:05",
        "d MMMM y": "7 décembre 2026",
        "HH:mm:ss": "15:28:05",
    },
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_dates_read_day_first_on_a_24_hour_clock(app: Flask, lang: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for fmt, expected in DAY_FIRST_24_HOURS[lang].items():
            assert labels.localtime(SEVENTH_OF_DECEMBER, fmt) == expected, fmt
        for hour in range(24):  # never a 12-hour clock, at any hour
            moment = SEVENTH_OF_DECEMBER.replace(hour=hour)
            for fmt in ("short", "medium", "long", "full"):
                text = labels.localtime(moment, fmt)
                assert "AM" not in text and "PM" not in text, text
                assert f"{(hour + 2) % 24:02d}:28" in text, text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_patterns_of_numbers_are_filled_in_as_babel_does(app: Flask, lang: str) -> None:
    """dd/MM/y, HH:mm and the like skip Babel's per-call work: the same text, any moment."""
    rng = random.Random(17)
    moments = [
        datetime(1999, 12, 31, 21, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 28, 22, 0, 0, tzinfo=UTC),  # a local midnight, a new month
        *(
            datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(100 * 365 * 86400))
            for _ in range(300)
        ),
    ]
    dates = "en_GB" if lang == "en" else lang
    patterns = ("short", "HH:mm:ss", "dd/MM/yy", "d/M/y H:m:s", "yyyy-MM-dd HH:mm", "y")
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for fmt in patterns:
            for moment in moments:
                expected = format_datetime(moment, fmt, tzinfo=labels.get_timezone(), locale=dates)
                assert labels.localtime(moment, fmt) == expected, (fmt, moment)
                assert labels.localtime(moment, fmt) == expected, (fmt, moment)  # remembered


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_labels_are_flask_babels_own_words(app: Flask, lang: str) -> None:
    """Each label table, translated once per request, says what Flask-Babel says."""
    from flask_babel import gettext, pgettext

    from dashboard.admin.audit_filter import OBJECT_TYPES, object_type_label

    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for code, words in {**labels.AUDIT_ACTIONS, **labels.AUDIT_ACTION_GROUPS}.items():
            assert labels.audit_action_label(code) == gettext(words), code
        assert labels.actor_label("cron") == pgettext("actor", "scheduled check")
        assert labels.actor_label("iHela callback") == pgettext("actor", "iHela callback")
        assert labels.actor_label("someone@example.com") == "someone@example.com"
        assert labels.actor_label("someone") == "someone"
        assert labels.actor_label(None) == ""
        assert labels.role_label("accountant") == pgettext("role", "Accountant")
        assert labels.role_label("boss") == "Boss"
        assert labels.reason_label("payout") == gettext("Payout")
        assert labels.reason_label("gift") == "Gift"
        assert labels.holder_check_label("confirmed") == gettext("confirmed by the bank")
        assert labels.payer_kind_label("phone") == pgettext("payer kind", "phone")
        assert labels.cashin_state_label("awaiting_approval") == pgettext(
            "cash-in status", "Awaiting approval"
        )
        assert labels.cashin_state_label("on_hold") == "On hold"
        assert object_type_label("bill") == gettext("Bill")
        assert object_type_label("thing") == "thing"
        assert all(object_type_label(kind) != kind for kind in OBJECT_TYPES)
        badge = str(labels.cashin_badge("awaiting_approval"))
        assert badge == (
            '<span class="badge text-bg-warning" data-testid="cashin-status">'
            f"{labels.cashin_state_label('awaiting_approval').replace(chr(39), '&#39;')}</span>"
        )
        assert 'class="badge text-bg-secondary"' in labels.cashin_badge("on_hold")
        assert 'class="badge text-bg-success"' in labels.bill_badge("paid")
        here = labels.audit_action_label("auth.login")
        with force_locale("fr" if lang == "en" else "en"):  # another language: other words
            assert labels.audit_action_label("auth.login") != here
        assert labels.audit_action_label("auth.login") == here


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_numbers_are_what_flask_babel_says(app: Flask, lang: str) -> None:
    from decimal import Decimal

    from flask_babel import format_number

    with app.test_request_context("/", headers={"Accept-Language": lang}):
        filter_ = app.jinja_env.filters["numberformat"]
        for value in (0, 1, 7, 1000, 1001, -12345, 2_000_000, 1.5, 1.0, 1234.5678, Decimal("3.10")):
            assert filter_(value) == format_number(value), value
            assert filter_(value) == format_number(value), value  # remembered


# Templates' own words: the dashboard's gettext callables against Jinja's i18n wrappers over
# Flask-Babel's (what templates used before), the same template text in the same language.
WORDS = (
    "{{ _('Amount') }}|{{ gettext('Bills') }}|{{ _('100%% sure') }}|{{ _('No such words') }}",
    "{{ _('total %(amount)s', amount=shown) }}|{{ _('sent %(amount)s', amount='<b>5</b>') }}",
    "{% for n in (0, 1, 2, 1500) %}{{ ngettext('%(num)s cash-in', '%(num)s cash-ins', n) }},"
    "{{ ngettext('%(num)s cash-in', '%(num)s cash-ins', n, num='<' ~ n ~ '>') }};{% endfor %}",
    "{{ pgettext('date', 'From') }}|{{ pgettext('bill status', 'Paid') }}|"
    "{{ pgettext('date', 'To %(day)s', day='<7>') }}|"
    "{{ npgettext('x', '%(num)s bill', '%(num)s bills', 2) }}",
    "{% trans %}Bills{% endtrans %}|{% trans n=3 %}{{ n }} cash-in{% pluralize %}{{ n }}"
    " cash-ins{% endtrans %}|{% trans who='<i>' %}{{ who }} waits{% endtrans %}",
)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_templates_words_are_what_jinja_and_flask_babel_say(
    app: Flask, lang: str, autoescape: bool
) -> None:
    from flask_babel import get_translations
    from jinja2 import Environment

    theirs = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
    theirs.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    ours = app.jinja_env.overlay(autoescape=autoescape)
    french = 0
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for forced in (None, "en" if lang == "fr" else "fr"):
            with force_locale(forced) if forced else nullcontext():
                for words in WORDS:
                    said = ours.from_string(words).render(shown="<5>")
                    assert said == theirs.from_string(words).render(shown="<5>"), words
                    french += "Montant" in said or "Payée" in said
        assert "&lt;b&gt;" in ours.from_string(WORDS[1]).render(shown="") or not autoescape
    assert french == 2  # each language said once, the catalogue really read
