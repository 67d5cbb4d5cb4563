"""Gateway status words, from init (status.label), verify (plain string) and v2, normalised."""

from __future__ import annotations

import pytest

from dashboard.ihela import BillStatus, normalise_bill_status


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Initiated", BillStatus.PENDING),
        ("Pending", BillStatus.PENDING),
        ("Initial", BillStatus.PENDING),
        ("Paid", BillStatus.PAID),
        ("Expired", BillStatus.EXPIRED),
        ("Cancelled", BillStatus.CANCELLED),
        ("Canceled", BillStatus.CANCELLED),
        ("Error", BillStatus.FAILED),
        ("PAID", BillStatus.PAID),
        (" paid ", BillStatus.PAID),
    ],
)
def test_known_statuses_are_mapped(raw: str, expected: BillStatus) -> None:
    assert normalise_bill_status(raw) is expected


@pytest.mark.parametrize("raw", ["Refunded", "", "P", "Paid out"])
def test_unknown_statuses_are_kept_apart(raw: str) -> None:
    assert normalise_bill_status(raw) is BillStatus.UNKNOWN


def test_status_values_are_the_stored_strings() -> None:
    assert [status.value for status in BillStatus] == [
        "pending",
        "paid",
        "expired",
        "cancelled",
        "failed",
        "unknown",
    ]
