"""Refusal bodies of every known shape become a message and ``dict[str, list[str]]``."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.ihela.replies import error_message, flatten_field_errors, is_refusal


def test_drf_field_lists_are_kept() -> None:
    body = {"user": ["Unknown user."], "amount": ["Too small.", "Must be whole."]}
    assert flatten_field_errors(body) == {
        "user": ["Unknown user."],
        "amount": ["Too small.", "Must be whole."],
    }


def test_nested_serializer_errors_get_dotted_keys() -> None:
    body = {
        "limits": {"in_minimum": ["Required."]},
        "items": [{}, {"amount": ["Bad."]}],
        "non_field_errors": ["Bill already paid."],
    }
    assert flatten_field_errors(body) == {
        "limits.in_minimum": ["Required."],
        "items.1.amount": ["Bad."],
        "non_field_errors": ["Bill already paid."],
    }


def test_errors_wrapper_accepts_plain_strings() -> None:
    body = {"errors": {"authentication": "The client is not authenticated"}}
    assert flatten_field_errors(body) == {
        "authentication": ["The client is not authenticated"],
    }


def test_errors_wrapper_holding_a_sentence_is_a_non_field_error() -> None:
    assert flatten_field_errors({"errors": "Something broke"}) == {
        "non_field_errors": ["Something broke"],
    }


def test_cashin_echo_is_not_mistaken_for_errors() -> None:
    body = {
        "bank_slug": "MF1-0001",
        "account": "000016-01",
        "amount": "20000.00",
        "error": True,
        "error_message": "Duplicate merchant reference",
    }
    assert flatten_field_errors(body) == {}
    assert error_message(body, "default") == "Duplicate merchant reference"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "Not found."}, "Not found."),
        ({"details": "Account not found"}, "Account not found"),
        ({"detail": "Lookup down", "details": "other"}, "Lookup down"),
        ({"error": "invalid_client"}, "invalid_client"),
        (
            {"error": "invalid_request", "error_description": "Missing grant."},
            "Missing grant.",
        ),
        ({"error": True, "error_message": "Limit exceeded"}, "Limit exceeded"),
        ({"user": ["No such payer."]}, "user: No such payer."),
        ({}, "default"),
        (None, "default"),
    ],
)
def test_message_comes_from_the_most_explicit_key(
    body: dict[str, Any] | None, expected: str
) -> None:
    assert error_message(body, "default") == expected


def test_long_messages_are_shortened() -> None:
    message = error_message({"detail": "x" * 5000}, "default")
    assert len(message) == 500
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ({"error": True, "error_message": "No"}, True),
        ({"error": "true"}, True),
        ({"errors": {"amount": ["Bad"]}}, True),
        ({"success": False}, True),
        ({"error": False, "error_message": "Success", "reference": "CPT-1/01-1"}, False),
        ({"bill": {"code": "BILL-1"}}, False),
        ({"errors": {}}, False),
    ],
)
def test_refusals_inside_2xx_replies_are_recognised(body: dict[str, Any], refused: bool) -> None:
    assert is_refusal(body) is refused
