"""The per-request formatters say exactly what Babel says, in both languages."""

from __future__ import annotations

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
