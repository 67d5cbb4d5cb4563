"""The payer's name is read from a verify reply when one comes (v1 replies carry none)."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.ihela.replies import parse_bill_check

CODE = "BILL-20261204-ABCDEFGHIJ"
REF = "B261204-K7Q2XM"


def check(**extra: Any) -> Any:
    reply = {"bill": {"reference": CODE, "code": REF, "status": "Paid", **extra}}
    return parse_bill_check(reply, bill_code=CODE, merchant_reference=REF)


def test_a_v1_reply_has_no_payer_name() -> None:
    assert check().payer_name is None
    assert check(paid_by=None).payer_name is None
    assert check(paid_by={"username": "client-username", "email": "x@y.z"}).payer_name is None


@pytest.mark.parametrize(
    ("paid_by", "name"),
    [
        ({"full_name": " Ndayishimiye Claude "}, "Ndayishimiye Claude"),
        ({"name": "Irakoze Divine"}, "Irakoze Divine"),
        ({"first_name": "Aline", "last_name": "Niyonzima"}, "Aline Niyonzima"),
        ({"first_name": "", "last_name": None}, None),
        ({"full_name": 42}, None),
    ],
)
def test_a_name_is_kept_when_the_reply_carries_one(paid_by: dict[str, Any], name: str) -> None:
    assert check(paid_by=paid_by).payer_name == name
