"""Gateway replies, shaped like the published samples, read into typed results."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dashboard.ihela import BillStatus, GatewayRejected, IhelaError, OutcomeUnknown
from dashboard.ihela.replies import (
    MalformedReply,
    parse_account_holder,
    parse_bank_list,
    parse_bill,
    parse_bill_check,
    parse_cashin,
    parse_timestamp,
    read_amount,
)

INIT_REPLY: dict[str, Any] = {
    "bill": {
        "merchant": {
            "title": "Global Test Merchant",
            "merchant": {"id": 6, "title": "Global Test Merchant"},
            "user": {"username": "merchant-username", "ihela_code": "1"},
        },
        "initiated_by": {"username": "client-username", "email": "clientmail@gmail.com"},
        "paid_by": None,
        "amount": "2000.00",
        "currency": 108,
        "description": "Global Test Merchant (1) My description 58646cc904c471d6413e",
        "merchant_reference": "58646cc904c471d6413e",
        "status": {"label": "Initiated", "value": "I", "css": "tag is-info"},
        "expired": False,
        "code": "BILL-20200813-B8GUIUDIN0",
        "redirect_uri": None,
        "confirmation_uri": "https://mytest.ihela.online/u/operations/bill/confirm/BILL-20200813-B8GUIUDIN0",
        "payment_reference": None,
        "created_at": "2020-08-13T10:24:58.014322Z",
        "bank": None,
        "bank_client_id": None,
    }
}

PESAFLASH: dict[str, Any] = {
    "slug": "MOB-0006",
    "name": "PesaFlash",
    "bank_type": "MOB",
    "is_active": True,
    "company": {"logo": "https://x/logo.png", "logo_icon": "https://x/icon.png"},
    "limits_config": {
        "in_minimum": "10000.00",
        "in_maximum": "50000000.00",
        "out_minimum": "10000.00",
        "out_maximum": "50000000.00",
    },
    "account_masked_text": None,
}


def _with_bill(**changes: Any) -> dict[str, Any]:
    reply = copy.deepcopy(INIT_REPLY)
    reply["bill"].update(changes)
    return reply


@pytest.mark.parametrize(
    ("wire", "francs"), [("2000.00", 2000), ("2000", 2000), (2000, 2000), (2000.0, 2000)]
)
def test_whole_amounts_are_read_as_int(wire: object, francs: int) -> None:
    amount = read_amount(wire)
    assert amount == francs
    assert type(amount) is int


@pytest.mark.parametrize("wire", ["2000.50", 2000.5, "abc", None, True, "", "NaN"])
def test_fractions_and_garbage_are_refused_not_rounded(wire: object) -> None:
    with pytest.raises(MalformedReply):
        read_amount(wire)


def test_init_reply_becomes_a_bill() -> None:
    bill = parse_bill(INIT_REPLY, expected_amount=2000, expected_reference="58646cc904c471d6413e")
    assert bill.code == "BILL-20200813-B8GUIUDIN0"
    assert bill.amount == 2000
    assert bill.status is BillStatus.PENDING
    assert bill.raw_status == "Initiated"
    assert bill.payer == "clientmail@gmail.com"
    assert bill.merchant_title == "Global Test Merchant"
    assert bill.created_at == datetime(2020, 8, 13, 10, 24, 58, 14322, tzinfo=UTC)
    assert bill.payment_reference is None
    assert bill.expired is False
    assert bill.raw == INIT_REPLY


def test_a_bill_amount_with_a_fraction_is_a_bad_reply() -> None:
    with pytest.raises(MalformedReply, match="amount"):
        parse_bill(_with_bill(amount="2000.40"))


def test_a_bill_for_another_amount_or_reference_is_a_bad_reply() -> None:
    with pytest.raises(MalformedReply, match="amount"):
        parse_bill(INIT_REPLY, expected_amount=3000)
    with pytest.raises(MalformedReply, match="merchant_reference"):
        parse_bill(INIT_REPLY, expected_reference="other-ref")


@pytest.mark.parametrize("missing", ["code", "amount", "status", "confirmation_uri"])
def test_a_bill_without_its_essentials_is_a_bad_reply(missing: str) -> None:
    reply = copy.deepcopy(INIT_REPLY)
    del reply["bill"][missing]
    with pytest.raises(MalformedReply):
        parse_bill(reply)


@pytest.mark.parametrize("reply", [{}, {"bill": None}, {"bill": ["x"]}])
def test_a_reply_without_a_bill_object_is_bad(reply: dict[str, Any]) -> None:
    with pytest.raises(MalformedReply, match="bill"):
        parse_bill(reply)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-08-13T10:24:58Z", datetime(2020, 8, 13, 10, 24, 58, tzinfo=UTC)),
        ("2020-08-13T10:24:58", datetime(2020, 8, 13, 10, 24, 58, tzinfo=UTC)),
        (
            "2020-08-13T12:24:58+02:00",
            datetime(2020, 8, 13, 12, 24, 58, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_are_aware(text: str | None, expected: datetime | None) -> None:
    moment = parse_timestamp(text)
    assert moment == expected
    assert moment is None or moment.tzinfo is not None


def test_verify_reply_maps_the_swapped_fields_back() -> None:
    reply = {
        "bill": {
            "bank_reference": "CPT-7/01-12",
            "reference": "BILL-20200813-B8GUIUDIN0",
            "code": "58646cc904c471d6413e",
            "status": "Paid",
            "message": "Bill paid",
        }
    }
    check = parse_bill_check(
        reply, bill_code="BILL-20200813-B8GUIUDIN0", merchant_reference="58646cc904c471d6413e"
    )
    assert check.status is BillStatus.PAID
    assert check.bank_reference == "CPT-7/01-12"
    assert check.message == "Bill paid"
    assert check.bill_code == "BILL-20200813-B8GUIUDIN0"


def test_verify_reply_about_another_bill_is_bad() -> None:
    reply = {"bill": {"reference": "BILL-OTHER", "code": "ref", "status": "Paid"}}
    with pytest.raises(MalformedReply, match="bill"):
        parse_bill_check(reply, bill_code="BILL-MINE", merchant_reference="ref")


def test_bank_list_reads_masks_limits_logos_and_lookup() -> None:
    ihela = {
        "slug": "MF1-0001",
        "name": "iHela Credit Union",
        "bank_type": "MF1",
        "is_active": True,
        "company": {"logo": "https://x/ihela.svg"},
        "limits_config": None,
        "account_masked_text": "000000-00",
        "api_values": {"has_lookup": True, "has_cashin": True},
    }
    crdb = {"slug": "BNQ-0005", "name": "CRDB", "is_active": False, "api_values": {}}
    crdb["api_values"]["has_lookup"] = False
    banks = parse_bank_list({"banks": [ihela, PESAFLASH, crdb], "count": 3})
    assert [bank.slug for bank in banks] == ["MF1-0001", "MOB-0006", "BNQ-0005"]
    assert banks[0].account_mask == "000000-00"
    assert banks[0].limits is None
    assert banks[0].icon_url is None
    pesa_limits = banks[1].limits
    assert pesa_limits is not None
    assert (pesa_limits.in_minimum, pesa_limits.in_maximum) == (10000, 50000000)
    assert banks[1].logo_url == "https://x/logo.png"
    assert banks[1].has_lookup is True  # no api_values: assume the lookup exists
    assert banks[2].bank_type == "BNQ"  # taken from the slug when the field is missing
    assert (banks[2].is_active, banks[2].has_lookup) == (False, False)


@pytest.mark.parametrize(
    "reply",
    [
        {"banks": [PESAFLASH], "banksCount": 1},
        {"response_data": {"objects": [PESAFLASH], "count": 1}, "success": True},
    ],
)
def test_bank_list_accepts_the_other_known_shapes(reply: dict[str, Any]) -> None:
    assert [bank.slug for bank in parse_bank_list(reply)] == ["MOB-0006"]


def test_bank_limit_with_a_fraction_is_a_bad_reply() -> None:
    bank = copy.deepcopy(PESAFLASH)
    bank["limits_config"]["in_minimum"] = "10000.50"
    with pytest.raises(MalformedReply, match="in_minimum"):
        parse_bank_list({"banks": [bank]})


@pytest.mark.parametrize("reply", [{}, {"banks": "none"}, {"banks": ["MF1-0001"]}])
def test_bank_list_without_bank_objects_is_bad(reply: dict[str, Any]) -> None:
    with pytest.raises(MalformedReply):
        parse_bank_list(reply)


def test_lookup_needs_a_name() -> None:
    holder = parse_account_holder(
        {"account_number": "000001-01", "name": "Bigirimana Fabrice", "customer_id": 16},
        bank_slug="MF1-0001",
        account="16",
    )
    assert (holder.account_number, holder.name) == ("000001-01", "Bigirimana Fabrice")
    with pytest.raises(MalformedReply, match="name"):
        parse_account_holder({"account_number": "1"}, bank_slug="MF1-0001", account="1")


CASHIN_REPLY: dict[str, Any] = {
    "bank_slug": "MF1-0001",
    "account": "000016-01",
    "amount": "20000.00",
    "description": "Refund",
    "merchant_reference": "REF3223",
    "error": False,
    "error_message": "Success",
    "reference": "CPT-5/01-199",
}
CASHIN_SENT: dict[str, Any] = {
    "bank_slug": "MF1-0001",
    "account": "000016-01",
    "amount": 20000,
    "merchant_reference": "REF3223",
}


def test_cashin_reply_becomes_a_result() -> None:
    result = parse_cashin(CASHIN_REPLY, **CASHIN_SENT)
    assert (result.reference, result.amount, result.message) == ("CPT-5/01-199", 20000, "Success")


def test_cashin_reports_the_account_and_bank_as_the_gateway_wrote_them() -> None:
    reply = {**CASHIN_REPLY, "account": "000016-01", "bank_slug": "MF1-0001"}
    result = parse_cashin(reply, **{**CASHIN_SENT, "account": "16-01", "bank_slug": "mf1-0001"})
    assert (result.account, result.bank_slug) == ("000016-01", "MF1-0001")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"amount": "20000.50"}, "amount"),
        ({"amount": "19000.00"}, "amount"),
        ({"merchant_reference": "REF-OTHER"}, "merchant_reference"),
        ({"bank_slug": "MOB-0003"}, "bank_slug"),
        ({"reference": None}, "reference"),
    ],
)
def test_cashin_reply_that_disagrees_with_the_request_is_bad(
    change: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(MalformedReply, match=complaint):
        parse_cashin({**CASHIN_REPLY, **change}, **CASHIN_SENT)


def test_errors_show_their_message_and_status_only() -> None:
    error = GatewayRejected(
        "Duplicate reference",
        status=400,
        raw={"merchant_reference": ["exists"]},
        field_errors={"merchant_reference": ["exists"]},
    )
    assert str(error) == "Duplicate reference"
    assert repr(error) == "GatewayRejected('Duplicate reference', status=400)"
    assert error.field_errors == {"merchant_reference": ["exists"]}
    unknown = OutcomeUnknown("no answer")
    assert isinstance(unknown, IhelaError)
    assert (unknown.status, unknown.raw) == (None, None)
