"""How the sandbox's objects look on the wire (ihela-api.md §3, v1 samples)."""

from __future__ import annotations

from typing import Any

from dashboard.sandbox.fixtures import (
    CURRENCY_ALPHA,
    CURRENCY_NUMERIC,
    MERCHANT,
    OPERATION_MIN_AMOUNT,
    PAYERS,
    Bank,
    Person,
)
from dashboard.sandbox.state import (
    CANCELLED,
    ERROR,
    EXPIRED,
    INITIATED,
    PAID,
    Bill,
    CashIn,
    isoformat,
)

# Init shows a status object, verify a plain string (and "Pending" where init said "Initiated").
_STATUS_OBJECTS = {
    INITIATED: {"label": "Initiated", "value": "I", "css": "tag is-info"},
    PAID: {"label": "Paid", "value": "P", "css": "tag is-success"},
    EXPIRED: {"label": "Expired", "value": "E", "css": "tag is-dark"},
    CANCELLED: {"label": "Cancelled", "value": "C", "css": "tag is-danger"},
    ERROR: {"label": "Error", "value": "R", "css": "tag is-danger"},
}
_VERIFY_STATUS = {
    INITIATED: ("Pending", "Bill waiting for payment"),
    PAID: ("Paid", "Bill paid"),
    EXPIRED: ("Expired", "Bill expired"),
    CANCELLED: ("Cancelled", "Bill cancelled by the payer"),
    ERROR: ("Error", "Payment failed"),
}


def amount_text(amount: int) -> str:
    """The gateway's echo of an amount: a decimal string with two places."""
    return f"{amount:.2f}"


def confirmation_uri(public_url: str, code: str) -> str:
    return f"{public_url}u/operations/bill/confirm/{code}"


def user_object(person: Person, public_url: str) -> dict[str, Any]:
    return {
        "username": person.username,
        "email": person.email,
        "ihela_code": person.ihela_code,
        "bio": person.bio,
        "image": f"{public_url}media/users/{person.username}.svg",
        "following": False,
    }


def merchant_object(public_url: str) -> dict[str, Any]:
    return {
        "title": MERCHANT.title,
        "merchant": {
            "id": MERCHANT.id,
            "title": MERCHANT.title,
            "merchant_type": {"label": "Biller", "value": "B", "css": None},
            "merchant_slug": MERCHANT.slug,
            "merchant_logo": None,
            "merchant_code": MERCHANT.code,
        },
        "user": user_object(MERCHANT.user, public_url),
    }


def payer_of(bill: Bill) -> Person:
    for person in PAYERS:
        if person.username == bill.payer:
            return person
    raise LookupError(bill.payer)


def rewritten_description(bill: Bill) -> str:
    # iHela prefixes the merchant and appends the reference (R4 sample).
    return (
        f"{MERCHANT.title} ({MERCHANT.user.ihela_code}) {bill.description} "
        f"{bill.merchant_reference}"
    )


def bill_object(bill: Bill, public_url: str) -> dict[str, Any]:
    """The ``bill`` object of an init reply."""
    payer = user_object(payer_of(bill), public_url)
    return {
        "merchant": merchant_object(public_url),
        "initiated_by": payer,
        "paid_by": payer if bill.status == PAID else None,
        "amount": amount_text(bill.amount),
        "currency": CURRENCY_NUMERIC,
        "currency_info": {
            "iso_code": CURRENCY_NUMERIC,
            "iso_alpha_code": CURRENCY_ALPHA,
            "title": "BURUNDIAN FRANC",
            "abbreviation": CURRENCY_ALPHA,
            "operation_min_amount": amount_text(OPERATION_MIN_AMOUNT),
        },
        "description": rewritten_description(bill),
        "merchant_reference": bill.merchant_reference,
        "status": dict(_STATUS_OBJECTS[bill.status]),
        "expired": bill.status == EXPIRED,
        "code": bill.code,
        "redirect_uri": bill.redirect_uri,
        "confirmation_uri": confirmation_uri(public_url, bill.code),
        "payment_reference": bill.payment_reference,
        "created_at": isoformat(bill.created_at),
        "bank": bill.bank,
        "bank_client_id": bill.bank_client_id,
    }


def verify_object(bill: Bill) -> dict[str, Any]:
    """The ``bill`` object of a verify reply: note ``reference`` is the bill code."""
    status, message = _VERIFY_STATUS[bill.status]
    return {
        "bank_reference": bill.payment_reference,
        "reference": bill.code,
        "code": bill.merchant_reference,
        "status": status,
        "message": message,
    }


def bank_logo_url(public_url: str, slug: str) -> str:
    return f"{public_url}media/banks/{slug}.svg"


def bank_icon_url(public_url: str, slug: str) -> str:
    return f"{public_url}media/banks/icon/{slug}.svg"


def bank_object(bank: Bank, public_url: str) -> dict[str, Any]:
    logo = bank_logo_url(public_url, bank.slug)
    limits = (
        None
        if bank.limits is None
        else {
            "in_minimum": amount_text(bank.limits.in_minimum),
            "in_maximum": amount_text(bank.limits.in_maximum),
            "out_minimum": amount_text(bank.limits.out_minimum),
            "out_maximum": amount_text(bank.limits.out_maximum),
        }
    )
    return {
        "id": bank.bank_code,
        "slug": bank.slug,
        "name": bank.name,
        "swift_code": bank.swift_code,
        "bank_code": bank.bank_code,
        "bank_type": bank.bank_type,
        "can_create_account_online": bank.can_create_account_online,
        "is_active": bank.is_active,
        "is_default": bank.slug == "MF1-0001",
        "company": {
            "name": bank.name,
            "fullname": bank.name,
            "nickname": bank.nickname,
            "slug": bank.name.lower().replace(" ", "-"),
            "image": logo,
            "about": bank.name,
            "logo": logo,
            "logo_icon": bank_icon_url(public_url, bank.slug),
        },
        "limits_config": limits,
        "account_masked_text": bank.account_mask,
        "ihela_account_inside": None,
        "api_values": {
            "has_lookup": bank.has_lookup,
            "has_cashin": True,
            "has_cashout": bank.has_cashout,
            "has_integrated_too": False,
            "additional_api_list": [],
        },
    }


def cashin_object(cashin: CashIn) -> dict[str, Any]:
    return {
        "bank_slug": cashin.bank_slug,
        "account": cashin.account,
        "amount": amount_text(cashin.amount),
        "description": cashin.description,
        "merchant_reference": cashin.merchant_reference,
        "error": False,
        "error_message": "Success",
        "reference": cashin.reference,
    }


def cashin_record(cashin: CashIn) -> dict[str, Any]:
    """What ``/_sandbox/cashins`` lists: amount as an int, for tests to compare directly."""
    return {
        "merchant_reference": cashin.merchant_reference,
        "bank_slug": cashin.bank_slug,
        "account": cashin.account,
        "amount": cashin.amount,
        "description": cashin.description,
        "reference": cashin.reference,
        "received_at": isoformat(cashin.received_at),
    }
