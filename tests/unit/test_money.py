from __future__ import annotations

import pytest

from dashboard.money import AmountError, amount_from_wire, format_amount, parse_typed_amount


@pytest.mark.parametrize(
    ("typed", "francs"),
    [
        ("2000", 2000),
        ("20 000", 20000),
        ("20,000", 20000),
        ("1.000.000", 1000000),
        ("2 000 FBu", 2000),
        ("BIF 2,000", 2000),
        (" 15000 ", 15000),
        ("20\u202f000", 20000),
    ],
)
def test_typed_amounts(typed: str, francs: int) -> None:
    assert parse_typed_amount(typed) == francs


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("12.50", "no cents"),
        ("12,5", "no cents"),
        ("abc", "digits"),
        ("1e3", "digits"),
        ("99999999999999999", "far too large"),
    ],
)
def test_bad_typed_amounts(typed: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_typed_amount(typed)


def test_wire_amounts() -> None:
    assert amount_from_wire("2000.00") == 2000
    assert amount_from_wire("2000") == 2000
    assert amount_from_wire(2000) == 2000
    for bad in ["2000.50", "abc", None, True, "NaN", 12.5]:
        with pytest.raises(AmountError):
            amount_from_wire(bad)


def test_format_without_cents() -> None:
    assert format_amount(2000, "fr").replace("\u202f", " ").replace("\xa0", " ") == "2 000 FBu"
    assert format_amount(2000, "en").replace("\xa0", " ") == "BIF 2,000"
    assert ".00" not in format_amount(1234567, "en")
