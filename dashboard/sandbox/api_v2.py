"""The v2 merchant API (ihela-api.md §3.6): same fixtures, state and rules as v1, other wire.

Served under ``api/v2/`` and, as ihela-sdk 0.4.0 calls it, under ``api/v1/`` (bill-init,
bill-check, cash-in with a JSON body, the bank lists) plus its ``ihela/api/v1/transaction-status/``.

Every reply is the envelope ``{success, response_code, response_message, response_data}``;
POST bodies carry the merchant PIN as ``pin_code``. Codes: "00" success, "03" invalid request
(``response_data`` holds the field errors), "04" not found, "05" insufficient funds and "07"
try later (both only through faults), "06" duplicate reference, "08" wrong PIN.

``operations/status/`` is an assumption (no source shows its reply): POST
``{external_reference}``; ``response_data`` ``{external_reference, reference, status, amount,
date}`` with ``Success``/``Pending``/``Failed``; 404 "04" when nothing carries that reference.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from dashboard.sandbox import get_state
from dashboard.sandbox.api import (
    FieldErrors,
    _amount,
    _BadBody,
    _bank_list,
    _currency,
    _request_fields,
    _requires_token,
    _text,
    bill_parties,
    cashin_fields,
    cashin_refusal,
)
from dashboard.sandbox.api import cash_in as v1_cash_in
from dashboard.sandbox.fixtures import find_bank, find_customer_account
from dashboard.sandbox.state import (
    CANCELLED,
    ERROR,
    EXPIRED,
    INITIATED,
    PAID,
    Bill,
    DuplicateReference,
    isoformat,
)
from dashboard.sandbox.wire import amount_text

api_v2 = Blueprint("sandbox_api_v2", __name__)

INVALID = "03"
NOT_FOUND = "04"
DUPLICATE = "06"
WRONG_PIN = "08"

# v2 spells the statuses its own way ("Initial", "Canceled": SDK docs).
CHECK_STATUS = {
    INITIATED: "Initial",
    PAID: "Paid",
    EXPIRED: "Expired",
    CANCELLED: "Canceled",
    ERROR: "Error",
}


def envelope(data: Any, message: str = "Success", code: str = "00") -> dict[str, Any]:
    return {
        "success": code == "00",
        "response_code": code,
        "response_message": message,
        "response_data": data,
    }


def refused(code: str, message: str, status: int = 400, data: Any = None) -> ResponseReturnValue:
    return envelope(data, message, code), status


def _route(rule: str, view: Callable[..., ResponseReturnValue], methods: list[str]) -> None:
    endpoint = view.__name__
    api_v2.add_url_rule(rule, endpoint, view, methods=methods)
    api_v2.add_url_rule(rule.rstrip("/"), endpoint + "_no_slash", view, methods=methods)


def _fields_with_pin(
    view: Callable[..., ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    """Read the body (JSON, form or multipart) and check its PIN before the view sees it."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            data = _request_fields()
        except _BadBody as bad:
            return refused(INVALID, "Invalid request.", 400, bad.reply)
        pin = data.get("pin_code")
        expected = str(current_app.config["SANDBOX_MERCHANT_PIN"])
        if pin is None or str(pin) == "":
            return refused(INVALID, "Invalid request.", 400, {"pin_code": ["Required."]})
        if not hmac.compare_digest(str(pin).encode(), expected.encode()):
            return refused(WRONG_PIN, "Invalid PIN code.", 403)
        return view(data, *args, **kwargs)

    return checked


def check_object(bill: Bill) -> dict[str, Any]:
    """A bill as bill-check shows it (also the body of payment callbacks)."""
    return {
        "bill_code": bill.code,
        "merchant_reference": bill.merchant_reference,
        "payment_reference": bill.payment_reference,
        "status": CHECK_STATUS[bill.status],
    }


# -- bills ---------------------------------------------------------------------------------


@_requires_token
@_fields_with_pin
def bill_init(data: dict[str, Any]) -> ResponseReturnValue:
    errors: FieldErrors = {}
    amount = _amount(data, errors)
    account = _text(data, "debit_account", errors)
    description = _text(data, "description", errors)
    merchant_reference = _text(data, "merchant_reference", errors, max_length=64)
    redirect_uri = _text(data, "redirect_uri", errors, required=False, max_length=500)
    bank_slug = _text(data, "debit_bank", errors, required=False, max_length=20)
    _currency(data, errors)
    payer, bank = bill_parties(
        errors,
        payer=("debit_account", account),
        bank=("debit_bank", bank_slug),
        redirect_uri=redirect_uri,
    )
    if errors or payer is None or amount is None or description is None:
        return refused(INVALID, "Invalid request.", 400, errors)
    assert merchant_reference is not None
    try:
        bill = get_state().create_bill(
            amount=amount,
            payer=payer.username,
            description=description,
            merchant_reference=merchant_reference,
            bank=bank.slug if bank else None,
            bank_client_id=account if bank else None,
            redirect_uri=redirect_uri,
            code_prefix="CODE",
        )
    except DuplicateReference:
        return refused(
            DUPLICATE,
            "A bill with this merchant reference already exists.",
            400,
            {"merchant_reference": ["bill with this merchant reference already exists."]},
        )
    message = (
        "Payment bill successfully created. The client has to validate it to complete the "
        f"payment. Code : {bill.code}"
    )
    return envelope({"code": bill.code, "reference": None}, message), 200


@_requires_token
@_fields_with_pin
def bill_check(data: dict[str, Any]) -> ResponseReturnValue:
    errors: FieldErrors = {}
    bill_code = _text(data, "bill_code", errors, max_length=64)
    merchant_reference = _text(data, "merchant_reference", errors, max_length=64)
    if errors or bill_code is None or merchant_reference is None:
        return refused(INVALID, "Invalid request.", 400, errors)
    bill = get_state().find_bill(bill_code=bill_code, merchant_reference=merchant_reference)
    if bill is None:
        return refused(NOT_FOUND, "Bill not found.", 404)
    return envelope(check_object(bill), "Done"), 200


# v2 bodies on both prefixes: ``api/v1/`` is where ihela-sdk 0.4.0 sends them.
for _prefix in ("/api/v2", "/api/v1"):
    _route(f"{_prefix}/payments/bill-init/", bill_init, ["POST"])
    _route(f"{_prefix}/payments/bill-check/", bill_check, ["POST"])


# -- banks ---------------------------------------------------------------------------------


@_requires_token
def list_banks(which: str = "all") -> ResponseReturnValue:
    banks = _bank_list(which)
    return envelope({"objects": banks, "count": len(banks)}), 200


_route("/api/v2/payments/bank/", list_banks, ["GET"])
# The money-in and money-out lists are ihela-sdk 0.4.0's: v2 envelopes on both prefixes.
for _prefix in ("/api/v2", "/api/v1"):
    _route(f"{_prefix}/payments/bank/<any(cashin, cashout):which>/", list_banks, ["GET"])


@_requires_token
def lookup_account(slug: str) -> ResponseReturnValue:
    bank = find_bank(slug)
    if bank is None:
        return refused(NOT_FOUND, f"No bank with slug {slug}.", 404)
    if not bank.is_active:
        return refused(INVALID, f"{bank.name} is not active.", 400)
    if not bank.has_lookup:
        return refused("07", f"Account lookup is not available for {bank.name}.", 503)
    identifier = (
        request.args.get("account_number") or request.args.get("customer_id") or ""
    ).strip()
    if not identifier:
        return refused(INVALID, "Invalid request.", 400, {"account_number": ["Required."]})
    account = find_customer_account(bank, identifier)
    if account is None:
        return refused(NOT_FOUND, f"No account {identifier} at {bank.name}.", 404)
    data = {
        "account_number": account.number,
        "customer_id": account.customer_id,
        "name": account.holder,
        "html": None,
    }
    return envelope(data), 200


_route("/api/v2/bank/<slug>/account/lookup/", lookup_account, ["GET"])


# -- cash-in and operation status ----------------------------------------------------------


@_requires_token
@_fields_with_pin
def cash_in(data: dict[str, Any]) -> ResponseReturnValue:
    errors: FieldErrors = {}
    _text(data, "credit_account_holder", errors, max_length=255)
    fields = cashin_fields(data, errors, bank="credit_bank", account="credit_account")
    if fields is None:
        return refused(INVALID, "Invalid request.", 400, errors)
    bank_slug, account_number, amount, merchant_reference, description = fields
    bank, refusal = cashin_refusal(bank_slug, account_number, amount)
    if bank is None or refusal:
        return refused(INVALID, refusal)
    try:
        cashin = get_state().record_cashin(
            merchant_reference=merchant_reference,
            bank_slug=bank.slug,
            account=account_number,
            amount=amount,
            description=description,
            numeric_reference=True,
        )
    except DuplicateReference:
        return refused(
            DUPLICATE, f"A cash-in with merchant reference {merchant_reference} already exists."
        )
    reply = {
        "reference": cashin.reference,
        "bank_reference": cashin.reference[-6:],
        "pending_id": int(cashin.reference[-4:]),
        "date": isoformat(cashin.received_at),
        "is_partial": False,
    }
    message = f"Transaction successfully done. Reference: {cashin.reference} >> {bank.name}"
    return envelope(reply, message), 200


_BILL_OUTCOME = {
    INITIATED: "Pending",
    PAID: "Success",
    EXPIRED: "Failed",
    CANCELLED: "Failed",
    ERROR: "Failed",
}


@_requires_token
@_fields_with_pin
def operation_status(data: dict[str, Any]) -> ResponseReturnValue:
    return _status_of(data)


@_requires_token
def transaction_status() -> ResponseReturnValue:
    """ihela-sdk 0.4.0's only status lookup: ``{external_reference, reference}``, no PIN."""
    try:
        data = _request_fields()
    except _BadBody as bad:
        return refused(INVALID, "Invalid request.", 400, bad.reply)
    return _status_of(data)


def _status_of(data: dict[str, Any]) -> ResponseReturnValue:
    errors: FieldErrors = {}
    reference = _text(data, "external_reference", errors, max_length=64)
    if errors or reference is None:
        return refused(INVALID, "Invalid request.", 400, errors)
    state = get_state()
    cashin = state.find_cashin(reference)
    if cashin is not None:
        return envelope(
            {
                "external_reference": reference,
                "reference": cashin.reference,
                "status": "Success",
                "amount": amount_text(cashin.amount),
                "date": isoformat(cashin.received_at),
            }
        ), 200
    bill = state.find_bill_by_reference(reference)
    if bill is not None:
        return envelope(
            {
                "external_reference": reference,
                "reference": bill.payment_reference or bill.code,
                "status": _BILL_OUTCOME[bill.status],
                "amount": amount_text(bill.amount),
                "date": isoformat(bill.settled_at or bill.created_at),
            }
        ), 200
    return refused(NOT_FOUND, "No operation with this reference.", 404)


def _is_v2_body() -> bool:
    """ihela-sdk 0.4.0 posts v2 JSON (``credit_bank`` ...) where 0.0.x posts v1 form fields."""
    if not request.is_json:
        return False
    data = request.get_json(silent=True)
    v2_names = {"credit_bank", "credit_account", "credit_account_holder", "pin_code"}
    return isinstance(data, dict) and bool(v2_names & data.keys())


def cash_in_either() -> ResponseReturnValue:
    return cash_in() if _is_v2_body() else v1_cash_in()


_route("/api/v2/payments/cash-in/", cash_in, ["POST"])
_route("/api/v1/payments/cash-in/", cash_in_either, ["POST"])
_route("/api/v2/operations/status/", operation_status, ["POST"])
_route("/ihela/api/v1/transaction-status/", transaction_status, ["POST"])
